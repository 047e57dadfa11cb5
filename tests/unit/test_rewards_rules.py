"""Programme rules and eligibility as pure logic (no AWS)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.errors import InvalidCursor
from referral_core.models.program import Program, ProgramRules, RewardAmount, default_rules
from referral_core.services.rewards import (
    Facts,
    Outcome,
    became,
    became_accepted,
    became_paid_out,
    evaluate,
    reached_paid,
    reward_amount,
)

pytestmark = pytest.mark.unit

AT = "2026-11-01T10:00:00.000000Z"


def program(**changes):
    rules = ProgramRules.model_validate({**default_rules().model_dump(mode="json"), "require_review": False,
                                         **changes})
    return Program(rules=rules, version=3)


def facts(*, flags=(), statuses=("completed", "paid"), amount=20_000, completed_at="2026-11-20T10:00:00Z",
          **referral):
    base = {"lead_id": "l1", "referrer_id": "r1", "job_id": "j1", "postcode": "2000",
            "attribution": {"at": AT}, "created_at": AT}
    job = {"job_id": "j1", "statuses": set(statuses), "amount_cents": amount, "completed_at": completed_at}
    return Facts(referral={**base, **referral}, flags=list(flags), job=job)


def flag(flag_type, severity="medium", status="open"):
    return {"flag_type": flag_type, "severity": severity, "status": status}


def test_clean_completed_paid_job_is_credited():
    result = evaluate(facts(), program(), currency="AUD")
    assert (result.outcome, result.reasons) == (Outcome.CREDIT, ())
    assert result.record("t", 3) == {"eligible": True, "outcome": "credit", "reasons": [],
                                     "evaluated_at": "t", "program_version": 3}


@pytest.mark.parametrize("statuses", [(), ("completed",), ("paid",), ("created", "quoted", "invoiced")])
def test_waits_until_the_job_is_both_completed_and_paid(statuses):
    assert evaluate(facts(statuses=statuses), program(), currency="AUD").outcome is Outcome.WAIT


@pytest.mark.parametrize(
    ("kwargs", "rules", "reason", "public"),
    [
        ({"statuses": ("completed", "paid", "refunded")}, {}, "job_refunded", "job_refunded"),
        ({"statuses": ("cancelled",)}, {}, "job_cancelled", "job_refunded"),
        ({"referrer_id": None}, {}, "not_attributed", "programme_rules"),
        ({"flags": [flag("existing_customer", "low")]}, {}, "existing_customer", "existing_customer"),
        ({"postcode": "2000"}, {"zones": ["3000"]}, "outside_service_area", "outside_service_area"),
        ({"completed_at": "2027-03-01T00:00:00Z"}, {}, "outside_attribution_window",
         "outside_attribution_window"),
        ({"amount": 4_999}, {"min_job_value_cents": 5_000}, "below_minimum_value", "below_minimum_value"),
        ({"review_status": "dismissed"}, {}, "dismissed_by_staff", "staff_decision"),
    ],
)
def test_not_eligible_with_a_public_reason(kwargs, rules, reason, public):
    result = evaluate(facts(**kwargs), program(**rules), currency="AUD")
    assert result.outcome is Outcome.NOT_ELIGIBLE
    assert reason in result.reasons
    assert result.public_reason == public


def test_referral_window_overrides_the_programme_window():
    late = facts(completed_at="2026-11-20T10:00:00Z", attribution={"at": AT, "window_days": 7})
    assert evaluate(late, program(), currency="AUD").reasons == ("outside_attribution_window",)


@pytest.mark.parametrize(
    ("kwargs", "rules", "reason"),
    [
        ({"flags": [flag("velocity", "high")]}, {}, "high_severity_flag:velocity"),
        ({"flags": [flag("duplicate_contact", "low")]}, {}, "open_flag:duplicate_contact"),
        ({"review_status": "questioned"}, {}, "review_status:questioned"),
        ({"hold_stage": "under_review"}, {}, "held_under_review"),
        ({}, {"require_review": True}, "staff_review_required"),
    ],
)
def test_needs_review(kwargs, rules, reason):
    result = evaluate(facts(**kwargs), program(**rules), currency="AUD")
    assert result.outcome is Outcome.REVIEW
    assert reason in result.reasons


def test_resolved_flags_and_accepted_review_do_not_hold_it():
    done = facts(flags=[flag("velocity", "high", "resolved")], review_status="accepted")
    assert evaluate(done, program(require_review=True), currency="AUD").outcome is Outcome.CREDIT


def test_staff_acceptance_overrides_flags_but_not_the_job_facts():
    flagged = facts(flags=[flag("velocity", "high"), flag("existing_customer")], review_status="open")
    result = evaluate(flagged, program(require_review=True), currency="AUD", staff_accepted=True)
    assert result.outcome is Outcome.CREDIT
    refunded = facts(statuses=("completed", "paid", "refunded"))
    assert evaluate(refunded, program(), currency="AUD", staff_accepted=True).outcome is Outcome.NOT_ELIGIBLE


def test_tiers_pick_the_amount_by_rewarded_count():
    tiered = program(tiers=[
        {"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 2_000}},
        {"name": "Silver", "min_rewarded": 3, "reward": {"percent_bp": 1_000}},
        {"name": "Gold", "min_rewarded": 10, "reward": {"percent_bp": 2_000, "cap_cents": 5_000}},
    ])
    assert reward_amount(tiered, 0, 40_000) == ("Bronze", 2_000)
    assert reward_amount(tiered, 2, 40_000) == ("Bronze", 2_000)
    assert reward_amount(tiered, 3, 40_000) == ("Silver", 4_000)
    assert reward_amount(tiered, 10, 40_000) == ("Gold", 5_000)
    assert reward_amount(tiered, 50, 10_001) == ("Gold", 2_000)


@pytest.mark.parametrize(
    "tiers",
    [
        [],
        [{"name": "A", "min_rewarded": 2, "reward": {"flat_cents": 1}}],
        [{"name": "A", "min_rewarded": 0, "reward": {"flat_cents": 1}},
         {"name": "a", "min_rewarded": 1, "reward": {"flat_cents": 1}}],
        [{"name": "A", "min_rewarded": 0, "reward": {"flat_cents": 1}},
         {"name": "B", "min_rewarded": 0, "reward": {"flat_cents": 1}}],
    ],
)
def test_tiers_must_start_at_zero_increase_and_be_unique(tiers):
    with pytest.raises(ValidationError):
        ProgramRules.model_validate({"tiers": tiers})


@pytest.mark.parametrize("amount", [{}, {"flat_cents": 1, "percent_bp": 1},
                                    {"flat_cents": 1, "cap_cents": 5}])
def test_reward_amount_is_flat_or_percent(amount):
    with pytest.raises(ValidationError):
        RewardAmount.model_validate(amount)


def test_triggers_compare_old_and_new_images():
    assert reached_paid({"stage_rank": 3}, {"stage_rank": 4})
    assert reached_paid({}, {"stage_rank": 5})
    assert not reached_paid({"stage_rank": 4}, {"stage_rank": 4})  # a no-op write replayed
    assert not reached_paid({"stage_rank": 4}, {"stage_rank": 5})  # our own reward_pending update
    refunded = frozenset({"refunded"})
    assert became(refunded, {"statuses": {"paid"}}, {"statuses": {"paid", "refunded"}})
    assert not became(refunded, {"statuses": {"refunded"}}, {"statuses": {"refunded", "cancelled"}})
    assert became_accepted({"review_status": "open"}, {"review_status": "accepted"})
    assert not became_accepted({"review_status": "accepted"}, {"review_status": "accepted"})  # a later write
    assert not became_accepted({"review_status": "open"}, {"review_status": "questioned"})
    assert became_paid_out({"status": "requested"}, {"status": "paid"})
    assert not became_paid_out({"status": "paid"}, {"status": "paid"})


def test_cursor_round_trip_and_rejects_garbage_and_other_partitions():
    key = {"pk": "WITHDRAWAL#1", "sk": "WITHDRAWAL", "gsi1pk": "WITHDRAWALS#requested", "gsi1sk": "t#1"}
    assert decode_cursor(encode_cursor(key), index="gsi1", partition="WITHDRAWALS#requested") == key
    for bad in ("!!", "bnVsbA==", "eyJhIjogMX0=", encode_cursor(key)):  # not base64 / null / {"a": 1} / foreign
        with pytest.raises(InvalidCursor):
            decode_cursor(bad, index="gsi1", partition="WITHDRAWALS#paid")
    for outside in ({"sort_prefix": "u"}, {"sort_from": "t#2"}, {"sort_to": "t#0"}):
        with pytest.raises(InvalidCursor):
            decode_cursor(encode_cursor(key), index="gsi1", partition="WITHDRAWALS#requested", **outside)


# -- currency (issue 16 item 4): a job in another currency is never credited automatically -------------------
def priced(currency, **kwargs):
    made = facts(**kwargs)
    return Facts(referral=made.referral, flags=made.flags, job={**(made.job or {}), "currency": currency})


def test_a_job_in_another_currency_goes_to_staff_instead_of_being_credited():
    result = evaluate(priced("JPY", amount=5_000_000), program(), currency="AUD")
    assert result.outcome is Outcome.REVIEW
    assert result.reasons == ("currency_mismatch",)
    assert evaluate(priced("AUD"), program(), currency="AUD").outcome is Outcome.CREDIT


def test_amounts_in_another_currency_are_never_compared_with_the_programme_s():
    # 5000 yen is not 50.00 AUD: the minimum is not "met" by the raw number, and not failed by it either.
    rules = {"min_job_value_cents": 4_000}
    assert "below_minimum_value" not in evaluate(priced("JPY", amount=5_000), program(**rules),
                                                 currency="AUD").reasons
    assert evaluate(priced("AUD", amount=3_000), program(**rules), currency="AUD").reasons == (
        "below_minimum_value",)


@pytest.mark.parametrize(("rules", "outcome"), [
    ({}, Outcome.CREDIT),  # flat rewards, no minimum: the job's amount is not needed
    ({"min_job_value_cents": 1}, Outcome.NOT_ELIGIBLE),
    ({"tiers": [{"name": "Pct", "min_rewarded": 0, "reward": {"percent_bp": 1_000}}]}, Outcome.NOT_ELIGIBLE),
])
def test_after_an_accept_a_foreign_currency_job_is_credited_only_if_no_amount_rule_applies(rules, outcome):
    result = evaluate(priced("JPY"), program(**rules), currency="AUD", staff_accepted=True)
    assert result.outcome is outcome
    if outcome is Outcome.NOT_ELIGIBLE:
        assert result.reasons == ("currency_mismatch",)
        assert result.public_reason == "programme_rules"
    # a later evaluation of the accepted referral (another job event) does not queue it again
    accepted = priced("JPY", review_status="accepted")
    assert evaluate(accepted, program(**rules), currency="AUD").outcome is outcome
