"""Rewards on moto: eligibility scenarios, the holding period, refunds, tiers and staff review."""

from __future__ import annotations

from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.services.rewards import on_staff_accept, release_due
from referral_core.stages import FlagType, Stage
from tests.support.events import load_event
from tests.support.rewards import (
    JOB,
    LEAD,
    assert_balance_matches_ledger,
    balance,
    job_event,
    referral,
    refund,
    repos,
    save_rules,
    seed_flag,
    seed_job,
    seed_referral,
    seed_referrer,
    settle_event,
)

pytestmark = pytest.mark.integration

SETTLE = "settle_rewards"
RELEASE = "ReleaseRewardsFunction"
LATER = iso(now() + timedelta(days=400))


@pytest.fixture
def paid_referral(stack):
    """A referrer, a completed and paid 200.00 job, and its referral at customer_paid; no review needed."""
    save_rules(stack, require_review=False, holding_days=14)
    seed_referrer(stack)
    seed_job(stack)
    seed_referral(stack)
    return stack


def settle(stack, name="referral_customer_paid"):
    return stack.consume(SETTLE, settle_event(name))


def test_completed_paid_job_credits_a_pending_reward_once(paid_referral):
    # When the referral reaches customer_paid (and the record is replayed)
    assert settle(paid_referral) == {"batchItemFailures": []}
    settle(paid_referral)
    settle(paid_referral, "job_paid_after_completed")

    # Then one pending Bronze reward is credited and the referral shows reward_pending
    current = assert_balance_matches_ledger(paid_referral)
    assert (current["pending_cents"], current["available_cents"], current["rewarded_count"]) == (2_500, 0, 1)
    reward = repos(paid_referral).rewards.get(JOB)
    assert (reward["state"], reward["tier"], reward["gsi2pk"]) == ("pending", "Bronze", "RELEASE#PENDING")
    stored = referral(paid_referral)
    assert stored["stage"] == Stage.REWARD_PENDING
    assert stored["eligibility"]["eligible"] is True
    assert stored["eligibility"]["program_version"] == 1
    assert [e["kind"] for e in repos(paid_referral).ledger.entries("ref-0001")] == ["credit_pending"]


def test_job_paid_before_completed_waits_then_credits_on_the_job_change(stack):
    save_rules(stack, require_review=False)
    seed_referrer(stack)
    seed_job(stack, statuses=("created", "paid"))
    seed_referral(stack)
    settle(stack)
    assert balance(stack)["pending_cents"] == 0
    # When the completion arrives later, the job change settles it
    seed_job(stack)
    settle(stack, "job_paid_after_completed")
    assert balance(stack)["pending_cents"] == 2_500


def test_holding_period_release_by_the_schedule(paid_referral):
    save_rules(paid_referral, require_review=False, holding_days=0)
    settle(paid_referral)
    assert paid_referral.invoke(RELEASE, load_event("release_rewards/hourly.json")) == {"released": 1}
    assert paid_referral.invoke(RELEASE, load_event("release_rewards/hourly.json")) == {"released": 0}

    current = assert_balance_matches_ledger(paid_referral)
    assert (current["pending_cents"], current["available_cents"]) == (0, 2_500)
    reward = repos(paid_referral).rewards.get(JOB)
    assert reward["state"] == "available"
    assert "gsi2pk" not in reward
    assert referral(paid_referral)["stage"] == Stage.REWARD_AVAILABLE


def test_not_released_before_the_holding_period_ends(paid_referral):
    settle(paid_referral)
    assert release_due(repos(paid_referral), at=iso(now() + timedelta(days=13))) == 0
    assert release_due(repos(paid_referral), at=iso(now() + timedelta(days=15))) == 1


def test_refund_before_release_reverses_the_pending_reward(paid_referral):
    settle(paid_referral)
    refund(paid_referral)
    assert settle(paid_referral, "job_refunded") == {"batchItemFailures": []}
    settle(paid_referral, "job_refunded")

    current = assert_balance_matches_ledger(paid_referral)
    assert (current["pending_cents"], current["available_cents"], current["rewarded_count"]) == (0, 0, 0)
    assert repos(paid_referral).rewards.get(JOB)["state"] == "reversed"
    assert release_due(repos(paid_referral), at=LATER) == 0
    stored = referral(paid_referral)
    assert (stored["stage"], stored["not_eligible_reason"]) == (Stage.NOT_ELIGIBLE, "job_refunded")


