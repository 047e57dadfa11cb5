"""Outbound webhooks in-process on moto: staff subscribe an address, the table's stream turns the
programme's events into deliveries, the delivery function POSTs them signed (checked here with the
``standardwebhooks`` library, as a subscriber would), retries on the schedule, then keeps a failed
record staff can replay; secrets rotate, and addresses inside the network are refused."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3
import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from referral_core.clock import now, parse_iso
from referral_core.dal import outbound_http
from referral_core.dal.cursors import encode_cursor
from referral_core.dal.webhooks import deliveries_pk
from referral_core.services import outbound_webhooks
from tests.support.admin import seed_lead, seed_referrer
from tests.support.aws import REGION
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body, load_event
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"
DELIVER = "DeliverWebhooksFunction"


class Receiver:
    """A subscriber's endpoint on 127.0.0.1: records each request, answers the statuses it is given."""

    def __init__(self) -> None:
        self.requests: list[tuple[dict[str, str], bytes]] = []
        self.statuses: list[int] = []
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                receiver.requests.append(({k.lower(): v for k, v in self.headers.items()}, body))
                status = receiver.statuses.pop(0) if receiver.statuses else 200
                self.send_response(status)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hooks/referrals"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    opened = Receiver()
    yield opened
    opened.close()


def admin(stack, method: str, path: str, *, route: str, body: Any = None, claims=ADMIN_CLAIMS,
          query: dict[str, str] | None = None, path_params: dict[str, str] | None = None) -> dict:
    return stack.invoke(ADMIN, http_event(method, path, route=route, body=body, claims=claims, query=query,
                                          path_params=path_params))


def subscribe(stack, url: str, events: list[str]) -> dict:
    answer = admin(stack, "POST", "/admin/webhooks", route="/admin/{proxy+}",
                   body={"url": url, "events": events, "description": "CRM"})
    assert answer["statusCode"] == 201, answer["body"]
    return json_body(answer)


def deliveries(stack, webhook_id: str, **query: str) -> list[dict]:
    answer = admin(stack, "GET", f"/admin/webhooks/{webhook_id}/deliveries", route="/admin/{proxy+}",
                   query=query or None)
    assert answer["statusCode"] == 200, answer["body"]
    return json_body(answer)["items"]


def queue_url(stack) -> str:
    return str(stack.env["WEBHOOK_QUEUE_URL"])


def take_messages(stack) -> list[dict]:
    """The delivery queue's visible messages, removed from it (as the event source mapping does)."""
    sqs = boto3.client("sqs", region_name=REGION)
    out = sqs.receive_message(QueueUrl=queue_url(stack), MaxNumberOfMessages=10)
    messages = out.get("Messages", [])
    for m in messages:
        sqs.delete_message(QueueUrl=queue_url(stack), ReceiptHandle=m["ReceiptHandle"])
    return messages


def delayed(stack) -> int:
    attributes = boto3.client("sqs", region_name=REGION).get_queue_attributes(
        QueueUrl=queue_url(stack), AttributeNames=["ApproximateNumberOfMessagesDelayed"])["Attributes"]
    return int(attributes["ApproximateNumberOfMessagesDelayed"])


def run_deliveries(stack, bodies: list[str]) -> dict:
    event = {"Records": [{"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": body, "attributes": {},
                          "messageAttributes": {}, "eventSource": "aws:sqs",
                          "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:deliveries"}
                         for i, body in enumerate(bodies)]}
    response = stack.invoke(DELIVER, event)
    assert response == {"batchItemFailures": []}
    return response


def deliver_queued(stack) -> int:
    messages = take_messages(stack)
    if messages:
        run_deliveries(stack, [m["Body"] for m in messages])
    return len(messages)


def new_referral(stack) -> tuple[str, str]:
    referrer_id, code = seed_referrer(stack)
    pump = StreamPump(stack)
    pump.drain()  # the referrer's own records
    lead = seed_lead(stack, referrer_id=referrer_id, code=code, name="Joanne Customer",
                     email="joanne@customer.example")
    pump.dispatch(pump.new_records())
    return lead.lead_id, code


