"""What one AWS SDK call asks IAM for: the action, the resource ARN and DynamoDB's leading keys.

Standard library only: the local stack's workers (``python -I``, no repository on ``sys.path``) load this file
by path to record their calls, and the tests' recorder imports it. ``describe()`` turns an operation and its
parameters (as given to the botocore client) into the authorisation requests AWS makes for it:

- a DynamoDB transaction is authorised item by item, as the underlying ``PutItem``/``UpdateItem``/
  ``DeleteItem``/``GetItem`` or ``dynamodb:ConditionCheckItem`` (the DynamoDB guide, "Using IAM with
  DynamoDB transactions");
- ``dynamodb:LeadingKeys`` are the partition-key values of the items a call touches (``None`` when the call
  names none a table-level condition could judge: a Scan, or a Query on an index);
- SES ``SendEmail`` is authorised on the sending identity and on the configuration set;
- KMS calls on the key they name (``KeyId``: an ARN, a key id or an alias).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: botocore signing names whose IAM prefix differs.
IAM_PREFIX = {"email": "ses"}
#: SQS batch calls are authorised as the single-message action (there is no ``sqs:SendMessageBatch``
#: permission: IAM asks for ``sqs:SendMessage``; the Amazon SQS API reference, "SendMessageBatch").
_SQS_BATCH = {"SendMessageBatch": "SendMessage"}

_TRANSACT_WRITE = {"Put": "PutItem", "Update": "UpdateItem", "Delete": "DeleteItem",
                   "ConditionCheck": "ConditionCheckItem"}
_EQUALS = re.compile(r"(#?[\w.-]+)\s*=\s*(:[\w-]+)")
_ADDRESS = re.compile(r"<([^>]+)>")


@dataclass(frozen=True)
class Request:
    """One authorisation request: ``action`` on ``resource``, with the call's leading keys (DynamoDB)."""

    action: str
    resource: str
    leading_keys: tuple[str, ...] | None = None

    def as_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"action": self.action, "resource": self.resource}
        if self.leading_keys is not None:
            out["leading_keys"] = list(self.leading_keys)
        return out

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Request:
        keys = data.get("leading_keys")
        return cls(str(data["action"]), str(data["resource"]), None if keys is None else tuple(keys))


def _attr(value: Any) -> str:
    """The text of a low-level DynamoDB attribute value (``{"S": "REFERRER#1"}`` -> ``REFERRER#1``)."""
    if isinstance(value, Mapping) and len(value) == 1:
        return str(next(iter(value.values())))
    return str(value)


def _key_of(item: Mapping[str, Any] | None, hash_key: str | None) -> tuple[str, ...] | None:
    if not item or not hash_key or hash_key not in item:
        return None
    return (_attr(item[hash_key]),)


def _query_key(params: Mapping[str, Any], hash_key: str | None) -> tuple[str, ...] | None:
    names = params.get("ExpressionAttributeNames") or {}
    values = params.get("ExpressionAttributeValues") or {}
    for name, placeholder in _EQUALS.findall(str(params.get("KeyConditionExpression", ""))):
        if names.get(name, name) == hash_key and placeholder in values:
            return (_attr(values[placeholder]),)
    return None


