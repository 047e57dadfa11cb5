"""Builders for the events Lambda receives (API Gateway HTTP API v2.0, DynamoDB stream batches).

Scenario files in events/ are the canonical samples; these builders make variations of them.
"""

from __future__ import annotations

import base64
import json
import uuid
from pathlib import Path
from typing import Any

from boto3.dynamodb.types import TypeSerializer

EVENTS_DIR = Path(__file__).resolve().parents[2] / "events"
_ser = TypeSerializer()


def load_event(name: str) -> dict[str, Any]:
    """A sample from events/ (the same files feed ``sam local invoke -e``)."""
    return json.loads((EVENTS_DIR / name).read_text())


def http_event(method: str, path: str, *, route: str | None = None, body: Any = None,
               raw_body: str | bytes | None = None, headers: dict[str, str] | None = None,
               query: dict[str, str] | None = None, path_params: dict[str, str] | None = None,
               claims: dict[str, Any] | None = None, source_ip: str = "203.0.113.7",
               user_agent: str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
               host: str = "127.0.0.1:3000") -> dict[str, Any]:
    route_key = f"{method} {route or path}"
    all_headers = {"host": host, "user-agent": user_agent}
    if body is not None:
        all_headers["content-type"] = "application/json"
    all_headers.update({k.lower(): v for k, v in (headers or {}).items()})
    is_b64 = False
    payload: str | None
    if raw_body is not None:
        if isinstance(raw_body, bytes):
            payload, is_b64 = base64.b64encode(raw_body).decode(), True
        else:
            payload = raw_body
    else:
        payload = json.dumps(body) if body is not None else None
    request_context: dict[str, Any] = {
        "accountId": "123456789012", "apiId": "local", "domainName": host, "domainPrefix": "local",
        "http": {"method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": source_ip,
                 "userAgent": user_agent},
        "requestId": str(uuid.uuid4()), "routeKey": route_key, "stage": "$default",
        "time": "23/Nov/2026:09:00:00 +0000", "timeEpoch": 1795424400000,
    }
    if claims is not None:
        request_context["authorizer"] = {"jwt": {"claims": claims, "scopes": None}}
    from urllib.parse import urlencode

    return {
        "version": "2.0", "routeKey": route_key, "rawPath": path,
        "rawQueryString": urlencode(query or {}), "headers": all_headers,
        "queryStringParameters": query or None, "pathParameters": path_params or None,
        "requestContext": request_context, "body": payload, "isBase64Encoded": is_b64,
    }


# Claims as API Gateway passes them, one per role (referral_core.auth), plus a user in no role's group.
ADMIN_CLAIMS = {"sub": "admin-1", "email": "admin@example.com", "cognito:groups": "[admin]"}
STAFF_CLAIMS = {"sub": "staff-1", "email": "staff@example.com", "cognito:groups": "[staff]"}
VIEWER_CLAIMS = {"sub": "viewer-1", "email": "viewer@example.com", "cognito:groups": "[viewer]"}
NO_ROLE_CLAIMS = {"sub": "nobody-1", "email": "nobody@example.com"}


def _image(item: dict[str, Any] | None) -> dict[str, Any] | None:
    if item is None:
        return None
    return {k: _ser.serialize(v) for k, v in item.items()}


def stream_record(event_name: str, new: dict[str, Any] | None = None, old: dict[str, Any] | None = None,
                  sequence: str | None = None) -> dict[str, Any]:
    """One DynamoDB stream record (NEW_AND_OLD_IMAGES) as Lambda delivers it."""
    source = new or old or {}
    record: dict[str, Any] = {
        "eventID": uuid.uuid4().hex, "eventName": event_name, "eventVersion": "1.1",
        "eventSource": "aws:dynamodb", "awsRegion": "us-east-1",
        "eventSourceARN": "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/2026-11-23T00:00:00.000",
        "dynamodb": {
            "ApproximateCreationDateTime": 1795424400,
            "Keys": _image({"pk": source.get("pk"), "sk": source.get("sk")}),
            "SequenceNumber": sequence or str(uuid.uuid4().int)[:21],
            "SizeBytes": 100, "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    if new is not None:
        record["dynamodb"]["NewImage"] = _image(new)
    if old is not None:
        record["dynamodb"]["OldImage"] = _image(old)
    return record


def stream_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def json_body(response: dict[str, Any]) -> Any:
    return json.loads(response["body"])
