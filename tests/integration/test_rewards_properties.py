"""Properties of the ledger under any sequence of operations, and under concurrency (threads in-process).

moto applies each request atomically here (local.moto_fixes, as DynamoDB does), so what races is our
code's reads and conditional writes, as between Lambda containers.
"""

from __future__ import annotations

import contextlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from threading import Barrier

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from referral_core.clock import iso, now
from referral_core.dal.rewards import RewardState
from referral_core.dal.withdrawals import OPEN_WITHDRAWALS, WithdrawalStatus
from referral_core.errors import Conflict, InvalidInput
from referral_core.models.rewards import MarkPaidRequest, RejectRequest
from referral_core.services.rewards import on_job_refunded, on_staff_accept, release_due, settle
from referral_core.services.withdrawals import mark_withdrawal_paid, reject_withdrawal, request_withdrawal
from tests.support.rewards import (
    assert_balance_matches_ledger,
    empty_table,
    refund,
    repos,
    save_rules,
    seed_job,
    seed_referral,
    seed_referrer,
)

pytestmark = pytest.mark.integration

LATER = iso(now() + timedelta(days=400))

operations = st.lists(st.one_of(
    st.tuples(st.just("credit"), st.integers(0, 5), st.integers(0, 100_000)),
    st.tuples(st.just("release")),
    st.tuples(st.just("refund"), st.integers(0, 5)),
    st.tuples(st.just("withdraw"), st.integers(0, 20_000)),
    st.tuples(st.just("pay"), st.integers(0, 5)),
    st.tuples(st.just("pay_over_hold"), st.integers(0, 5)),
    st.tuples(st.just("reject"), st.integers(0, 5)),
), min_size=1, max_size=14)


#: A refund after the money was asked for (issue 16): the clawback puts withdrawals on hold, a plain payout
#: is refused, an override pays, a reject repays the clawback. Random sequences rarely reach it.
REFUND_AFTER_WITHDRAWAL = [("credit", 0, 20_000), ("credit", 1, 20_000), ("release",), ("withdraw", 3_000),
                           ("withdraw", 2_000), ("refund", 0), ("refund", 1), ("pay", 1), ("pay_over_hold", 1),
                           ("reject", 0), ("credit", 2, 40_000), ("release",), ("withdraw", 1_000)]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations, allow_negative=st.booleans())