def test_a_new_referral_reaches_the_subscriber_signed(stack, receiver):
    # Given a subscription to new leads
    created = subscribe(stack, receiver.url, ["lead.received"])
    assert created["secret"].startswith("whsec_") and created["status"] == "active"

    # When a referred customer's lead arrives and the delivery function takes the queued message
    lead_id, code = new_referral(stack)
    assert deliver_queued(stack) == 1

    # Then the subscriber got it once, signed so the standardwebhooks library accepts it
    ((headers, body),) = receiver.requests
    payload = Webhook(created["secret"]).verify(body, headers)
    assert payload["type"] == "lead.received"
    assert payload["data"]["lead_id"] == lead_id and payload["data"]["ref"] == code
    assert headers["webhook-id"].startswith("msg_") and headers["user-agent"].startswith("referral-rewards")
    # ...with no contact details of the customer
    assert b"joanne@customer.example" not in body and b"Joanne Customer" not in body
    (delivery,) = deliveries(stack, created["webhook_id"])
    assert delivery["status"] == "delivered" and delivery["attempts"] == 1 and delivery["last_status_code"] == 200
    assert delivery["delivery_id"] == headers["webhook-id"]

    # And the secret is nowhere in the table (nor its stream images), nor in the list staff read
    assert created["secret"] not in json.dumps(stack.items(), default=str)
    listed = admin(stack, "GET", "/admin/webhooks", route="/admin/{proxy+}", claims=VIEWER_CLAIMS)
    assert listed["statusCode"] == 200 and created["secret"] not in listed["body"]
    assert [w["webhook_id"] for w in json_body(listed)["items"]] == [created["webhook_id"]]


def test_a_replayed_stream_record_delivers_nothing_twice(stack, receiver):
    created = subscribe(stack, receiver.url, ["lead.received"])
    referrer_id, code = seed_referrer(stack)
    pump = StreamPump(stack)
    pump.drain()
    seed_lead(stack, referrer_id=referrer_id, code=code)
    records = pump.new_records()
    pump.dispatch(records)
    assert deliver_queued(stack) == 1

    # The stream gives the same records again (a retried batch): no new delivery, no new message
    pump.dispatch(records)
    assert take_messages(stack) == []
    assert len(deliveries(stack, created["webhook_id"])) == 1 and len(receiver.requests) == 1

    # A duplicate queue message after the delivery does nothing either
    run_deliveries(stack, [json.dumps({"webhook_id": created["webhook_id"],
                                       "delivery_id": receiver.requests[0][0]["webhook-id"]})])
    assert len(receiver.requests) == 1


def test_only_subscribed_events_of_active_subscriptions_are_sent(stack, receiver):
    withdrawals_only = subscribe(stack, receiver.url, ["withdrawal.paid"])
    leads = subscribe(stack, receiver.url, ["lead.received"])
    disabled = admin(stack, "DELETE", f"/admin/webhooks/{leads['webhook_id']}", route="/admin/{proxy+}")
    assert disabled["statusCode"] == 200 and json_body(disabled)["status"] == "disabled"

    new_referral(stack)
    assert take_messages(stack) == []
    assert deliveries(stack, withdrawals_only["webhook_id"]) == deliveries(stack, leads["webhook_id"]) == []


