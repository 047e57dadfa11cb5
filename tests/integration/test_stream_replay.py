"""Replay: every stream consumer of the template, given the same batch twice, leaves the same state.

Batches are real: the table's own stream records produced by the app's flows (tests/support/stream_pump),
plus the consumer's DynamoDB samples in events/<function folder>/. State = every item and every email.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.support.aws import Stack, template
from tests.support.events import EVENTS_DIR, STAFF_CLAIMS, http_event, json_body
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


# The app's flows that write what consumers react to; add one when a feature adds a kind of record.
FLOWS: list[Callable[[Stack], None]] = [_referrer_and_clicks]


def _sample_records(function_id: str) -> list[dict[str, Any]]:
    folder = EVENTS_DIR / template().functions[function_id].code_uri.name
    records: list[dict[str, Any]] = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        event = json.loads(path.read_text())
        records += [r for r in event.get("Records", []) if r.get("eventSource") == "aws:dynamodb"]
    return records


def _state(stack: Stack) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    items = sorted(stack.items(), key=lambda i: (i["pk"], i["sk"]))
    return items, stack.sent_emails()


@pytest.mark.parametrize("trigger", consumers(), ids=lambda t: f"{t.function_id}.{t.event_id}")
def test_the_same_batch_twice_leaves_the_same_state(stack: Stack, trigger) -> None:
    pump = StreamPump(stack)
    for flow in FLOWS:
        flow(stack)
    records = [r for batch in batches(trigger, pump.new_records()) for r in batch]
    records += _sample_records(trigger.function_id)
    assert records, f"no flow or events/ sample gives {trigger.function_id} a record: add one"

    first = stack.invoke(trigger.function_id, {"Records": records})
    once = _state(stack)
    second = stack.invoke(trigger.function_id, {"Records": records})
    twice = _state(stack)

    assert second == first
    assert twice[1] == once[1], "a replay sent emails again"
    changed = [(a["pk"], a["sk"]) for a, b in zip(once[0], twice[0], strict=False) if a != b]
    assert twice[0] == once[0], f"a replay changed items: {changed or 'items added or removed'}"
