"""Which table changes are outbound webhook events (services.outbound_webhooks.event_of): old and new
images compared, so replays and no-op writes are no event, and payloads pick fields, never contacts."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from referral_core.models.webhooks import WebhookEventType
from referral_core.services.outbound_webhooks import delivery_id, event_of

pytestmark = pytest.mark.unit

REFERRAL = {"pk": "LEAD#L1", "sk": "REFERRAL", "type": "referral", "lead_id": "L1", "referrer_id": "R1",
            "code": "K7QX3MZ", "stage": "customer_paid", "masked_name": "Sa L.", "postcode": "2000",
            "review_status": "open", "updated_at": "2026-12-01T00:00:00.000000Z"}


LEAD = {"pk": "LEAD#L1", "sk": "LEAD", "type": "lead", "lead_id": "L1", "name": "Sam Lee",
        "email": "sam@example.com", "phone": "+61412345678", "issue": "Printer jams", "source": "quick_help",
        "ref": "K7QX3MZ", "ref_status": "attributed", "postcode": "2000", "created_at": "2026-12-01T00:00:00Z"}


def test_a_new_lead_is_a_lead_received_without_contact_details():
    event = event_of("INSERT", LEAD, None)
    assert event is not None and event.type is WebhookEventType.LEAD_RECEIVED
    assert event.data == {"lead_id": "L1", "source": "quick_help", "ref": "K7QX3MZ", "ref_status": "attributed",
                          "postcode": "2000", "created_at": "2026-12-01T00:00:00Z"}
    assert event_of("INSERT", REFERRAL, None) is None  # the referral item is attribution's, not a new lead


@pytest.mark.parametrize(("status", "kind"), [("accepted", WebhookEventType.REFERRAL_ACCEPTED),
                                              ("dismissed", WebhookEventType.REFERRAL_DISMISSED)])
def test_a_staff_decision_is_an_event_once(status, kind):
    decided = {**REFERRAL, "review_status": status, "updated_at": "2026-12-02T00:00:00.000000Z"}
    event = event_of("MODIFY", decided, REFERRAL)
    assert event is not None and event.type is kind and event.data["review_status"] == status
    assert event_of("MODIFY", decided, decided) is None  # a no-op write or a replay of the same image
    assert event_of("MODIFY", {**REFERRAL, "stage": "reward_pending"}, REFERRAL) is None


def test_rewards_and_withdrawals_count_when_they_cross_into_available_and_paid():
    reward = {"pk": "REWARD#J1", "sk": "REWARD", "type": "reward", "job_id": "J1", "lead_id": "L1",
              "referrer_id": "R1", "amount_cents": 5000, "currency": "AUD", "state": "pending"}
    event = event_of("MODIFY", {**reward, "state": "available"}, reward)
    assert event is not None and event.type is WebhookEventType.REWARD_AVAILABLE
    assert event.data["amount_cents"] == 5000 and event.data["stage"] == "reward_available"
    assert event_of("MODIFY", {**reward, "state": "available"}, {**reward, "state": "available"}) is None
    withdrawal = {"pk": "WITHDRAWAL#W1", "sk": "WITHDRAWAL", "type": "withdrawal", "withdrawal_id": "W1",
                  "referrer_id": "R1", "amount_cents": 2000, "currency": "AUD", "status": "requested",
                  "payout": {"ciphertext": "..."}}
    paid = event_of("MODIFY", {**withdrawal, "status": "paid", "payout_reference": "EFT-9"}, withdrawal)
    assert paid is not None and paid.type is WebhookEventType.WITHDRAWAL_PAID
    assert "payout" not in paid.data and paid.data["payout_reference"] == "EFT-9"
    assert event_of("MODIFY", LEAD, LEAD) is None


def test_a_delivery_id_is_time_ordered_and_the_same_for_the_same_event():
    event = event_of("INSERT", LEAD, None)
    assert event is not None
    first = delivery_id(event, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert first == delivery_id(event, datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
    assert first < delivery_id(event, datetime(2026, 12, 1, 9, 1, tzinfo=UTC))
    assert first.startswith("msg_20261201T090000")