def test_failures_retry_on_the_schedule_then_fail_and_staff_replay(stack, receiver, monkeypatch):
    created = subscribe(stack, receiver.url, ["lead.received"])
    new_referral(stack)
    (message,) = take_messages(stack)
    receiver.statuses = [500] * outbound_webhooks.MAX_ATTEMPTS

    # Each failed attempt schedules the next (a delayed message) at the schedule's distance
    moment = now()
    for attempt in range(1, outbound_webhooks.MAX_ATTEMPTS + 1):
        monkeypatch.setattr(outbound_webhooks, "now", lambda moment=moment: moment)
        run_deliveries(stack, [message["Body"]])
        (delivery,) = deliveries(stack, created["webhook_id"])
        assert delivery["attempts"] == attempt and delivery["last_status_code"] == 500
        if attempt < outbound_webhooks.MAX_ATTEMPTS:
            assert delivery["status"] == "retrying"
            wait = parse_iso(delivery["next_attempt_at"]) - moment
            assert wait == timedelta(seconds=outbound_webhooks.RETRY_SCHEDULE_S[attempt - 1])
            # a message that arrives early waits again and attempts nothing
            run_deliveries(stack, [message["Body"]])
            assert len(receiver.requests) == attempt
            moment += wait
    assert len(receiver.requests) == outbound_webhooks.MAX_ATTEMPTS
    assert delayed(stack) >= 1  # the retries went out as delayed messages

    # Then the delivery is the dead-letter record staff see
    (failed,) = deliveries(stack, created["webhook_id"], status="failed")
    assert failed["next_attempt_at"] is None

    # When staff replay it, it starts again from the first attempt, with the same webhook-id
    path = f"/admin/webhooks/{created['webhook_id']}/deliveries/{failed['delivery_id']}/replay"
    replayed = admin(stack, "POST", path, route="/admin/{proxy+}", claims=STAFF_CLAIMS)
    assert replayed["statusCode"] == 202 and json_body(replayed)["status"] == "pending"
    again = admin(stack, "POST", path, route="/admin/{proxy+}", claims=STAFF_CLAIMS)
    assert again["statusCode"] == 409  # still under way
    take_messages(stack)  # the retries' delayed messages are not due; the replay's is
    run_deliveries(stack, [json.dumps({"webhook_id": created["webhook_id"], "delivery_id": failed["delivery_id"]})])
    (done,) = deliveries(stack, created["webhook_id"])
    assert done["status"] == "delivered" and done["attempts"] == 1
    assert receiver.requests[-1][0]["webhook-id"] == failed["delivery_id"]
    audit = [i for i in stack.items() if i.get("type") == "audit" and i["action"] == "webhook.delivery_replayed"]
    assert [a["actor"] for a in audit] == ["staff:staff@example.com"]


def test_a_message_for_no_delivery_fails_alone_toward_the_dead_letter_queue(stack, receiver):
    # the sample event of events/deliver_webhooks/ (sam local invoke -e) names a delivery that does not exist
    event = load_event("deliver_webhooks/one_attempt.json")
    response = stack.invoke(DELIVER, event)
    assert response == {"batchItemFailures": [{"itemIdentifier": event["Records"][0]["messageId"]}]}
    assert receiver.requests == []


def test_a_rotated_secret_signs_beside_the_old_one_until_it_expires(stack, receiver, monkeypatch):
    created = subscribe(stack, receiver.url, ["lead.received"])
    rotated = admin(stack, "POST", f"/admin/webhooks/{created['webhook_id']}/rotate", route="/admin/{proxy+}")
    assert rotated["statusCode"] == 200
    fresh = json_body(rotated)
    assert fresh["secret"] != created["secret"]

    new_referral(stack)
    assert deliver_queued(stack) == 1
    headers, body = receiver.requests[-1]
    # a receiver still on the old secret and one already on the new both accept it
    Webhook(created["secret"]).verify(body, headers)
    Webhook(fresh["secret"]).verify(body, headers)

    # After the overlap only the new secret signs
    later = parse_iso(fresh["previous_secret_expires_at"]) + timedelta(minutes=1)
    assert outbound_webhooks.active_secrets({"current": "a", "previous": "b",
                                             "previous_expires_at": fresh["previous_secret_expires_at"]},
                                            later) == ["a"]
    listed = json_body(admin(stack, "GET", "/admin/webhooks", route="/admin/{proxy+}"))["items"]
    assert listed[0]["previous_secret_expires_at"] == fresh["previous_secret_expires_at"]
    with pytest.raises(WebhookVerificationError):
        Webhook(created["secret"]).verify(body, {**headers, "webhook-signature": headers["webhook-signature"]
                                                 .split()[0].replace("v1,", "v1,x")})


@pytest.mark.parametrize(("url", "why"), [
    ("http://hooks.example.com/x", "must start with https://"),
    ("https://127.0.0.1/x", "must be a public address"),
    ("https://169.254.169.254/latest/meta-data", "must be a public address"),
    ("https://[::1]/x", "must be a public address"),
    ("https://10.0.0.7/x", "must be a public address"),
    ("https://localhost/x", "must be a public address"),
    ("https://user:secret@hooks.example.com/x", "must not hold a user name or password"),
    ("ftp://hooks.example.com/x", "must start with https://"),
])
def test_addresses_inside_the_network_are_refused(stack, monkeypatch, url, why):
    # as deployed in AWS (the template's default; the tests' template, like the local stack's, says true)
    stack.env["WEBHOOK_ALLOW_PRIVATE_TARGETS"] = "false"
    monkeypatch.setenv("WEBHOOK_ALLOW_PRIVATE_TARGETS", "false")
    answer = admin(stack, "POST", "/admin/webhooks", route="/admin/{proxy+}",
                   body={"url": url, "events": ["lead.received"]})
    assert answer["statusCode"] == 422
    assert json_body(answer)["error"]["fields"] == {"url": why}
    assert [i for i in stack.items() if i.get("type") == "webhook"] == []


