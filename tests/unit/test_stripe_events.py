"""The Stripe adapter's translation (pure): Stripe's documented event shapes -> job events."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from referral_core.errors import InvalidInput, MalformedRequest
from referral_core.services.providers.stripe_events import SUBSCRIBED, translate
from tests.support.events import load_event

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]


def sample(name: str) -> dict:
    return json.loads(load_event(f"stripe/{name}.json")["body"])


def test_every_event_the_adapter_reads_is_in_the_set_up_page() -> None:
    page = (ROOT / "docs" / "integrations" / "stripe.md").read_text()
    assert all(f"`{name}`" in page for name in SUBSCRIBED)


def test_invoice_paid_maps_amount_currency_customer_and_metadata() -> None:
    read = translate(sample("invoice.paid"))
    assert read.event is not None and read.job_id_given
    data = read.event.data
    assert (str(read.event.type), data.job_id, data.amount_cents, data.currency, data.referral_code) == (
        "job.paid", "J-2001", 48000, "AUD", "K7QX3MZ")
    assert (data.customer.email, data.customer.phone, data.customer.postcode) == (
        "pat.newcustomer@example.com", "+61412000111", "3000")
    assert [str(e.type) for e in read.also] == ["job.completed"]
    assert read.refs[0].startswith("pi_")


def test_a_metadata_job_id_that_cannot_be_a_key_falls_back_to_the_payment() -> None:
    body = sample("invoice.paid")
    body["data"]["object"]["metadata"] = {"job_id": "Job #12 (Smith)", "lead_id": "bad id"}
    read = translate(body)
    assert read.event is not None and not read.job_id_given
    assert read.event.data.job_id == read.refs[0] and read.event.data.lead_id is None


def test_a_refund_is_the_total_refunded_and_a_dispute_its_amount() -> None:
    refund = translate(sample("charge.refunded.partial")).event
    dispute = translate(sample("charge.dispute.created")).event
    assert refund is not None and (str(refund.type), refund.data.amount_cents) == ("job.refunded", 12000)
    assert dispute is not None and (str(dispute.type), dispute.data.amount_cents) == ("job.disputed", 48000)


def test_unknown_events_and_objects_are_ignored() -> None:
    assert translate(sample("customer.created")).event is None
    mismatched = sample("charge.refunded")
    mismatched["type"] = "invoice.paid"  # the type says invoice, the object is a charge
    assert translate(mismatched).event is None


def test_no_stripe_event_is_400_and_a_bad_amount_is_422() -> None:
    with pytest.raises(MalformedRequest):
        translate({"id": "evt_1", "type": "invoice.paid"})
    body = sample("invoice.paid")
    body["data"]["object"]["currency"] = "dollars"
    with pytest.raises(InvalidInput) as refused:
        translate(body)
    assert "data.currency" in refused.value.fields


def localstripe_invoice() -> dict:
    """An invoice as localstripe sends it: a customer id, no contact fields (amounts as given)."""
    event = sample("invoice.payment_succeeded")
    event["data"]["object"].update(customer="cus_local1", customer_email=None, customer_phone=None,
                                   customer_address=None, metadata={})
    return event


def test_an_invoice_without_an_email_takes_its_customers_contact_from_the_lookup() -> None:
    asked: list[str] = []

    def lookup(customer_id: str) -> dict:
        asked.append(customer_id)
        return {"id": customer_id, "email": "sam@example.net", "phone": "+61498765432",
                "address": {"postal_code": "2000"}}

    read = translate(localstripe_invoice(), customer=lookup)
    assert read.event is not None and asked == ["cus_local1"]
    found = read.event.data.customer
    assert (found.email, found.phone, found.postcode) == ("sam@example.net", "+61498765432", "2000")


def test_without_a_lookup_or_with_an_email_nothing_is_asked() -> None:
    read = translate(localstripe_invoice())
    assert read.event is not None and read.event.data.customer.email is None
    translate(sample("invoice.paid"), customer=lambda cid: pytest.fail("asked"))


def test_amount_due_then_total_stand_in_for_a_missing_amount_paid() -> None:
    event = localstripe_invoice()
    obj = event["data"]["object"]
    obj.pop("amount_paid")
    obj.update(amount_due=12300, total=12400)
    read = translate(event)
    assert read.event is not None and read.event.data.amount_cents == 12300
    obj.pop("amount_due")
    assert translate(event).event.data.amount_cents == 12400  # type: ignore[union-attr]
