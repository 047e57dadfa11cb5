"""Semantic checks on money input (issue 16, items 4 and 14): the job's currency, refunds larger than the
job, timestamps in the future, and withdrawal amounts that are not integers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from referral_core.services.rewards import on_change, settle
from tests.support.aws import WEBHOOK_SECRET
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.jobs import configure_webhook_secrets, item, post_job_event
from tests.support.portal import portal, sign_in
from tests.support.rewards import (
    assert_balance_matches_ledger,
    repos,
    save_rules,
    seed_job,
    seed_referral,
    seed_referrer,
)

pytestmark = pytest.mark.integration


@pytest.fixture
def webhook(stack):
    configure_webhook_secrets(stack, WEBHOOK_SECRET)
    return stack


def written(stack):
    return [i for i in stack.items() if not i["pk"].startswith("idempotency#")]


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- occurred_at ------------------------------------------------------------------------------------------
@pytest.mark.parametrize("occurred_at", ["2099-01-01T00:00:00Z", _stamp(datetime.now(UTC) + timedelta(hours=1))])
def test_an_event_dated_in_the_future_is_422_naming_occurred_at(webhook, occurred_at):
    response = post_job_event(webhook, "job.paid", "J-1", amount_cents=1_000, occurred_at=occurred_at)
    assert response["statusCode"] == 422, response["body"]
    assert "data.occurred_at" in json_body(response)["error"]["fields"]
    assert written(webhook) == []


def test_a_few_minutes_of_clock_skew_are_accepted(webhook):
    ahead = _stamp(datetime.now(UTC) + timedelta(minutes=5))
    assert post_job_event(webhook, "job.paid", "J-1", amount_cents=1_000, occurred_at=ahead)["statusCode"] == 200


# -- refunds larger than the job ----------------------------------------------------------------------------
@pytest.mark.parametrize("order", [("job.paid", "job.refunded"), ("job.refunded", "job.paid")])
def test_a_refund_larger_than_the_job_is_capped_and_the_excess_kept(webhook, order):
    amounts = {"job.paid": 20_000, "job.refunded": 90_000}
    for event_type in order:
        response = post_job_event(webhook, event_type, "J-1", amount_cents=amounts[event_type])
        assert response["statusCode"] == 200, response["body"]
    job = item(webhook, "JOB#J-1", "JOB")
    assert (job["amount_cents"], job["refunded_cents"], job["refund_excess_cents"]) == (20_000, 20_000, 70_000)


def test_a_partial_refund_is_kept_as_sent(webhook):
    post_job_event(webhook, "job.paid", "J-1", amount_cents=20_000)
    post_job_event(webhook, "job.refunded", "J-1", amount_cents=5_000)
    job = item(webhook, "JOB#J-1", "JOB")
    assert (job["refunded_cents"], job.get("refund_excess_cents")) == (5_000, None)


def test_the_capped_refund_is_flagged_on_the_referral_for_staff(webhook):
    seed_referrer(webhook)
    seed_referral(webhook, "lead-1", job_id="J-1")
    post_job_event(webhook, "job.paid", "J-1", lead_id="lead-1", amount_cents=20_000)
    before = item(webhook, "JOB#J-1", "JOB")
    post_job_event(webhook, "job.refunded", "J-1", lead_id="lead-1", amount_cents=25_000)
    after = item(webhook, "JOB#J-1", "JOB")

    on_change(repos(webhook), before, after)
    on_change(repos(webhook), before, after)  # a redelivered record: still one flag

    flags = [i for i in webhook.items_of_type("flag") if i["pk"] == "LEAD#lead-1"]
    assert [(f["flag_type"], f["severity"], f["evidence"]["refund_cents"]) for f in flags] == [
        ("refund_exceeds_amount", "low", 25_000)]


# -- currency ------------------------------------------------------------------------------------------------
def test_a_job_in_another_currency_is_flagged_for_staff_and_not_credited(webhook):
    save_rules(webhook, require_review=False,
               tiers=[{"name": "Pct", "min_rewarded": 0, "reward": {"percent_bp": 1_000}}])
    seed_referrer(webhook)
    for event_type in ("job.completed", "job.paid"):
        post_job_event(webhook, event_type, "J-JPY", lead_id="lead-1", amount_cents=5_000_000, currency="JPY")
    seed_referral(webhook, "lead-1", job_id="J-JPY")

    assert settle(repos(webhook), "lead-1") == "review"

    referral = item(webhook, "LEAD#lead-1", "REFERRAL")
    assert (referral["stage"], referral["review_status"]) == ("under_review", "open")
    assert "currency_mismatch" in referral["eligibility"]["reasons"]
    (flag,) = [i for i in webhook.items_of_type("flag") if i["pk"] == "LEAD#lead-1"]
    assert (flag["flag_type"], flag["severity"], flag["evidence"]["job_currency"],
            flag["evidence"]["program_currency"]) == ("currency_mismatch", "high", "JPY", "AUD")
    assert webhook.items_of_type("reward") == [] and webhook.items_of_type("ledger") == []
    # a staff accept cannot credit it either: a percentage of yen is not an amount in dollars
    assert settle(repos(webhook), "lead-1", staff_accepted=True) == "not_eligible"
    assert webhook.items_of_type("ledger") == []
    assert assert_balance_matches_ledger(webhook)["pending_cents"] == 0


def test_a_reward_is_in_the_programme_s_currency(webhook):
    save_rules(webhook, require_review=False)
    seed_referrer(webhook)
    seed_job(webhook, "job-1", "lead-1")
    seed_referral(webhook, "lead-1", job_id="job-1")
    assert settle(repos(webhook), "lead-1") == "credited"
    (reward,) = webhook.items_of_type("reward")
    assert (reward["currency"], reward["amount_cents"]) == ("AUD", 2_500)


# -- withdrawal amounts ------------------------------------------------------------------------------------
@pytest.mark.parametrize("amount", ["2000", True, 2000.0, "2e3"])
def test_a_withdrawal_amount_that_is_not_an_integer_is_422_naming_it(portal_stack, amount):
    stack = portal_stack
    created = stack.invoke("StaffAdminFunction", http_event(
        "POST", "/admin/referrers", body={"name": "Jo Smith", "email": "jo@example.com"}, claims=STAFF_CLAIMS))
    assert created["statusCode"] == 201
    session = sign_in(stack, "jo@example.com")
    before = stack.items()
    response = portal(stack, "POST", "/me/withdrawals", session=session, body={"amount_cents": amount})
    assert response["statusCode"] == 422, response["body"]
    # refused as not an integer (true is not read as 1 and then found below the minimum)
    assert "integer" in json_body(response)["error"]["fields"]["amount_cents"]
    assert not [i for i in stack.items() if i.get("type") in ("withdrawal", "ledger")]
    assert len(stack.items_of_type("balance")) == len([i for i in before if i.get("type") == "balance"])

