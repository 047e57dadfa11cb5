"""Watch and break the app's DynamoDB client with botocore event hooks (bench/ and reliability tests).

``DynamoCalls`` records every call (``before-parameter-build``: the API parameters, ``after-call``: the
parsed response and the time between the two), so callers can count calls per request, writes per
partition key, items read, estimated capacity units and the time spent in DynamoDB calls. ``Fault``
makes the n-th call fail: ``persistent`` raises at ``before-call`` (the SDK does not retry it: the app sees
the error), ``transient`` fails only the first HTTP attempt at ``before-send``, before DynamoDB applies it
(the SDK retries it). Not simulated: a write applied whose answer is lost (moto ignores ClientRequestToken).
"""

from __future__ import annotations

import json
import math
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal

from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ReadTimeoutError

WRITE_OPERATIONS = {"PutItem", "UpdateItem", "DeleteItem", "TransactWriteItems", "BatchWriteItem"}
FaultKind = Literal["ThrottlingException", "ProvisionedThroughputExceededException", "ReadTimeoutError",
                    "ConditionalCheckFailed"]
FAULT_KINDS: tuple[FaultKind, ...] = ("ThrottlingException", "ProvisionedThroughputExceededException",
                                      "ReadTimeoutError", "ConditionalCheckFailed")


def app_client() -> Any:
    """The DynamoDB client the app's Table uses (cached per container by referral_core.dal.aws)."""
    from referral_core.dal.aws import client

    return client("dynamodb")


@dataclass
class Call:
    operation: str
    params: dict[str, Any]
    response: dict[str, Any] | None = None
    started: float = field(default_factory=time.perf_counter)
    seconds: float = 0.0  # parameters built to response parsed: the SDK's work and the service's


@dataclass
class DynamoCalls:
    """Calls seen on one client; ``gsi_keys`` are the (hash, range) attribute names of the table's GSIs."""

    gsi_keys: tuple[tuple[str, str], ...] = ()
    calls: list[Call] = field(default_factory=list)

    def _before(self, model: Any, params: dict[str, Any], **_: Any) -> None:
        self.calls.append(Call(model.name, params))

    def _after(self, model: Any, parsed: dict[str, Any], **_: Any) -> None:
        for call in reversed(self.calls):
            if call.operation == model.name and call.response is None:
                call.response = parsed
                call.seconds = time.perf_counter() - call.started
                return

    def clear(self) -> None:
        self.calls.clear()

    def operations(self) -> Counter[str]:
        return Counter(c.operation for c in self.calls)

    def summary(self) -> str:
        """``GetItem x1 + PutItem x1`` style, in call order."""
        counts = Counter(c.operation for c in self.calls)
        return " + ".join(f"{op} x{n}" for op, n in counts.items()) or "none"

    def seconds(self) -> float:
        """Time spent in the recorded calls (SDK serialisation and parsing included)."""
        return sum(c.seconds for c in self.calls)

    def items_read(self) -> int:
        """Items DynamoDB read (and bills) for the recorded calls: ScannedCount for queries."""
        total = 0
        for call in self.calls:
            r = call.response or {}
            if call.operation == "GetItem":
                total += 1 if r.get("Item") else 0
            elif call.operation == "Query":
                total += int(r.get("ScannedCount", r.get("Count", 0)))
            elif call.operation in ("BatchGetItem",):
                total += sum(len(v) for v in r.get("Responses", {}).values())
            elif call.operation == "TransactGetItems":
                total += len(r.get("Responses", []))
        return total

    def capacity(self) -> tuple[float, float]:
        """Estimated (read request units, write request units) under on-demand billing."""
        rru = wru = 0.0
        for call in self.calls:
            r, w = _units(call, self.gsi_keys)
            rru += r
            wru += w
        return rru, wru


def _size(value: dict[str, Any]) -> int:
    """Bytes of one AttributeValue (DynamoDB's item size rules, close enough for billing estimates)."""
    ((kind, v),) = value.items()
    if kind == "S":
        return len(v.encode())
    if kind == "N":
        return math.ceil(len(v.lstrip("-").replace(".", "").strip("0") or "0") / 2) + 1
    if kind == "B":
        return len(v)
    if kind in ("BOOL", "NULL"):
        return 1
    if kind in ("SS", "NS", "BS"):
        return sum(_size({kind[0]: e}) for e in v)
    if kind == "L":
        return 3 + sum(1 + _size(e) for e in v)
    return 3 + sum(1 + len(k.encode()) + _size(e) for k, e in v.items())  # M


def item_size(item: dict[str, Any]) -> int:
    return sum(len(name.encode()) + _size(value) for name, value in item.items())


def _write_units(item: dict[str, Any] | None, gsi_keys: tuple[tuple[str, str], ...], names: set[str]) -> float:
    size_units = math.ceil(item_size(item) / 1024) if item else 1
    indexes = sum(1 for h, _ in gsi_keys if (item and h in item) or h in names)
    return float(size_units * (1 + indexes))


def _update_names(op: dict[str, Any]) -> set[str]:
    aliases = op.get("ExpressionAttributeNames") or {}
    expression = op.get("UpdateExpression", "")
    return {name for alias, name in aliases.items() if alias in expression} | {
        token for token in expression.replace(",", " ").replace("=", " ").split() if token.isidentifier()}


