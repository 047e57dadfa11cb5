"""POST /webhooks/square in-process on moto: Square's signature, its documented payloads as job events,
replays, and the events that change no job."""

from __future__ import annotations

import json

import pytest

from referral_core.hashing import email_hash, peppered_hash
from referral_core.models.square import SquareEvent
from referral_core.services.providers import square
from tests.support.aws import PEPPER
from tests.support.events import json_body, load_event
from tests.support.jobs import item
from tests.support.providers import (
    SQUARE,
    SQUARE_KEY,
    SQUARE_URL,
    configure_square,
    square_body,
    square_event,
    square_signature,
)

pytestmark = pytest.mark.integration

ORDER = "CAISENgvhpdP05f1DWG9H8yMn4kZY"


@pytest.fixture
def webhook(stack):
    configure_square(stack)
    return stack


def written(stack):
    return stack.items()


def sample(name: str) -> dict:
    """The sample as Square would deliver it to our URL (the file's headers, signed for its body)."""
    event = load_event(f"square/{name}.json")
    event["headers"]["x-square-hmacsha256-signature"] = square_signature(event["body"].encode())
    return event


def test_the_documented_invoice_payment_is_a_paid_job_with_its_customer(webhook):
    # Given Square's invoice.payment_made for a PAID invoice (events/square/), correctly signed
    # When Square posts it
    response = webhook.invoke(SQUARE, sample("invoice.payment_made"))

    # Then the order's job is paid with the invoice's completed amount and the recipient's contacts
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response) == {"provider": "square", "event_id": "f1b3c8e2-7d2a-4b5e-9c3f-0a6d5e4b3c21",
                                   "ignored": False, "job_id": ORDER, "type": "job.paid", "applied": True,
                                   "statuses": ["paid"]}
    job = item(webhook, f"JOB#{ORDER}", "JOB")
    assert job["statuses"] == ["paid"]
    assert (job["amount_cents"], job["currency"], job["postcode"]) == (48000, "AUD", "3000")
    assert job["referral_code"] == "K7QX3MZ"  # the invoice's "Referral code" custom field
    assert sorted(job["contact_hashes"]) == sorted([email_hash(PEPPER, "sam.customer@example.com"),
                                                    peppered_hash(PEPPER, "phone", "+61412345678")])
    event = item(webhook, f"JOB#{ORDER}", "EVENT#job.paid")
    assert event["webhook_id"] == "square:f1b3c8e2-7d2a-4b5e-9c3f-0a6d5e4b3c21"
    # the provider's raw event is not stored: no name, no address line, no invoice URL
    stored = json.dumps([i for i in webhook.items()], default=str)
    assert "Example Street" not in stored and "pay-invoice" not in stored and "sam.customer@" not in stored


def test_a_completed_refund_refunds_the_same_order_and_a_pending_one_is_ignored(webhook):
    webhook.invoke(SQUARE, sample("invoice.payment_made"))
    before = webhook.items()

    pending = webhook.invoke(SQUARE, sample("refund.created"))
    assert pending["statusCode"] == 200
    assert json_body(pending) == {"provider": "square", "event_id": "0f3a9d1e-2b4c-4f5a-8e7d-6c5b4a392817",
                                  "ignored": True, "job_id": None, "type": None, "applied": False, "statuses": []}
    assert webhook.items() == before

    completed = webhook.invoke(SQUARE, sample("refund.updated"))
    assert json_body(completed)["type"] == "job.refunded" and json_body(completed)["applied"] is True
    job = item(webhook, f"JOB#{ORDER}", "JOB")
    assert job["statuses"] == ["paid", "refunded"]
    assert job["refunded_cents"] == 12000


def test_a_replayed_event_gets_the_first_answer_and_changes_nothing(webhook):
    first = webhook.invoke(SQUARE, sample("invoice.payment_made"))
    before = webhook.items()
    again = webhook.invoke(SQUARE, sample("invoice.payment_made"))
    assert json_body(first)["applied"] is True
    assert again["statusCode"] == 200 and json_body(again) == json_body(first)
    assert webhook.items() == before


