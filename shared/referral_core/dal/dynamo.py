"""A thin, typed wrapper over the low-level DynamoDB client for the single table.

Owns (de)serialisation (``Decimal`` never leaves this module: whole numbers come back as ``int``) and maps
SDK errors to domain errors: a failed condition -> :class:`ConditionFailed` (a 409 Conflict unless the
caller treats it as "already done"), throttling/timeouts -> :class:`~referral_core.errors.Unavailable`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError, ConnectTimeoutError, ReadTimeoutError

from referral_core.dal.aws import client
from referral_core.errors import Conflict, Unavailable

Item = dict[str, Any]

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()

_RETRYABLE = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
    "TransactionConflictException",
    "TransactionInProgressException",
}


class ConditionFailed(Conflict):
    """A conditional write did not happen. ``reasons`` has one code per transaction item ("None" = ok)."""

    def __init__(self, message: str = "the record changed or already exists", *,
                 reasons: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.reasons = list(reasons)

    def failed_index(self) -> int | None:
        for index, reason in enumerate(self.reasons):
            if reason == "ConditionalCheckFailed":
                return index
        return None


def _to_dynamo(value: Any) -> Any:
    if isinstance(value, float):
        return Decimal(str(value))
    if isinstance(value, dict):
        return {k: _to_dynamo(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_to_dynamo(v) for v in value]
    if isinstance(value, set | frozenset) and not value:
        return None
    return value


def _from_dynamo(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    if isinstance(value, dict):
        return {k: _from_dynamo(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_dynamo(v) for v in value]
    if isinstance(value, set):
        return {_from_dynamo(v) for v in value}
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_to_dynamo(v)) for k, v in item.items() if v is not None}


def deserialize(raw: Mapping[str, Any]) -> Item:
    return {k: _from_dynamo(_deserializer.deserialize(v)) for k, v in raw.items()}


def plain(value: Any) -> Any:
    """Convert a value that came from a stream image or elsewhere (Decimals) to plain Python."""
    return _from_dynamo(value)


def _values(values: Mapping[str, Any] | None) -> dict[str, Any] | None:
    return serialize(values) if values else None


def _client_error(response: Mapping[str, Any]) -> Exception | None:
    code = str(response.get("Error", {}).get("Code", ""))
    if code == "ConditionalCheckFailedException":
        return ConditionFailed()
    if code == "TransactionCanceledException":
        reasons = [r.get("Code", "None") for r in response.get("CancellationReasons", [])]
        if "ConditionalCheckFailed" in reasons:
            return ConditionFailed(reasons=reasons)
        return Unavailable("the database is busy, please retry", retry_after=1)
    if code in _RETRYABLE:
        return Unavailable("the database is busy, please retry", retry_after=1)
    return None


def translate(exc: Exception) -> Exception:
    """Map an SDK exception to a domain error (returned, so the caller can ``raise ... from exc``)."""
    mapped: Exception | None = None
    if isinstance(exc, ClientError):
        mapped = _client_error(exc.response)
    elif isinstance(exc, ConnectTimeoutError | ReadTimeoutError | BotoCoreError):
        mapped = Unavailable("the database did not answer in time, please retry", retry_after=1)
    return mapped or exc


@dataclass(frozen=True)
class Put:
    item: Item
    condition: str | None = None
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Update:
    key: Mapping[str, str]
    expression: str
    condition: str | None = None
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class ConditionCheck:
    key: Mapping[str, str]
    condition: str
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Delete:
    key: Mapping[str, str]
    condition: str | None = None
    names: Mapping[str, str] | None = None
    values: Mapping[str, Any] | None = None


@dataclass
class Page:
    items: list[Item] = field(default_factory=list)
    last_key: dict[str, Any] | None = None
    scanned: int = 0  # items read before any FilterExpression (what the page cost)


def _opt(**kwargs: Any) -> dict[str, Any]:
    return {k: v for k, v in kwargs.items() if v is not None}


class Table:
    """The single table. All methods raise domain errors, never botocore's."""

    def __init__(self, name: str, dynamodb: Any | None = None) -> None:
        self.name = name
        self._client = dynamodb

    @property
    def client(self) -> Any:
        if self._client is None:
            self._client = client("dynamodb")
        return self._client

    # -- single items ----------------------------------------------------------------------------
    def get(self, pk: str, sk: str, *, consistent: bool = False) -> Item | None:
        try:
            out = self.client.get_item(TableName=self.name, Key=serialize({"pk": pk, "sk": sk}),
                                       ConsistentRead=consistent)
        except Exception as exc:
            raise translate(exc) from exc
        raw = out.get("Item")
        return deserialize(raw) if raw else None

    def put(self, item: Item, *, condition: str | None = None, names: Mapping[str, str] | None = None,
            values: Mapping[str, Any] | None = None) -> None:
        try:
            self.client.put_item(**_opt(
                TableName=self.name, Item=serialize(item), ConditionExpression=condition,
                ExpressionAttributeNames=dict(names) if names else None,
                ExpressionAttributeValues=_values(values)))
        except Exception as exc:
            raise translate(exc) from exc

    def update(self, pk: str, sk: str, expression: str, *, condition: str | None = None,
               names: Mapping[str, str] | None = None, values: Mapping[str, Any] | None = None,
               return_new: bool = False) -> Item | None:
        try:
            out = self.client.update_item(**_opt(
                TableName=self.name, Key=serialize({"pk": pk, "sk": sk}), UpdateExpression=expression,
                ConditionExpression=condition, ExpressionAttributeNames=dict(names) if names else None,
                ExpressionAttributeValues=_values(values),
                ReturnValues="ALL_NEW" if return_new else None))
        except Exception as exc:
            raise translate(exc) from exc
        raw = out.get("Attributes")
        return deserialize(raw) if raw else None

    def delete(self, pk: str, sk: str) -> None:
        try:
            self.client.delete_item(TableName=self.name, Key=serialize({"pk": pk, "sk": sk}))
        except Exception as exc:
            raise translate(exc) from exc

    # -- many items ------------------------------------------------------------------------------
    def query(self, key_condition: str, values: Mapping[str, Any], *, index: str | None = None,
              names: Mapping[str, str] | None = None, filter_expression: str | None = None,
              limit: int | None = None, newest_first: bool = False,
              start_key: Mapping[str, Any] | None = None, consistent: bool = False) -> Page:
        try:
            out = self.client.query(**_opt(
                TableName=self.name, IndexName=index, KeyConditionExpression=key_condition,
                ExpressionAttributeValues=serialize(values),
                ExpressionAttributeNames=dict(names) if names else None,
                FilterExpression=filter_expression, Limit=limit,
                ScanIndexForward=False if newest_first else None,
                ExclusiveStartKey=serialize(start_key) if start_key else None,
                ConsistentRead=True if consistent else None))
        except Exception as exc:
            raise translate(exc) from exc
        last = out.get("LastEvaluatedKey")
        return Page(items=[deserialize(i) for i in out.get("Items", [])],
                    last_key=deserialize(last) if last else None, scanned=out.get("ScannedCount", 0))

    def count(self, key_condition: str, values: Mapping[str, Any], *, index: str | None = None,
              cap: int) -> tuple[int, bool]:
        """How many items match (Query with ``Select=COUNT``), reading at most about ``cap`` of them:
        ``(count, capped)``, ``capped`` when it stopped at the cap with more to count."""
        counted, start = 0, None
        while True:
            try:
                out = self.client.query(**_opt(
                    TableName=self.name, IndexName=index, KeyConditionExpression=key_condition,
                    ExpressionAttributeValues=serialize(values), Select="COUNT", Limit=cap - counted,
                    ExclusiveStartKey=start))
            except Exception as exc:
                raise translate(exc) from exc
            counted += int(out.get("Count", 0))
            start = out.get("LastEvaluatedKey")
            if not start:
                return counted, False
            if counted >= cap:
                return counted, True

    def query_all(self, key_condition: str, values: Mapping[str, Any], **kwargs: Any) -> Iterator[Item]:
        start: Mapping[str, Any] | None = None
        while True:
            page = self.query(key_condition, values, start_key=start, **kwargs)
            yield from page.items
            if not page.last_key:
                return
            start = page.last_key

    def partition(self, pk: str, *, sk_prefix: str | None = None, consistent: bool = False) -> list[Item]:
        if sk_prefix is None:
            return list(self.query_all("pk = :pk", {":pk": pk}, consistent=consistent))
        return list(self.query_all("pk = :pk AND begins_with(sk, :prefix)",
                                   {":pk": pk, ":prefix": sk_prefix}, consistent=consistent))

    def batch_get(self, keys: Sequence[tuple[str, str]]) -> list[Item]:
        items: list[Item] = []
        pending = [serialize({"pk": pk, "sk": sk}) for pk, sk in dict.fromkeys(keys)]
        while pending:
            chunk, pending = pending[:100], pending[100:]
            request: dict[str, Any] = {self.name: {"Keys": chunk}}
            for _ in range(5):
                try:
                    out = self.client.batch_get_item(RequestItems=request)
                except Exception as exc:
                    raise translate(exc) from exc
                items.extend(deserialize(i) for i in out.get("Responses", {}).get(self.name, []))
                request = out.get("UnprocessedKeys") or {}
                if not request:
                    break
            else:
                raise Unavailable("the database is busy, please retry", retry_after=1)
        return items

    def transact(self, operations: Sequence[Put | Update | ConditionCheck | Delete]) -> None:
        """All-or-nothing write of up to 100 operations; ConditionFailed.reasons tells which failed."""
        items: list[dict[str, Any]] = []
        for op in operations:
            common = _opt(TableName=self.name, ConditionExpression=op.condition,
                          ExpressionAttributeNames=dict(op.names) if op.names else None,
                          ExpressionAttributeValues=_values(op.values))
            if isinstance(op, Put):
                items.append({"Put": {**common, "Item": serialize(op.item)}})
            elif isinstance(op, Update):
                items.append({"Update": {**common, "Key": serialize(op.key),
                                         "UpdateExpression": op.expression}})
            elif isinstance(op, ConditionCheck):
                items.append({"ConditionCheck": {**common, "Key": serialize(op.key)}})
            else:
                items.append({"Delete": {**common, "Key": serialize(op.key)}})
        try:
            self.client.transact_write_items(TransactItems=items)
        except Exception as exc:
            raise translate(exc) from exc
