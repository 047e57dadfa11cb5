"""POST /webhooks/servicem8 and the queue consumer in-process on moto, against a small fake of ServiceM8's
REST API (standard-library HTTP server on 127.0.0.1): the callback token, the subscription check, the
acknowledge-then-queue path, the job read with the account's OAuth token (refresh on 401, 429, 5xx then
the dead-letter path), the translation, and replays."""

from __future__ import annotations

import json

import pytest

from referral_core.hashing import email_hash, peppered_hash
from referral_core.models.jobs import ProviderWebhookResponse
from tests.support.aws import PEPPER
from tests.support.events import json_body
from tests.support.fake_provider_api import serving
from tests.support.jobs import item
from tests.support.providers import (
    PROVIDER_EVENTS,
    SERVICEM8,
    SERVICEM8_CLIENT_ID,
    SERVICEM8_CLIENT_SECRET,
    configure_servicem8,
    put_servicem8_tokens,
    queued_messages,
    servicem8_event,
    servicem8_sample,
    servicem8_tokens,
    sqs_event,
)

pytestmark = pytest.mark.integration

JOB = "9a8b7c6d-5e4f-4a3b-8c2d-1e0f9a8b7c6d"
JOB_ID = f"servicem8-{JOB}"
JOB_PATH = f"/api_1.0/job/{JOB}.json"
CONTACTS = "/api_1.0/jobcontact.json"
TOKEN = "/oauth/access_token"
JOB_RECORD = {"uuid": JOB, "active": 1, "status": "Completed", "total_invoice_amount": "660.00",
              "billing_address": "12 Example Street\nMelbourne VIC 3000", "customfield_referral_code": "ab12cd"}
CONTACT_ROWS = [{"uuid": "c1", "job_uuid": JOB, "type": "BILLING", "email": "accounts@example.com", "active": 1},
                {"uuid": "c2", "job_uuid": JOB, "type": "JOB", "email": "sam.customer@example.com",
                 "mobile": "0412 345 678", "active": 1}]


@pytest.fixture
def api():
    with serving() as fake:
        fake.routes[JOB_PATH] = lambda request: (200, JOB_RECORD, {})
        fake.routes[CONTACTS] = lambda request: (200, CONTACT_ROWS, {})
        yield fake


@pytest.fixture
def webhook(stack, api):
    configure_servicem8(stack)
    put_servicem8_tokens("access-1", "refresh-1")
    for name, value in {"SERVICEM8_API_URL": api.base_url + "/api_1.0", "SERVICEM8_TOKEN_URL": api.base_url + TOKEN,
                        "PROVIDER_API_ALLOW_PRIVATE": "true", "PROVIDER_API_BACKOFF_MS": "10"}.items():
        stack.monkeypatch.setenv(name, value)
    return stack


def process(stack) -> dict:
    bodies = queued_messages(stack)
    assert bodies, "nothing was queued"
    return stack.invoke(PROVIDER_EVENTS, sqs_event(*bodies))


def test_a_paid_invoice_is_queued_then_read_and_recorded_as_paid(webhook, api):
    response = webhook.invoke(SERVICEM8, servicem8_sample("job.invoice_paid"))
    assert response["statusCode"] == 202, response["body"]
    ProviderWebhookResponse.model_validate(json_body(response))  # the documented answer model
    assert api.seen == []
    assert process(webhook) == {"batchItemFailures": []}

    (read,) = api.calls(JOB_PATH)
    assert read.method == "GET" and read.headers["authorization"] == "Bearer access-1"
    (contacts,) = api.calls(CONTACTS)
    assert "job_uuid%20eq%20%27" + JOB in contacts.path
    job = item(webhook, f"JOB#{JOB_ID}", "JOB")
    assert job["statuses"] == ["paid"]
    assert (job["amount_cents"], job["currency"], job["postcode"], job["referral_code"]) == (66000, "AUD", "3000",
                                                                                           "AB12CD")
    assert sorted(job["contact_hashes"]) == sorted([email_hash(PEPPER, "sam.customer@example.com"),
                                                    peppered_hash(PEPPER, "phone", "+61412345678")])
    event = item(webhook, f"JOB#{JOB_ID}", "EVENT#job.paid")
    assert event["occurred_at"].startswith("2026-11-22T09:00:00")
    assert "sam.customer@" not in json.dumps(webhook.items(), default=str)