@example(ops=REFUND_AFTER_WITHDRAWAL, allow_negative=False)
@example(ops=REFUND_AFTER_WITHDRAWAL, allow_negative=True)
def test_balance_is_the_sum_of_the_ledger_for_any_sequence(stack, ops, allow_negative):
    empty_table(stack)
    save_rules(stack, require_review=True, allow_negative_balance=allow_negative, min_withdrawal_cents=1_000,
               tiers=[{"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 2_500}},
                      {"name": "Silver", "min_rewarded": 2,
                       "reward": {"percent_bp": 1_500, "cap_cents": 9_000}}])
    book, run = repos(stack), uuid.uuid4().hex[:8]
    referrer = seed_referrer(stack, f"ref-{run}")
    withdrawals: list[str] = []
    for op in ops:
        # Every operation is applied twice: a replayed event or a retried request changes nothing more.
        for _ in range(2):
            apply(stack, op, run, referrer, withdrawals)
        check_invariants(book, referrer, allow_negative)


def apply(stack, op, run, referrer, withdrawals):
    book = repos(stack)
    kind = op[0]
    if kind == "credit":
        job, lead = f"job-{run}-{op[1]}", f"lead-{run}-{op[1]}"
        if book.jobs.get(job) is None:
            seed_job(stack, job, lead, amount_cents=op[2])
            seed_referral(stack, lead, referrer, job)
        on_staff_accept(book, lead)
    elif kind == "release":
        release_due(book, at=LATER)
    elif kind == "refund":
        job = f"job-{run}-{op[1]}"
        if book.jobs.get(job) is not None:
            refund(stack, job)
            on_job_refunded(book, job)
    elif kind == "withdraw":
        with contextlib.suppress(Conflict, InvalidInput):  # below the minimum or more than available
            withdrawals.append(request_withdrawal(book, referrer, op[1], currency="AUD").withdrawal_id)
    elif withdrawals:
        withdrawal_id = withdrawals[op[1] % len(withdrawals)]
        try:
            if kind == "pay":
                mark_withdrawal_paid(book, withdrawal_id, MarkPaidRequest(payout_reference="P"), actor="test")
            elif kind == "pay_over_hold":
                mark_withdrawal_paid(book, withdrawal_id, MarkPaidRequest(
                    payout_reference="P", note="paid anyway", override_hold=True), actor="test")
            else:
                reject_withdrawal(book, withdrawal_id, RejectRequest(note="no"), actor="test")
        except Conflict:
            pass  # already decided


def check_invariants(book, referrer, allow_negative):
    balance = book.ledger.balance(referrer)
    entries = book.ledger.entries(referrer)
    for name in ("pending_cents", "available_cents", "held_cents", "paid_cents", "rewarded_count",
                 "clawback_outstanding_cents"):
        assert int(balance.get(name, 0)) == sum(e["deltas"][name] for e in entries), name
    assert allow_negative or balance["available_cents"] >= 0
    assert min(balance["pending_cents"], balance["held_cents"], balance["paid_cents"],
               balance.get("clawback_outstanding_cents", 0)) >= 0
    rewards = book.rewards.all_of_referrer(referrer)
    live = {RewardState.PENDING, RewardState.AVAILABLE, RewardState.PAID}
    assert balance["rewarded_count"] == sum(1 for r in rewards if r["state"] in live)
    pending = sum(r["amount_cents"] for r in rewards if r["state"] == RewardState.PENDING)
    assert balance["pending_cents"] == pending
    withdrawals = book.withdrawals.of_referrer(referrer, limit=100)
    assert balance["held_cents"] == sum(w["amount_cents"] for w in withdrawals
                                        if w["status"] in OPEN_WITHDRAWALS)
    assert balance["paid_cents"] == sum(w["amount_cents"] for w in withdrawals
                                        if w["status"] == WithdrawalStatus.PAID)
    # A clawback reaches money in withdrawals: each on hold covers at most its amount, for refunded jobs
    # only, and a withdrawal that was on hold is paid only with an override.
    clawed = {r["job_id"] for r in rewards if r["state"] == RewardState.CLAWED_BACK}
    for withdrawal in withdrawals:
        if withdrawal.get("hold_jobs"):
            assert 0 < withdrawal["hold_cents"] <= withdrawal["amount_cents"]
            assert set(withdrawal["hold_jobs"]) <= clawed
            assert withdrawal["status"] != WithdrawalStatus.PAID or withdrawal.get("override_hold") is True
    held = sum(h["cents"] for e in entries if e["kind"] == "clawback"
               for h in e["detail"].get("held_withdrawals", []))
    assert held == sum(int(w.get("hold_cents") or 0) for w in withdrawals)
    credits = [e["source_id"] for e in entries if e["kind"] == "credit_pending"]
    assert len(credits) == len(set(credits)) == len(rewards)


def run_together(count, task):
    barrier = Barrier(count)

    def start(index):
        barrier.wait()
        return task(index)

    with ThreadPoolExecutor(max_workers=count) as pool:
        return list(pool.map(start, range(count)))


def test_concurrent_withdrawals_never_overdraw(stack):
    # Given 100.00 available
    save_rules(stack, require_review=False,
               tiers=[{"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 2_500}}])
    seed_referrer(stack)
    for n in range(4):
        seed_job(stack, f"job-{n}", f"lead-{n}")
        seed_referral(stack, f"lead-{n}", job_id=f"job-{n}")
        settle(repos(stack), f"lead-{n}")
    release_due(repos(stack), at=LATER)

    # When 20 withdrawals of 25.00 arrive at once
    def withdraw(_):
        try:
            return request_withdrawal(repos(stack), "ref-0001", 2_500, currency="AUD").status
        except Conflict as exc:
            return exc.status

    results = run_together(20, withdraw)

    # Then exactly the four that fit succeed and the others are 409
    assert sorted(results, key=str) == [409] * 16 + ["requested"] * 4
    current = assert_balance_matches_ledger(stack)
    assert (current["available_cents"], current["held_cents"]) == (0, 10_000)


def test_concurrent_completion_events_credit_once(stack):
    save_rules(stack, require_review=False)
    seed_referrer(stack)
    seed_job(stack)
    seed_referral(stack)

    results = run_together(50, lambda _: settle(repos(stack), "lead-0001"))

    assert results.count("credited") == 1
    assert set(results) == {"credited", "already_credited"}
    current = assert_balance_matches_ledger(stack)
    assert (current["pending_cents"], current["rewarded_count"]) == (2_500, 1)
    assert [e["kind"] for e in repos(stack).ledger.entries("ref-0001")] == ["credit_pending"]


def _funded_withdrawal(stack, run):
    """A referrer whose one released reward (25.00) is in a requested withdrawal."""
    referrer = seed_referrer(stack, f"ref-{run}")
    seed_job(stack, f"job-{run}", f"lead-{run}")
    seed_referral(stack, f"lead-{run}", referrer, f"job-{run}")
    settle(repos(stack), f"lead-{run}")
    release_due(repos(stack), at=LATER)
    withdrawal = request_withdrawal(repos(stack), referrer, 2_500, currency="AUD")
    return referrer, withdrawal.withdrawal_id


@pytest.mark.parametrize("rounds", [8])
def test_a_refund_racing_the_payout_never_pays_a_clawed_back_withdrawal_silently(stack, rounds):
    # Issue 16: reward released -> withdrawal -> job.refunded and "paid" at the same moment.
    save_rules(stack, require_review=False,
               tiers=[{"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 2_500}}])
    for n in range(rounds):
        run = f"{n}-{uuid.uuid4().hex[:6]}"
        referrer, withdrawal_id = _funded_withdrawal(stack, run)
        refund(stack, f"job-{run}")

        def task(index, run=run, withdrawal_id=withdrawal_id):
            if index == 0:
                return on_job_refunded(repos(stack), f"job-{run}")
            try:
                return mark_withdrawal_paid(repos(stack), withdrawal_id, MarkPaidRequest(payout_reference="P"),
                                            actor="test").status
            except Conflict as exc:
                return exc.status

        clawed, paid = run_together(2, task)
        withdrawal = repos(stack).withdrawals.get(withdrawal_id)
        current = assert_balance_matches_ledger(stack, referrer)
        assert clawed == "clawed_back"
        if paid == "paid":  # the payout went first: the money is gone, the clawback is owed
            assert (withdrawal["status"], withdrawal.get("hold_cents")) == ("paid", None)
            assert (current["paid_cents"], current["held_cents"]) == (2_500, 0)
        else:  # the clawback went first: the withdrawal is on hold and the payout was refused
            assert (paid, withdrawal["status"], withdrawal["hold_cents"]) == (409, "on_hold", 2_500)
            assert (current["paid_cents"], current["held_cents"]) == (0, 2_500)
        assert (current["available_cents"], current["clawback_outstanding_cents"]) == (0, 2_500)


def test_a_refund_racing_a_new_withdrawal_holds_it_or_refuses_it(stack):
    save_rules(stack, require_review=False,
               tiers=[{"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 2_500}}])
    for n in range(6):
        run = f"{n}-{uuid.uuid4().hex[:6]}"
        referrer = seed_referrer(stack, f"ref-{run}")
        seed_job(stack, f"job-{run}", f"lead-{run}")
        seed_referral(stack, f"lead-{run}", referrer, f"job-{run}")
        settle(repos(stack), f"lead-{run}")
        release_due(repos(stack), at=LATER)
        refund(stack, f"job-{run}")

        def task(index, run=run, referrer=referrer):
            if index == 0:
                return on_job_refunded(repos(stack), f"job-{run}")
            try:
                return request_withdrawal(repos(stack), referrer, 2_500, currency="AUD").withdrawal_id
            except Conflict as exc:
                return exc.status

        _, asked = run_together(2, task)
        current = assert_balance_matches_ledger(stack, referrer)
        assert current["available_cents"] == 0
        if asked == 409:  # the clawback went first: nothing left to withdraw
            assert (current["held_cents"], current["clawback_outstanding_cents"]) == (0, 0)
        else:  # the withdrawal went first: the clawback holds it
            withdrawal = repos(stack).withdrawals.get(asked)
            assert (withdrawal["status"], withdrawal["hold_cents"]) == ("on_hold", 2_500)
            assert (current["held_cents"], current["clawback_outstanding_cents"]) == (2_500, 2_500)
