"""POST /webhooks/xero in-process on moto, against a small fake of Xero's API (standard-library HTTP
server on 127.0.0.1): the signature and intent-to-receive handshake, invoices and credit notes fetched
and recorded as job events, token refresh on 401, backoff on 429, retry on 5xx, then the 503 that makes
Xero deliver again."""

from __future__ import annotations

import json

import pytest

from referral_core.hashing import email_hash
from tests.support.aws import PEPPER
from tests.support.events import json_body, load_event
from tests.support.jobs import item
from tests.support.providers import (
    XERO,
    XERO_INVOICE,
    XERO_NOTE,
    FakeXero,
    Scripted,
    configure_xero,
    stored_xero_tokens,
    xero_body,
    xero_event,
    xero_resources,
    xero_signature,
)

pytestmark = pytest.mark.integration

INVOICE_PATH = f"/api.xro/2.0/Invoices/{XERO_INVOICE}"
NOTE_PATH = f"/api.xro/2.0/CreditNotes/{XERO_NOTE}"


@pytest.fixture
def fake():
    server = FakeXero(resources=xero_resources()).start()
    yield server
    server.stop()


@pytest.fixture
def webhook(stack, fake):
    configure_xero(stack, api_url=fake.url)
    return stack


def sample(name: str) -> dict:
    """The sample as Xero would deliver it (the file's headers, signed for its body)."""
    event = load_event(f"xero/{name}.json")
    event["headers"]["x-xero-signature"] = xero_signature(event["body"].encode())
    return event


def test_intent_to_receive_is_200_with_an_empty_body_for_a_good_signature(webhook, fake):
    response = webhook.invoke(XERO, sample("intent_to_receive"))
    assert response["statusCode"] == 200 and response["body"] == ""
    assert webhook.items() == [] and fake.requests == []


def test_intent_to_receive_is_401_for_a_wrong_signature(webhook, fake):
    event = sample("intent_to_receive")
    event["headers"]["x-xero-signature"] = xero_signature(event["body"].encode(), key="not-the-key")
    response = webhook.invoke(XERO, event)
    assert response["statusCode"] == 401 and response["body"] == ""  # Xero wants no body
    assert "Set-Cookie" not in response["headers"]
    assert webhook.items() == [] and fake.requests == []


@pytest.mark.parametrize("signature", ["", "bm90LXRoZS1zaWduYXR1cmU=", "%%%"], ids=["missing", "wrong", "not-base64"])
def test_a_bad_or_missing_signature_is_401_fetches_and_writes_nothing(webhook, fake, signature):
    response = webhook.invoke(XERO, xero_event(xero_body("invoice.update"), signature=signature))
    assert response["statusCode"] == 401 and response["body"] == ""
    assert webhook.items() == [] and fake.requests == []


def test_a_paid_invoice_is_fetched_and_recorded_as_a_paid_job(webhook, fake):
    # When Xero posts the invoice's UPDATE event (ids only)
    response = webhook.invoke(XERO, sample("invoice.update"))

    # Then the invoice is fetched with the tenant's token and its job is paid with its total and contact
    assert response["statusCode"] == 200 and response["body"] == ""
    assert fake.gets(INVOICE_PATH) == 1
    job = item(webhook, f"JOB#{XERO_INVOICE}", "JOB")
    assert job["statuses"] == ["paid"]
    assert (job["amount_cents"], job["currency"]) == (48000, "AUD")
    assert job["contact_hashes"] == [email_hash(PEPPER, "sam.customer@example.com")]
    assert job["referral_code"] == "K7QX3MZ"
    event = item(webhook, f"JOB#{XERO_INVOICE}", "EVENT#job.paid")
    assert event["webhook_id"].startswith("xero:c2cc9b6e-9458-4c7d-93cc-f02b81b0594f:INVOICE:")
    stored = json.dumps(webhook.items(), default=str)
    assert "Example Street" not in stored and "Laptop repair" not in stored and "sam.customer@" not in stored


def test_an_allocated_credit_note_refunds_the_invoice_job(webhook, fake):
    webhook.invoke(XERO, sample("invoice.update"))
    response = webhook.invoke(XERO, sample("creditnote.create"))
    assert response["statusCode"] == 200
    assert fake.gets(NOTE_PATH) == 1
    job = item(webhook, f"JOB#{XERO_INVOICE}", "JOB")
    assert job["statuses"] == ["paid", "refunded"]
    assert job["refunded_cents"] == 12000