def test_completed_and_quote_accepted(webhook, api):
    webhook.invoke(SERVICEM8, servicem8_sample("job.completed"))
    webhook.invoke(SERVICEM8, servicem8_sample("job.quote_accepted"))
    assert process(webhook) == {"batchItemFailures": []}
    assert sorted(item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"]) == ["completed", "quoted"]


def test_completed_event_for_a_job_not_completed_changes_nothing(webhook, api):
    api.routes[JOB_PATH] = lambda request: (200, {**JOB_RECORD, "status": "Work Order"}, {})
    webhook.invoke(SERVICEM8, servicem8_sample("job.completed"))
    assert process(webhook) == {"batchItemFailures": []}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB") is None


def test_the_subscription_check_is_answered_with_its_challenge(webhook, api):
    response = webhook.invoke(SERVICEM8, servicem8_sample("subscribe"))
    assert response["statusCode"] == 200 and response["body"] == "7f3c2a9e1b"
    assert queued_messages(webhook) == []


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_a_missing_or_wrong_callback_token_is_401_and_nothing_is_queued(webhook, api, token):
    for name in ("job.invoice_paid", "subscribe"):
        response = webhook.invoke(SERVICEM8, servicem8_sample(name, token=token))
        assert response["statusCode"] == 401, name
        assert json_body(response)["error"]["code"] == "unauthorized"
    assert queued_messages(webhook) == []


def test_an_event_the_adapter_does_not_use_is_200_and_ignored(webhook, api):
    response = webhook.invoke(SERVICEM8, servicem8_sample("job.note_added"))
    assert response["statusCode"] == 200 and json_body(response)["ignored"] is True
    ProviderWebhookResponse.model_validate(json_body(response))
    assert queued_messages(webhook) == []


def test_token_refresh_on_401_backoff_on_429_retry_on_5xx(webhook, api):
    api.then(JOB_PATH, (401, {"message": "expired"}, {}), (429, None, {"Retry-After": "0"}), (502, None, {}))
    api.routes[TOKEN] = lambda request: (200, {"access_token": "access-2", "refresh_token": "refresh-2"}, {})
    webhook.invoke(SERVICEM8, servicem8_sample("job.invoice_paid"))
    assert process(webhook) == {"batchItemFailures": []}
    assert api.calls(TOKEN)[0].form()["client_id"] == SERVICEM8_CLIENT_ID
    assert api.calls(TOKEN)[0].form()["client_secret"] == SERVICEM8_CLIENT_SECRET
    assert servicem8_tokens() == {"access_token": "access-2", "refresh_token": "refresh-2"}
    assert len(api.calls(JOB_PATH)) == 4
    assert item(webhook, f"JOB#{JOB_ID}", "JOB")["statuses"] == ["paid"]


def test_servicem8_down_fails_the_message_for_the_dead_letter_queue(webhook, api):
    api.routes[JOB_PATH] = lambda request: (500, None, {})
    webhook.invoke(SERVICEM8, servicem8_sample("job.invoice_paid"))
    assert process(webhook) == {"batchItemFailures": [{"itemIdentifier": "m-0"}]}
    assert item(webhook, f"JOB#{JOB_ID}", "JOB") is None


def test_a_replay_is_idempotent(webhook, api):
    webhook.invoke(SERVICEM8, servicem8_sample("job.invoice_paid"))
    process(webhook)
    before = webhook.items()
    webhook.invoke(SERVICEM8, servicem8_sample("job.invoice_paid"))
    assert process(webhook) == {"batchItemFailures": []}
    assert webhook.items() == before


def test_a_body_that_is_not_servicem8s_shape_is_refused(webhook):
    assert webhook.invoke(SERVICEM8, servicem8_event("not json"))["statusCode"] == 400
    response = webhook.invoke(SERVICEM8, servicem8_event(json.dumps({"event": "job.completed", "entry": []})))
    assert response["statusCode"] == 422
    assert "entry" in json_body(response)["error"]["fields"]


def test_logs_carry_no_contact_details_or_tokens(webhook, api, capsys, caplog):
    api.then(JOB_PATH, (401, {"message": "expired"}, {}))
    api.routes[TOKEN] = lambda request: (200, {"access_token": "access-2", "refresh_token": "refresh-2"}, {})
    webhook.invoke(SERVICEM8, servicem8_sample("job.invoice_paid"))
    assert process(webhook) == {"batchItemFailures": []}
    out = capsys.readouterr()
    # every record with its extra keys (caplog.text would show the messages only)
    logged = out.out + out.err + json.dumps([vars(r) for r in caplog.records], default=str)
    assert "provider event processed" in logged
    for secret in ("sam.customer@", "accounts@example.com", "0412", "Example Street", "access-1", "access-2",
                   "refresh-", SERVICEM8_CLIENT_SECRET, "servicem8-webhook-token"):
        assert secret not in logged, secret