class Describer:
    """Builds :class:`Request` lists for one account and region; ``hash_keys`` maps table names to their
    partition-key attribute (from the template's KeySchema)."""

    def __init__(self, *, region: str, account: str, hash_keys: Mapping[str, str] | None = None) -> None:
        self.region = region
        self.account = account
        self.hash_keys = dict(hash_keys or {})

    def arn(self, service: str, resource: str) -> str:
        return f"arn:aws:{service}:{self.region}:{self.account}:{resource}"

    def table_arn(self, table: str, index: str | None = None) -> str:
        base = table if table.startswith("arn:") else self.arn("dynamodb", f"table/{table}")
        return f"{base}/index/{index}" if index else base

    def describe(self, service: str, operation: str, params: Mapping[str, Any]) -> list[Request]:
        prefix = IAM_PREFIX.get(service, service)
        method = getattr(self, f"_{prefix.replace('-', '_')}", None)
        requests = method(operation, params) if method else None
        return requests if requests is not None else [Request(f"{prefix}:{operation}", "*")]

    # ------------------------------------------------------------------ services

    def _dynamodb(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        action = f"dynamodb:{operation}"
        if operation == "TransactWriteItems":
            out = []
            for entry in params.get("TransactItems") or []:
                ((kind, body),) = entry.items()
                table = str(body["TableName"])
                out.append(Request(f"dynamodb:{_TRANSACT_WRITE[kind]}", self.table_arn(table),
                                   _key_of(body.get("Key") or body.get("Item"), self.hash_keys.get(table))))
            return out
        if operation == "BatchGetItem":
            out = []
            for table, body in (params.get("RequestItems") or {}).items():
                keys = [_key_of(item, self.hash_keys.get(table)) for item in body.get("Keys") or []]
                leading = None if any(k is None for k in keys) else tuple(sorted({k[0] for k in keys if k}))
                out.append(Request(action, self.table_arn(table), leading))
            return out
        if not params.get("TableName"):
            return None
        table = str(params["TableName"])
        hash_key = self.hash_keys.get(table)
        index = params.get("IndexName")
        if operation in ("GetItem", "DeleteItem", "UpdateItem"):
            return [Request(action, self.table_arn(table), _key_of(params.get("Key"), hash_key))]
        if operation == "PutItem":
            return [Request(action, self.table_arn(table), _key_of(params.get("Item"), hash_key))]
        if operation == "Query":
            if index:
                return [Request(action, self.table_arn(table, str(index)))]
            return [Request(action, self.table_arn(table), _query_key(params, hash_key))]
        return [Request(action, self.table_arn(table, str(index) if index else None))]

    def _ssm(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        name = params.get("Name")
        if not name:
            return None
        return [Request(f"ssm:{operation}", self.arn("ssm", f"parameter/{str(name).lstrip('/')}"))]

    def _secretsmanager(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        secret = params.get("SecretId") or params.get("Name")  # CreateSecret names the secret it makes
        if not secret:
            return None
        secret = str(secret)
        return [Request(f"secretsmanager:{operation}",
                        secret if secret.startswith("arn:") else self.arn("secretsmanager", f"secret:{secret}"))]

    def _ses(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        source = str(params.get("Source") or "")
        if not source:
            return None
        found = _ADDRESS.search(source)
        identity = (found.group(1) if found else source).strip()
        out = [Request(f"ses:{operation}", self.arn("ses", f"identity/{identity}"))]
        if params.get("ConfigurationSetName"):
            out.append(Request(f"ses:{operation}",
                               self.arn("ses", f"configuration-set/{params['ConfigurationSetName']}")))
        return out

    def _events(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        if operation != "PutEvents":
            return None
        buses = {str(e.get("EventBusName") or "default") for e in params.get("Entries") or []} or {"default"}
        return [Request("events:PutEvents", bus if bus.startswith("arn:") else self.arn("events", f"event-bus/{bus}"))
                for bus in sorted(buses)]

    def _cognito_idp(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        pool = params.get("UserPoolId")  # the admin (signed) operations name their pool
        if not pool:
            return None
        return [Request(f"cognito-idp:{operation}", self.arn("cognito-idp", f"userpool/{pool}"))]

    def _kms(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        key = str(params.get("KeyId") or "")  # the app always names its key (a Decrypt too)
        if not key:
            return None
        if not key.startswith("arn:"):
            key = self.arn("kms", key if key.startswith("alias/") else f"key/{key}")
        return [Request(f"kms:{operation}", key)]

    def _sqs(self, operation: str, params: Mapping[str, Any]) -> list[Request] | None:
        url = str(params.get("QueueUrl") or "")
        if not url:
            return None
        action = _SQS_BATCH.get(operation, operation)
        return [Request(f"sqs:{action}", self.arn("sqs", url.rstrip("/").rsplit("/", 1)[-1]))]