def _units(call: Call, gsi_keys: tuple[tuple[str, str], ...]) -> tuple[float, float]:
    p, r = call.params, call.response or {}
    strong = 1.0 if p.get("ConsistentRead") else 0.5
    if call.operation == "GetItem":
        return strong * max(1, math.ceil(item_size(r.get("Item") or {}) / 4096)), 0.0
    if call.operation == "Query":
        size = sum(item_size(i) for i in r.get("Items", []))
        scanned = int(r.get("ScannedCount", r.get("Count", 0)))
        return strong * max(1, math.ceil(size / 4096), 0 if scanned else 1), 0.0
    if call.operation == "BatchGetItem":
        items = [i for v in r.get("Responses", {}).values() for i in v]
        return sum(strong * max(1, math.ceil(item_size(i) / 4096)) for i in items), 0.0
    if call.operation == "PutItem":
        return 0.0, _write_units(p["Item"], gsi_keys, set())
    if call.operation == "UpdateItem":
        return 0.0, _write_units(None, gsi_keys, _update_names(p))
    if call.operation == "DeleteItem":
        return 0.0, _write_units(None, gsi_keys, set())
    if call.operation == "TransactWriteItems":
        units = 0.0
        for entry in p["TransactItems"]:
            ((kind, op),) = entry.items()
            if kind == "Put":
                units += _write_units(op["Item"], gsi_keys, set())
            elif kind == "Update":
                units += _write_units(None, gsi_keys, _update_names(op))
            else:  # ConditionCheck and Delete bill like a write of a small item
                units += 1
        return 0.0, 2 * units
    if call.operation == "TransactGetItems":
        return 2.0 * len(r.get("Responses", [])), 0.0
    if call.operation == "BatchWriteItem":
        return 0.0, sum(_write_units(req.get("PutRequest", {}).get("Item"), gsi_keys, set())
                        for reqs in p["RequestItems"].values() for req in reqs)
    return 0.0, 0.0


@contextmanager
def watch(client: Any | None = None, gsi_keys: tuple[tuple[str, str], ...] = ()) -> Iterator[DynamoCalls]:
    """Record the calls made on ``client`` (default: the app's) while the block runs."""
    client = client or app_client()
    calls = DynamoCalls(gsi_keys)
    client.meta.events.register("before-parameter-build.dynamodb", calls._before)
    client.meta.events.register("after-call.dynamodb", calls._after)
    try:
        yield calls
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", calls._before)
        client.meta.events.unregister("after-call.dynamodb", calls._after)


# --------------------------------------------------------------------------------------------- faults


def _client_error(code: str, operation: str, params: dict[str, Any]) -> ClientError:
    response: dict[str, Any] = {"Error": {"Code": code, "Message": f"injected {code}"},
                                "ResponseMetadata": {"HTTPStatusCode": 400}}
    if code == "TransactionCanceledException":
        reasons = [{"Code": "ConditionalCheckFailed" if next(iter(e.values())).get("ConditionExpression")
                    else "None"} for e in params["TransactItems"]]
        first = next(i for i, r in enumerate(reasons) if r["Code"] != "None")
        reasons = [r if i == first else {"Code": "None"} for i, r in enumerate(reasons)]
        response["CancellationReasons"] = reasons
        response["Error"]["Message"] = "Transaction cancelled [injected]"
    return ClientError(response, operation)


def is_conditional(call: Call) -> bool:
    """Whether a ConditionalCheckFailed can happen on this call."""
    if call.operation == "TransactWriteItems":
        return any(next(iter(e.values())).get("ConditionExpression") for e in call.params["TransactItems"])
    return call.operation in WRITE_OPERATIONS and bool(call.params.get("ConditionExpression"))


def error_for(kind: FaultKind, operation: str, params: dict[str, Any]) -> Exception:
    if kind == "ReadTimeoutError":
        return ReadTimeoutError(endpoint_url="https://dynamodb.us-east-1.amazonaws.com/")
    if kind == "ConditionalCheckFailed":
        code = "TransactionCanceledException" if operation == "TransactWriteItems" else \
            "ConditionalCheckFailedException"
        return _client_error(code, operation, params)
    return _client_error(kind, operation, params)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@dataclass
class Fault:
    """Fail call number ``at`` (1-based) of the app's DynamoDB client with ``kind``."""

    kind: FaultKind
    at: int
    transient: bool = False
    seen: int = 0
    fired: bool = False
    _armed: bool = False

    def _keep_params(self, params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        context["fault_api_params"] = params

    def _before_call(self, model: Any, context: dict[str, Any], **_: Any) -> None:
        self.seen += 1
        if self.seen != self.at:
            return
        if self.transient:
            self._armed = True
            return
        self.fired = True
        raise error_for(self.kind, model.name, context["fault_api_params"])

    def _before_send(self, request: Any, **_: Any) -> AWSResponse | None:
        if not self._armed:
            return None
        self._armed, self.fired = False, True
        if self.kind == "ReadTimeoutError":
            raise ReadTimeoutError(endpoint_url=request.url)
        body = json.dumps({"__type": f"com.amazonaws.dynamodb.v20120810#{self.kind}",
                           "message": "injected"}).encode()
        # Every before-send handler runs: moto's must not apply this attempt (a throttled write never
        # happens), and it ignores hosts outside amazonaws.com.
        request.url = "https://fault-injected.invalid/"
        return AWSResponse(request.url, 400, {"content-type": "application/x-amz-json-1.0"}, _Raw(body))


@contextmanager
def inject(fault: Fault, client: Any | None = None) -> Iterator[Fault]:
    client = client or app_client()
    client.meta.events.register("before-parameter-build.dynamodb", fault._keep_params)
    client.meta.events.register("before-call.dynamodb", fault._before_call)
    client.meta.events.register_first("before-send.dynamodb", fault._before_send)
    try:
        yield fault
    finally:
        client.meta.events.unregister("before-parameter-build.dynamodb", fault._keep_params)
        client.meta.events.unregister("before-call.dynamodb", fault._before_call)
        client.meta.events.unregister("before-send.dynamodb", fault._before_send)