def test_a_redelivery_changes_nothing(webhook, fake):
    webhook.invoke(XERO, sample("invoice.update"))
    before = webhook.items()
    assert webhook.invoke(XERO, sample("invoice.update"))["statusCode"] == 200
    assert webhook.items() == before


def test_an_unpaid_invoice_and_a_contact_event_change_no_job(webhook, fake):
    resources = xero_resources()
    resources[INVOICE_PATH]["Invoices"][0]["Status"] = "AUTHORISED"
    fake.resources = resources
    assert webhook.invoke(XERO, sample("invoice.update"))["statusCode"] == 200
    assert webhook.invoke(XERO, sample("contact.update"))["statusCode"] == 200
    assert webhook.items() == []
    assert fake.gets(INVOICE_PATH) == 1 and len(fake.requests) == 1  # a contact event is not fetched


def test_an_invoice_deleted_in_xero_is_ignored(webhook, fake):
    fake.resources = {}
    assert webhook.invoke(XERO, sample("invoice.update"))["statusCode"] == 200
    assert webhook.items() == []


def test_an_expired_token_is_refreshed_once_and_the_new_pair_stored(webhook, fake):
    # Given Xero no longer accepts the stored access token (it lasts 30 minutes)
    fake.access_token, fake.refresh_token = "access-1-expired", "refresh-1"

    # When an event arrives
    response = webhook.invoke(XERO, sample("invoice.update"))

    # Then the token is refreshed with the refresh token, the new pair is stored, and the fetch succeeds
    assert response["statusCode"] == 200
    assert [(m, p) for m, p, _ in fake.requests] == [("GET", INVOICE_PATH), ("POST", "/connect/token"),
                                                     ("GET", INVOICE_PATH)]
    assert stored_xero_tokens() == {"access_token": "access-2", "refresh_token": "refresh-2"}
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]
    # and the next delivery uses the new token without refreshing again
    webhook.invoke(XERO, sample("creditnote.create"))
    assert [p for m, p, _ in fake.requests].count("/connect/token") == 1


def test_a_revoked_connection_is_503_and_writes_nothing(webhook, fake):
    fake.access_token, fake.refresh_token = "access-revoked", "refresh-revoked"
    response = webhook.invoke(XERO, sample("invoice.update"))
    assert response["statusCode"] == 503
    assert webhook.items() == []


def test_a_429_waits_retry_after_then_fetches(webhook, fake):
    fake.script[INVOICE_PATH] = [Scripted(429, {"Title": "Rate limit"}, {"Retry-After": "1"})]
    response = webhook.invoke(XERO, sample("invoice.update"))
    assert response["statusCode"] == 200
    first, second = [t for m, p, t in fake.requests if p == INVOICE_PATH]
    assert second - first >= 0.95  # waited the Retry-After second
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]


def test_a_429_asking_longer_than_xeros_time_limit_is_503_with_retry_after(webhook, fake):
    fake.script[INVOICE_PATH] = [Scripted(429, {"Title": "Rate limit"}, {"Retry-After": "60"})]
    response = webhook.invoke(XERO, sample("invoice.update"))
    assert response["statusCode"] == 503
    assert response["headers"]["Retry-After"] == "60"
    assert webhook.items() == [] and fake.gets(INVOICE_PATH) == 1


def test_a_5xx_is_retried_with_backoff(webhook, fake):
    fake.script[INVOICE_PATH] = [Scripted(500, {"Title": "Oops"}), Scripted(503, None)]
    response = webhook.invoke(XERO, sample("invoice.update"))
    assert response["statusCode"] == 200
    assert fake.gets(INVOICE_PATH) == 3
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]


def test_when_xero_keeps_failing_the_delivery_is_503_so_xero_delivers_it_again(webhook, fake):
    # Given Xero's API fails every attempt
    fake.script[INVOICE_PATH] = [Scripted(500, {"Title": "Oops"}) for _ in range(10)]

    # When the event arrives, it is tried a bounded number of times, then answered 503: nothing is written,
    # and Xero keeps the event and delivers it again (the dead-letter path; docs/integrations/xero.md)
    response = webhook.invoke(XERO, sample("invoice.update"))
    assert response["statusCode"] == 503
    assert json_body(response)["error"]["code"] == "temporarily_unavailable"
    assert fake.gets(INVOICE_PATH) == 4
    assert webhook.items() == []

    # and once Xero's API is back, the redelivery records the job
    fake.script[INVOICE_PATH] = []
    assert webhook.invoke(XERO, sample("invoice.update"))["statusCode"] == 200
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]