def test_refund_after_release_claws_back_what_is_available_and_records_the_rest(paid_referral):
    # Given a released reward of which 20.00 was already withdrawn
    from referral_core.services.withdrawals import request_withdrawal

    settle(paid_referral)
    release_due(repos(paid_referral), at=LATER)
    request_withdrawal(repos(paid_referral), "ref-0001", 2_000, currency="AUD")

    # When the job is refunded
    refund(paid_referral)
    settle(paid_referral, "job_refunded")

    # Then the 5.00 still available is taken and 20.00 is outstanding (no negative balance by default)
    current = assert_balance_matches_ledger(paid_referral)
    assert (current["available_cents"], current["held_cents"]) == (0, 2_000)
    assert current["clawback_outstanding_cents"] == 2_000
    clawback = next(e for e in repos(paid_referral).ledger.entries("ref-0001") if e["kind"] == "clawback")
    assert clawback["detail"]["outstanding_cents"] == 2_000
    assert repos(paid_referral).rewards.get(JOB)["state"] == "clawed_back"

    # and the outstanding amount is recovered from the next reward when it is released
    seed_job(paid_referral, "job-0002", "lead-0002")
    seed_referral(paid_referral, "lead-0002", job_id="job-0002")
    repos_ = repos(paid_referral)
    from referral_core.services.rewards import settle as settle_lead

    assert settle_lead(repos_, "lead-0002") == "credited"
    release_due(repos_, at=LATER)
    current = assert_balance_matches_ledger(paid_referral)
    assert (current["available_cents"], current["clawback_outstanding_cents"]) == (500, 0)


def test_refund_after_release_may_go_negative_when_the_rules_allow(paid_referral):
    from referral_core.services.withdrawals import request_withdrawal

    save_rules(paid_referral, require_review=False, allow_negative_balance=True)
    settle(paid_referral)
    release_due(repos(paid_referral), at=LATER)
    request_withdrawal(repos(paid_referral), "ref-0001", 2_000, currency="AUD")
    old, new = refund(paid_referral)
    paid_referral.consume(SETTLE, job_event(old, new))
    current = assert_balance_matches_ledger(paid_referral)
    assert (current["available_cents"], current["clawback_outstanding_cents"]) == (-2_000, 0)


