"""Helpers for lead capture and lead-check tests: events from events/capture_lead and
events/check_duplicates, varied per scenario."""

from __future__ import annotations

import copy
import json
from typing import Any
from urllib.parse import urlencode

from tests.support.events import STAFF_CLAIMS, http_event, json_body, load_event, stream_event, stream_record

CAPTURE = "CaptureLeadFunction"
CHECK = "check_duplicates"
ADMIN = "StaffAdminFunction"
FORM = "application/x-www-form-urlencoded"


def lead_body(**changes: Any) -> dict[str, Any]:
    """The JSON body of events/capture_lead/post_lead_json.json with ``changes`` (None removes a field)."""
    body = json.loads(load_event("capture_lead/post_lead_json.json")["body"])
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post_lead(stack: Any, body: dict[str, Any] | None = None, *, headers: dict[str, str] | None = None,
              source_ip: str = "203.0.113.7", raw_body: str | bytes | None = None) -> dict[str, Any]:
    event = load_event("capture_lead/post_lead_json.json")
    if raw_body is not None:
        event = http_event("POST", "/leads", raw_body=raw_body, headers=headers, source_ip=source_ip)
    else:
        event["body"] = json.dumps(body if body is not None else lead_body())
        event["headers"].update({k.lower(): v for k, v in (headers or {}).items()})
        event["requestContext"]["http"]["sourceIp"] = source_ip
    return stack.invoke(CAPTURE, event)


def form_fields(**changes: str | None) -> dict[str, str]:
    """The fields of events/capture_lead/post_lead_form.json with ``changes`` (None removes a field)."""
    fields = dict(_parse_form(load_event("capture_lead/post_lead_form.json")["body"]))
    fields.update({k: v for k, v in changes.items() if v is not None})
    return {k: v for k, v in fields.items() if changes.get(k, "") is not None}


def post_form(stack: Any, fields: dict[str, str]) -> dict[str, Any]:
    event = load_event("capture_lead/post_lead_form.json")
    event["body"] = urlencode(fields)
    return stack.invoke(CAPTURE, event)


def _parse_form(body: str) -> list[tuple[str, str]]:
    from urllib.parse import parse_qsl

    return parse_qsl(body, keep_blank_values=True)


def create_referrer(stack: Any, name: str = "Jo Referrer", email: str = "jo@example.com",
                    phone: str | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {"name": name, "email": email}
    if phone:
        body["phone"] = phone
    response = stack.invoke(ADMIN, http_event("POST", "/admin/referrers", body=body, claims=STAFF_CLAIMS))
    assert response["statusCode"] == 201, response
    return json_body(response)


def update_code(stack: Any, code: str, **attributes: Any) -> None:
    """Change a stored share code as another feature (share-code tools, staff) would."""
    from referral_core.dal.dynamo import serialize

    stack.dynamodb.update_item(
        TableName=stack.table_name, Key=serialize({"pk": f"CODE#{code}", "sk": "CODE"}),
        UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in attributes),
        ExpressionAttributeNames={f"#{k}": k for k in attributes},
        ExpressionAttributeValues=serialize({f":{k}": v for k, v in attributes.items()}))


def put_item(stack: Any, item: dict[str, Any]) -> None:
    """Write an item another feature owns (e.g. a job's contact index entry)."""
    from referral_core.dal.dynamo import serialize

    stack.dynamodb.put_item(TableName=stack.table_name, Item=serialize(item))


def lead_items(stack: Any) -> list[dict[str, Any]]:
    return sorted(stack.items_of_type("lead"), key=lambda item: item["lead_id"])


def lead_insert_event(*leads: dict[str, Any]) -> dict[str, Any]:
    """A stream batch of lead INSERTs (sequence numbers 1, 2, ... for batchItemFailures)."""
    return stream_event(*(stream_record("INSERT", new=copy.deepcopy(lead), sequence=str(index))
                          for index, lead in enumerate(leads, start=1)))


def run_checks(stack: Any, *leads: dict[str, Any]) -> dict[str, Any]:
    return stack.consume(CHECK, lead_insert_event(*leads))  # type: ignore[no-any-return]


def flags_of(stack: Any, lead_id: str) -> dict[str, dict[str, Any]]:
    return {f["flag_type"]: f for f in stack.items_of_type("flag") if f["lead_id"] == lead_id}


class DynamoCalls:
    """Counts DynamoDB API calls made through the app's client (a botocore ``before-call`` hook)."""

    def __init__(self) -> None:
        from referral_core.dal.aws import client

        self.operations: list[str] = []
        client("dynamodb").meta.events.register("before-call.dynamodb", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        self.operations.append(model.name)

    def reset(self) -> None:
        self.operations.clear()

    @property
    def count(self) -> int:
        return len(self.operations)