def test_a_failure_while_recording_leaves_the_event_for_xeros_redelivery(webhook, fake, monkeypatch):
    from referral_core.errors import Unavailable
    from referral_core.services.providers import ingest

    real = ingest.record_job_event

    def busy(*args, **kwargs):
        raise Unavailable("the table is busy")

    monkeypatch.setattr(ingest, "record_job_event", busy)
    assert webhook.invoke(XERO, sample("invoice.update"))["statusCode"] == 503
    assert webhook.items() == []  # not even the idempotency record: the redelivery is not a replay
    monkeypatch.setattr(ingest, "record_job_event", real)
    assert webhook.invoke(XERO, sample("invoice.update"))["statusCode"] == 200
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]


def test_a_body_that_is_not_a_xero_delivery_is_422_naming_the_field(webhook, fake):
    response = webhook.invoke(XERO, xero_event({"events": [{"resourceId": XERO_INVOICE}]}))
    assert response["statusCode"] == 422
    assert "events.0.tenantId" in json_body(response)["error"]["fields"]
    assert fake.requests == []


def test_the_referral_code_comes_from_the_invoice_reference():
    from referral_core.services.providers.xero import referral_code

    assert referral_code("Referral K7QX3MZ") == "K7QX3MZ"
    assert referral_code("PO 1234 - referral code: jo-van") == "jo-van"
    assert referral_code("PO 1234") is None and referral_code(None) is None


def test_a_redelivery_racing_the_first_finds_its_event_recorded(webhook, fake, monkeypatch):
    from referral_core.dal.jobs import JobRecord, JobRepository

    webhook.invoke(XERO, sample("invoice.update"))
    monkeypatch.setattr(JobRepository, "load", lambda self, job_id: JobRecord(None, []))  # a stale read
    body = xero_body("invoice.update")
    body["events"][0]["eventDateUtc"] = "2026-11-22T10:05:00.000"  # a later update of the same invoice
    assert webhook.invoke(XERO, xero_event(body))["statusCode"] == 200
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]


def test_logs_never_carry_the_customer_s_contact_details_or_tokens(webhook, fake, capsys, caplog):
    fake.access_token = "access-expired"  # a refresh too
    webhook.invoke(XERO, sample("invoice.update"))
    webhook.invoke(XERO, sample("contact.update"))
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "provider event recorded" in logs and "xero event ignored" in logs
    for secret in ("sam.customer", "Example Street", "access-1", "refresh-1", "access-2", "refresh-2",
                   "client-secret"):
        assert secret not in logs


def test_an_organisation_never_connected_is_200_ignored_with_a_warning_and_a_metric(webhook, fake, capsys, caplog):
    from tests.integration.test_metrics import emitted

    # Given an event of an organisation whose token pair was never stored, in the same delivery as one of
    # a connected organisation
    stranger = "0f3b4a5c-1111-4222-8333-944455556666"
    body = xero_body("invoice.update")
    other = dict(body["events"][0], tenantId=stranger)
    body["events"] = [other, *body["events"]]
    capsys.readouterr()

    # When Xero delivers it
    response = webhook.invoke(XERO, xero_event(body))

    # Then it is acknowledged (Xero would disable the webhook after a day of failures), the stranger's event
    # is neither fetched nor written, and the connected organisation's event is recorded as usual
    assert response["statusCode"] == 200 and response["body"] == ""
    assert fake.gets(INVOICE_PATH) == 1 and len(fake.requests) == 1  # the connected organisation's only
    assert item(webhook, f"JOB#{XERO_INVOICE}", "JOB")["statuses"] == ["paid"]
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    warning, = [r for r in caplog.records if r.levelname == "WARNING"]
    assert warning.getMessage() == "xero organisation not connected: event ignored"
    assert warning.__dict__["tenant_id"] == stranger
    assert "sam.customer" not in logs
    assert emitted(captured.out).get("XeroTenantNotConnected") == 1