def test_another_event_for_an_already_paid_order_is_applied_false(webhook):
    webhook.invoke(SQUARE, sample("invoice.payment_made"))
    other = webhook.invoke(SQUARE, square_event(square_body("invoice.payment_made", event_id="evt-second")))
    assert json_body(other)["applied"] is False and json_body(other)["statuses"] == ["paid"]


def test_a_failure_while_recording_leaves_the_event_for_squares_retry(webhook, monkeypatch):
    from referral_core.errors import Unavailable
    from referral_core.services.providers import ingest

    real = ingest.record_job_event

    def busy(*args, **kwargs):
        raise Unavailable("the table is busy")

    monkeypatch.setattr(ingest, "record_job_event", busy)
    assert webhook.invoke(SQUARE, sample("invoice.payment_made"))["statusCode"] == 503
    assert webhook.items() == []  # not even the idempotency record: the retry is not a replay
    monkeypatch.setattr(ingest, "record_job_event", real)
    response = webhook.invoke(SQUARE, sample("invoice.payment_made"))
    assert response["statusCode"] == 200 and json_body(response)["applied"] is True


@pytest.mark.parametrize("name", ["customer.created"])
def test_an_event_type_the_adapter_does_not_use_is_200_and_writes_nothing(webhook, name):
    response = webhook.invoke(SQUARE, sample(name))
    assert response["statusCode"] == 200
    assert json_body(response)["ignored"] is True
    assert webhook.items() == []


def test_a_deposit_that_leaves_the_invoice_partially_paid_earns_nothing_yet(webhook):
    body = square_body("invoice.payment_made")
    body["data"]["object"]["invoice"]["status"] = "PARTIALLY_PAID"
    response = webhook.invoke(SQUARE, square_event(body))
    assert json_body(response)["ignored"] is True
    assert webhook.items() == []


def test_a_base64_body_is_verified_on_its_raw_bytes(webhook):
    response = webhook.invoke(SQUARE, square_event(square_body("invoice.payment_made"), base64_body=True))
    assert response["statusCode"] == 200, response["body"]


@pytest.mark.parametrize(("kwargs", "signature"), [
    pytest.param({}, "", id="missing"),
    pytest.param({}, "bm90LXRoZS1zaWduYXR1cmU=", id="wrong"),
    pytest.param({"key": "another-signature-key"}, None, id="another-key"),
    pytest.param({"url": "https://referrals.example.com/webhooks/other"}, None, id="another-url"),
])
def test_a_bad_or_missing_signature_is_401_and_writes_nothing(webhook, kwargs, signature):
    response = webhook.invoke(SQUARE, square_event(square_body("invoice.payment_made"), signature=signature,
                                                   **kwargs))
    assert response["statusCode"] == 401
    assert json_body(response)["error"]["code"] == "unauthorized"
    assert webhook.items() == []


def test_a_signature_of_another_body_is_401(webhook):
    event = square_event(square_body("invoice.payment_made"))
    event["body"] = event["body"].replace("48000", "98000")
    assert webhook.invoke(SQUARE, event)["statusCode"] == 401
    assert webhook.items() == []


def test_both_keys_are_accepted_while_one_is_regenerated(webhook):
    configure_square(webhook, "new-signature-key", SQUARE_KEY)
    for key in ("new-signature-key", SQUARE_KEY):
        body = square_body("refund.created", event_id=f"evt-{key}")
        assert webhook.invoke(SQUARE, square_event(body, key=key))["statusCode"] == 200


def test_a_key_regenerated_at_square_is_picked_up_without_a_restart(webhook):
    assert webhook.invoke(SQUARE, square_event(square_body("refund.created")))["statusCode"] == 200
    configure_square(webhook, "regenerated-key")  # staff paste Square's new key into the secret
    event = square_event(square_body("refund.created"), key="regenerated-key")
    # within a minute of the last read the secret is not read again (bad signatures cannot hammer it)
    assert webhook.invoke(SQUARE, event)["statusCode"] == 401
    webhook.function(SQUARE).credentials()._read_at -= 61
    assert webhook.invoke(SQUARE, event)["statusCode"] == 200


