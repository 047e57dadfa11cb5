"""The real local stack over HTTP: routes, authorizer, stream -> email, local tools."""

from __future__ import annotations

import json
import uuid

import pytest

from local.template import load_template
from local.testing import StackProcess

pytestmark = pytest.mark.e2e


def test_health_and_local_files(stack: StackProcess) -> None:
    assert stack.request("GET", "/_local/health").json() == {"ok": True}
    assert stack.webhook_secret.startswith("whsec_")
    assert stack.staff_token.count(".") == 2
    assert stack.viewer_token.count(".") == 2
    assert (stack.local_dir / "pepper").read_text() not in ("", "change-me-before-first-use")


def test_every_template_route_is_served(stack: StackProcess) -> None:
    template = load_template()
    served = {(r["route_key"], r["function"]) for r in stack.info()["routes"]}
    assert served == {(r.route_key, r.function_id) for r in template.routes()}
    consumers = stack.request("GET", "/_local/streams").json()["consumers"]
    assert {(c["function"], c["event"]) for c in consumers} == {
        (t.function_id, t.event_id) for t in [*template.stream_triggers(), *template.queue_triggers()]
    }


def test_unknown_route_is_404_like_api_gateway(stack: StackProcess) -> None:
    response = stack.request("GET", "/no/such/route")
    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer not-a-jwt"}, {"authorization": "Bearer a.b.c"}],
    ids=["missing", "garbage", "malformed"],
)
def test_staff_routes_need_a_valid_token(stack: StackProcess, headers: dict[str, str]) -> None:
    body = {"name": "X", "email": "x@example.com"}
    response = stack.request("POST", "/admin/referrers", body=body, headers=headers)
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


def test_non_staff_token_passes_the_authorizer_but_not_the_group_check(stack: StackProcess) -> None:
    response = stack.request(
        "POST",
        "/admin/referrers",
        body={"name": "Vee", "email": "vee@example.com"},
        headers={"authorization": f"Bearer {stack.viewer_token}"},
    )
    assert response.status == 403


def test_staff_creates_referrer_then_the_stream_sends_the_welcome_email(stack: StackProcess) -> None:
    # Given a new referrer created by staff
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    created = stack.request(
        "POST",
        "/admin/referrers",
        body={"name": "Ann Example", "email": email},
        headers={"authorization": f"Bearer {stack.staff_token}"},
    )
    assert created.status == 201, created.body
    code = created.json()["code"]
    # When the stream consumers have caught up
    stack.drain()
    # Then the welcome email is the newest in the outbox and the link redirects
    mails = [m for m in stack.outbox() if email in m["to"]]
    assert len(mails) == 1
    assert code in (mails[0]["text"] or "") + (mails[0]["html"] or "")
    redirect = stack.request("GET", f"/r/{code}")
    assert redirect.status == 302
    assert f"ref={code}" in redirect.headers["location"]


def test_tick_runs_scheduled_functions(stack: StackProcess) -> None:
    ran = stack.tick()
    functions = load_template().functions.values()
    scheduled = {f.logical_id for f in functions if f.schedules}
    assert {r["function"] for r in ran} == scheduled
    assert all(r["ok"] for r in ran)


def test_a_poison_click_is_parked_retried_and_given_up_while_a_good_one_is_counted(stack: StackProcess) -> None:
    """Through the local stack's own stream poller and SQS event source: a click for a share code that does
    not exist fails count_clicks; it is parked, retried from the FIFO queue, then sent to the on-failure
    queue, and a good click written with it is counted at once."""
    body = {"name": "Poison Test", "email": f"{uuid.uuid4().hex}@example.com"}
    created = stack.request("POST", "/admin/referrers", body=body,
                            headers={"authorization": f"Bearer {stack.staff_token}"})
    assert created.status == 201, created.body
    code = created.json()["code"]
    info = stack.info()
    dynamodb, sqs = stack.aws("dynamodb"), stack.aws("sqs")
    stack.drain(60)
    failures_url = info["queues"]["StreamFailureQueue"]

    def click(on_code: str) -> dict:
        click_id = uuid.uuid4().hex[:24]
        return {"pk": {"S": f"CLICK#{click_id}"}, "sk": {"S": "CLICK"}, "type": {"S": "click"},
                "click_id": {"S": click_id}, "code": {"S": on_code}, "referrer_id": {"S": "x"}, "src": {"S": "qr"},
                "placement": {"S": "poison-test"}, "visitor_hash": {"S": uuid.uuid4().hex},
                "clicked_epoch": {"N": "1795424400"}}

    table = info["tables"]["Table"]
    dynamodb.put_item(TableName=table, Item=click("NO-SUCH-CODE"))
    dynamodb.put_item(TableName=table, Item=click(code))
    stack.drain(60)

    stats = dynamodb.get_item(TableName=table, Key={"pk": {"S": f"STATS#{code}"}, "sk": {"S": "PLACEMENT#poison-test"}})
    assert stats["Item"]["clicks_qr"]["N"] == "1"
    messages = sqs.receive_message(QueueUrl=failures_url, MaxNumberOfMessages=10, VisibilityTimeout=0).get(
        "Messages", [])
    bodies = [json.loads(m["Body"]) for m in messages]
    given_up = [b for b in bodies if b.get("requestContext", {}).get("consumer") == "count_clicks"
                and b["record"]["dynamodb"]["NewImage"]["code"]["S"] == "NO-SUCH-CODE"]
    assert len(given_up) == 1
    waiting = dynamodb.get_item(TableName=table, Key={"pk": {"S": "STREAM#PARKED"}, "sk": {"S": "WAITING"}},
                                ConsistentRead=True).get("Item", {})
    assert "changes" not in waiting
    parked = next(c for c in stack.request("GET", "/_local/streams").json()["consumers"] if c["event"] == "Parked")
    assert parked["retries"] >= 2 and parked["errors"] == 0