def test_a_name_that_resolves_inside_the_network_is_not_connected_to(receiver):
    # DNS rebinding: the name passed the check at registration, then resolves to a private address
    answer = outbound_http.post(receiver.url.replace("127.0.0.1", "localhost"), b"{}", {}, allow_private=False)
    assert answer == outbound_http.Answer(error="private_address")
    assert receiver.requests == []
    refused = outbound_http.post("http://127.0.0.1:9/none", b"{}", {}, allow_private=True, timeout_s=1)
    assert refused.error in ("refused", "network") and not refused.ok


def test_bad_requests_name_the_field_and_roles_are_checked(stack, receiver):
    def post(body, claims=ADMIN_CLAIMS):
        return admin(stack, "POST", "/admin/webhooks", route="/admin/{proxy+}", body=body, claims=claims)

    assert post({"url": receiver.url, "events": ["lead.received"]}, claims=STAFF_CLAIMS)["statusCode"] == 403
    for body, field in [({"url": receiver.url, "events": []}, "events"),
                        ({"url": receiver.url, "events": ["lead.received", "lead.received"]}, "events"),
                        ({"url": receiver.url, "events": ["job.paid"]}, "events"),
                        ({"events": ["lead.received"]}, "url")]:
        answer = post(body)
        assert answer["statusCode"] == 422, body
        assert any(field in name for name in json_body(answer)["error"]["fields"]), answer["body"]
    created = subscribe(stack, receiver.url, ["lead.received"])
    bad_cursor = admin(stack, "GET", f"/admin/webhooks/{created['webhook_id']}/deliveries",
                       route="/admin/{proxy+}", query={"cursor": "not-a-cursor"})
    assert bad_cursor["statusCode"] == 400 and "cursor" in json_body(bad_cursor)["error"]["fields"]
    other = subscribe(stack, receiver.url, ["lead.received"])
    for foreign in ({"pk": deliveries_pk(other["webhook_id"]), "sk": "DELIVERY#x"},  # another subscription's
                    {"pk": deliveries_pk(created["webhook_id"]), "sk": "PROFILE"}):  # outside DELIVERY#
        answer = admin(stack, "GET", f"/admin/webhooks/{created['webhook_id']}/deliveries",
                       route="/admin/{proxy+}", query={"cursor": encode_cursor(foreign)})
        assert answer["statusCode"] == 400 and "cursor" in json_body(answer)["error"]["fields"], foreign
    for method, path in [("GET", "/admin/webhooks/nope/deliveries"), ("POST", "/admin/webhooks/nope/rotate"),
                         ("DELETE", "/admin/webhooks/nope"),
                         ("POST", f"/admin/webhooks/{created['webhook_id']}/deliveries/msg_nope/replay")]:
        assert admin(stack, method, path, route="/admin/{proxy+}")["statusCode"] == 404, path


def test_each_kind_of_change_in_the_samples_is_one_delivery(stack, receiver):
    # events/queue_webhooks/: a new lead, a staff accept, a reward released, a withdrawal paid, a no-op write
    created = subscribe(stack, receiver.url, ["lead.received", "referral.accepted", "referral.dismissed",
                                              "reward.available", "withdrawal.paid"])
    stack.consume("queue_webhooks", load_event("queue_webhooks/programme_events.json"))
    kinds = sorted(d["event_type"] for d in deliveries(stack, created["webhook_id"]))
    assert kinds == ["lead.received", "referral.accepted", "reward.available", "withdrawal.paid"]
    assert deliver_queued(stack) == 4
    types = sorted(json.loads(body)["type"] for _, body in receiver.requests)
    assert types == kinds