def test_a_body_that_is_not_a_square_event_is_422_naming_the_fields(webhook):
    response = webhook.invoke(SQUARE, square_event({"type": "invoice.payment_made"}))
    assert response["statusCode"] == 422
    assert {"event_id", "created_at"} <= set(json_body(response)["error"]["fields"])
    assert webhook.items() == []


# -- translation (no AWS) ----------------------------------------------------------------------------------
def translated(body: dict) -> square.Translated:
    return square.translate(SquareEvent.model_validate(body))


def test_the_invoice_translation_reads_amount_customer_and_referral_code():
    out = translated(square_body("invoice.payment_made"))
    assert out.type == "job.paid"
    assert out.job is not None
    assert {k: out.job[k] for k in ("job_id", "amount_cents", "currency", "referral_code")} == {
        "job_id": ORDER, "amount_cents": 48000, "currency": "AUD", "referral_code": "K7QX3MZ"}
    assert out.job["customer"] == {"email": "sam.customer@example.com", "phone": "+61412345678",
                                   "postcode": "3000"}


def test_without_completed_amounts_the_computed_ones_count_and_installments_add_up():
    body = square_body("invoice.payment_made")
    invoice = body["data"]["object"]["invoice"]
    invoice["payment_requests"] = [
        {"request_type": "DEPOSIT", "computed_amount_money": {"amount": 10000, "currency": "AUD"}},
        {"request_type": "BALANCE", "computed_amount_money": {"amount": 38000, "currency": "AUD"}}]
    invoice["custom_fields"] = []
    invoice["primary_recipient"] = {"customer_id": "C1"}
    out = translated(body)
    assert out.job is not None
    assert out.job["amount_cents"] == 48000
    assert "referral_code" not in out.job and out.job["customer"] == {}


@pytest.mark.parametrize(("change", "reason"), [
    ({"order_id": None}, "no invoice with an order"),
    ({"payment_requests": []}, "invoice has no amount"),
    ({"status": "UNPAID"}, "invoice not fully paid"),
])
def test_invoices_that_change_no_job_are_ignored_with_a_reason(change, reason):
    body = square_body("invoice.payment_made")
    body["data"]["object"]["invoice"].update(change)
    assert translated(body).ignored == reason


def test_the_signature_is_squares_documented_one():
    body = b'{"event_id": "x"}'
    assert square.signature(SQUARE_KEY, SQUARE_URL, body) == square_signature(body)


def test_a_redelivery_racing_the_first_finds_its_event_recorded(webhook, monkeypatch):
    # Given the first delivery is recorded, and a second container read the job before it was
    from referral_core.dal.jobs import JobRecord, JobRepository

    assert json_body(webhook.invoke(SQUARE, sample("invoice.payment_made")))["applied"] is True
    monkeypatch.setattr(JobRepository, "load", lambda self, job_id: JobRecord(None, []))

    # When that container records another event of the same order and type, its write finds the event there
    response = webhook.invoke(SQUARE, square_event(square_body("invoice.payment_made", event_id="evt-racing")))

    # Then it answers the recorded job, applied once
    assert response["statusCode"] == 200 and json_body(response)["applied"] is False


def test_logs_never_carry_the_customer_s_contact_details(webhook, capsys, caplog):
    webhook.invoke(SQUARE, sample("invoice.payment_made"))
    webhook.invoke(SQUARE, sample("customer.created"))
    webhook.invoke(SQUARE, square_event(square_body("invoice.payment_made"), key="wrong-key"))
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "provider event recorded" in logs and "provider event ignored" in logs
    for secret in ("sam.customer", "+61412345678", "412345678", "Example Street"):
        assert secret not in logs
