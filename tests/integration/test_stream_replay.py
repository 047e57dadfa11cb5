"""Replay: every stream consumer, given the same batch twice, leaves the same state; so does the stream's
reader given the same batch twice (every consumer at once, what a retried invocation does).

Batches are real: the table's own stream records produced by the app's flows (tests/support/stream_pump),
plus the consumer's DynamoDB samples in events/<consumer>/. State = every item and every email.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.aws import STREAM_READER, Stack
from tests.support.events import ADMIN_CLAIMS, EVENTS_DIR, STAFF_CLAIMS, http_event, json_body
from tests.support.stream_pump import StreamPump, batches, consumers

pytestmark = pytest.mark.integration


def _referrer_and_clicks(stack: Stack) -> None:
    for n in range(2):
        body = {"name": f"Jo {n}", "email": f"jo{n}@example.com", "phone": f"0412 345 67{n}"}
        code = json_body(stack.invoke("StaffAdminFunction", http_event("POST", "/admin/referrers", body=body,
                                                                       claims=STAFF_CLAIMS)))["code"]
        for ip in ("203.0.113.7", "203.0.113.8", "203.0.113.7"):
            stack.invoke("LinkRedirectFunction", http_event("GET", f"/r/{code}", route="/r/{code}",
                                                            path_params={"code": code}, source_ip=ip))


def _webhook_subscription(stack: Stack) -> None:
    """An outbound webhook for every event, so queue_webhooks writes deliveries (the samples' events)."""
    body = {"url": "https://hooks.example.com/referrals", "events": ["lead.received", "referral.accepted",
            "referral.dismissed", "reward.available", "withdrawal.paid"]}
    answer = stack.invoke("StaffAdminFunction", http_event("POST", "/admin/webhooks", route="/admin/{proxy+}",
                                                           body=body, claims=ADMIN_CLAIMS))
    assert answer["statusCode"] == 201


# The app's flows that write what consumers react to; add one when a feature adds a kind of record.
FLOWS: list[Callable[[Stack], None]] = [_referrer_and_clicks, _webhook_subscription]


def _sample_records(consumer: str) -> list[dict[str, Any]]:
    folder = EVENTS_DIR / consumer
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        event = json.loads(path.read_text())
        records += [r for r in event.get("Records", []) if r.get("eventSource") == "aws:dynamodb"]
    return records


def _state(stack: Stack) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = sorted(stack.items(), key=lambda i: (i["pk"], i["sk"]))
    return items, stack.sent_emails()


def _same_twice(stack: Stack, deliver: Callable[[], Any]) -> None:
    first = deliver()
    once = _state(stack)
    second = deliver()
    twice = _state(stack)

    assert second == first
    assert twice[1] == once[1], "a replay sent emails again"
    changed = [(a["pk"], a["sk"]) for a, b in zip(once[0], twice[0], strict=False) if a != b]
    assert twice[0] == once[0], f"a replay changed items: {changed or 'items added or removed'}"


@pytest.mark.parametrize("route", consumers(), ids=lambda r: r.name)
def test_the_same_batch_twice_leaves_the_same_state(stack: Stack, route) -> None:
    pump = StreamPump(stack)
    for flow in FLOWS:
        flow(stack)
    records = [r for batch in batches(route, pump.new_records()) for r in batch]
    records += _sample_records(route.name)
    assert records, f"no flow or events/ sample gives {route.name} a record: add one"
    _same_twice(stack, lambda: stack.consume(route.name, {"Records": records}))


def test_the_stream_reader_given_the_same_batch_twice_leaves_the_same_state(stack: Stack) -> None:
    pump = StreamPump(stack)
    for flow in FLOWS:
        flow(stack)
    records = pump.new_records()
    for route in consumers():
        records += _sample_records(route.name)
    _same_twice(stack, lambda: stack.invoke(STREAM_READER, {"Records": records}))