def test_tier_boundary_changes_the_amount_from_the_next_reward(stack):
    # Given Bronze 25.00 until 2 rewards, then Silver at 10 % capped at 30.00
    save_rules(stack, require_review=False, tiers=[
        {"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 2_500}},
        {"name": "Silver", "min_rewarded": 2, "reward": {"percent_bp": 1_000, "cap_cents": 3_000}},
    ])
    seed_referrer(stack)
    amounts = []
    for n, job_amount in enumerate((20_000, 20_000, 20_000, 90_000), start=1):
        seed_job(stack, f"job-{n}", f"lead-{n}", amount_cents=job_amount)
        seed_referral(stack, f"lead-{n}", job_id=f"job-{n}")
        on_staff_accept(repos(stack), f"lead-{n}")
        reward = repos(stack).rewards.get(f"job-{n}")
        amounts.append((reward["tier"], reward["amount_cents"]))
    assert amounts == [("Bronze", 2_500), ("Bronze", 2_500), ("Silver", 2_000), ("Silver", 3_000)]
    assert assert_balance_matches_ledger(stack)["rewarded_count"] == 4


def test_job_below_the_minimum_value_is_not_eligible(stack):
    save_rules(stack, require_review=False, min_job_value_cents=10_000)
    seed_referrer(stack)
    seed_job(stack, amount_cents=9_999)
    seed_referral(stack)
    settle(stack)
    stored = referral(stack)
    assert (stored["stage"], stored["not_eligible_reason"]) == (Stage.NOT_ELIGIBLE, "below_minimum_value")
    assert stored["eligibility"]["reasons"] == ["below_minimum_value"]
    assert balance(stack)["pending_cents"] == 0
    assert repos(stack).rewards.get(JOB) is None


def test_existing_customer_is_not_eligible(paid_referral):
    seed_flag(paid_referral, LEAD, FlagType.EXISTING_CUSTOMER, "medium")
    settle(paid_referral)
    stored = referral(paid_referral)
    assert (stored["stage"], stored["not_eligible_reason"]) == (Stage.NOT_ELIGIBLE, "existing_customer")
    assert balance(paid_referral)["rewarded_count"] == 0


def test_job_outside_the_attribution_window_is_not_eligible(stack):
    save_rules(stack, require_review=False)
    seed_referrer(stack)
    seed_job(stack)
    seed_referral(stack, created_at=iso(now() - timedelta(days=120)))
    settle(stack)
    assert referral(stack)["not_eligible_reason"] == "outside_attribution_window"


def test_outside_the_service_zones_is_not_eligible(stack):
    save_rules(stack, require_review=False, zones=["3000", "3001"])
    seed_referrer(stack)
    seed_job(stack)
    seed_referral(stack)
    settle(stack)
    assert referral(stack)["not_eligible_reason"] == "outside_service_area"


def test_flagged_referral_is_held_for_review_until_staff_accept(paid_referral):
    # Given an open high-severity flag
    seed_flag(paid_referral, LEAD, FlagType.VELOCITY, "high")

    # When the job is paid: held under review, queued, nothing credited
    settle(paid_referral)
    stored = referral(paid_referral)
    assert stored["stage"] == Stage.UNDER_REVIEW
    assert (stored["review_status"], stored["gsi2pk"]) == ("open", "REVIEW#open")
    assert stored["eligibility"]["outcome"] == "review"
    assert "high_severity_flag:velocity" in stored["eligibility"]["reasons"]
    assert balance(paid_referral)["pending_cents"] == 0

    # When staff accept (twice: a retried request): credited once, back on the progress track
    assert on_staff_accept(repos(paid_referral), LEAD) == "credited"
    assert on_staff_accept(repos(paid_referral), LEAD) == "already_credited"
    assert assert_balance_matches_ledger(paid_referral)["pending_cents"] == 2_500
    assert referral(paid_referral)["stage"] == Stage.REWARD_PENDING


def test_every_reward_waits_for_staff_when_the_programme_requires_review(stack):
    save_rules(stack, require_review=True)
    seed_referrer(stack)
    seed_job(stack)
    seed_referral(stack)
    settle(stack)
    assert referral(stack)["eligibility"]["reasons"] == ["staff_review_required"]
    assert balance(stack)["pending_cents"] == 0


def test_staff_accept_after_a_refund_credits_nothing(paid_referral):
    seed_flag(paid_referral, LEAD, FlagType.VELOCITY, "low")
    settle(paid_referral)
    refund(paid_referral)
    assert on_staff_accept(repos(paid_referral), LEAD) == "not_eligible"
    assert referral(paid_referral)["not_eligible_reason"] == "job_refunded"
    assert balance(paid_referral)["pending_cents"] == 0


def test_double_sided_programme_records_a_credit_note_for_the_friend(stack):
    save_rules(stack, require_review=False, referee_reward={"enabled": True, "amount_cents": 1_000})
    seed_referrer(stack)
    seed_job(stack)
    seed_referral(stack)
    settle(stack)
    note = next(i for i in stack.items_of_type("credit_note"))
    assert (note["lead_id"], note["amount_cents"], note["status"]) == (LEAD, 1_000, "to_issue")


def test_unattributed_referral_is_not_eligible(stack):
    save_rules(stack, require_review=False)
    seed_job(stack)
    seed_referral(stack, referrer_id=None)
    settle(stack)
    assert referral(stack)["eligibility"]["reasons"] == ["not_attributed"]


@pytest.mark.parametrize("status", ["suspended", "erased"])
def test_a_suspended_or_erased_referrer_is_not_credited_automatically(paid_referral, status):
    # Given the referrer was suspended (or erased) before the job was settled
    from tests.support.rewards import REFERRER, table

    table(paid_referral).put({"pk": f"REFERRER#{REFERRER}", "sk": "PROFILE", "type": "referrer",
                              "referrer_id": REFERRER, "status": status})
    # When the referral reaches customer_paid
    assert settle(paid_referral) == {"batchItemFailures": []}
    # Then nothing is credited: the referral waits for staff, with the reason
    assert repos(paid_referral).rewards.get(JOB) is None
    assert balance(paid_referral)["pending_cents"] == 0
    stored = referral(paid_referral)
    assert stored["stage"] == Stage.UNDER_REVIEW
    assert stored["eligibility"]["reasons"] == ["referrer_inactive"]
    # And a staff accept still credits it (their decision)
    assert on_staff_accept(repos(paid_referral), LEAD) == "credited"
