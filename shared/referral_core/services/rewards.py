"""Rewards: eligibility of a completed, paid job, the credit, the holding period, refunds.

A reward is never instant or automatic by default: an eligible job is credited as *pending* once (per job),
after a staff decision unless the programme says otherwise, becomes *available* after the holding period,
and a refund reverses it (pending) or claws it back (available). Every money movement is one ledger entry
posted with its balance change in one transaction (``referral_core.dal.ledger``).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any, TypeVar

from referral_core.clock import iso, now, parse_iso
from referral_core.dal.dynamo import ConditionFailed
from referral_core.dal.ledger import AlreadyPosted, BalanceChanged, Deltas, Entry, EntryKind, Operation
from referral_core.dal.referrals import eligibility_update, lead_id_of
from referral_core.dal.rewards import RewardRepos, RewardState, referee_credit_note, reward_export_pointer
from referral_core.dal.withdrawals import WithdrawalStatus
from referral_core.errors import Unavailable
from referral_core.models.program import Program
from referral_core.services.program import current_program
from referral_core.stages import RANK, FlagType, ReviewStatus, Severity, Stage

T = TypeVar("T")

SETTLED = frozenset({"completed", "paid"})
UNDONE = frozenset({"refunded", "cancelled"})
#: A disputed payment (a chargeback): the reward waits for a staff decision (``on_job_disputed``).
DISPUTED = "disputed"
BALANCE_ATTEMPTS = 30
#: Most withdrawals one clawback puts on hold (each is two items of its transaction, at most 100).
MAX_HOLDS = 40

#: Internal reason -> the public category a referrer may see (the keys of notifications.REASON_LABELS).
PUBLIC_REASON = {
    "not_attributed": "programme_rules",
    "existing_customer": "existing_customer",
    "outside_service_area": "outside_service_area",
    "outside_attribution_window": "outside_attribution_window",
    "below_minimum_value": "below_minimum_value",
    "job_refunded": "job_refunded",
    "job_cancelled": "job_refunded",
    "dismissed_by_staff": "staff_decision",
    "currency_mismatch": "programme_rules",
}
#: Referrer statuses whose rewards wait for a staff decision instead of being credited automatically.
INACTIVE_REFERRER = frozenset({"suspended", "erased"})
#: Review statuses that mean the referral is in the staff queue already.
IN_QUEUE = frozenset({ReviewStatus.OPEN, ReviewStatus.QUESTIONED, ReviewStatus.DEFERRED})


class Outcome(StrEnum):
    WAIT = "wait"  # the job is not both completed and paid yet
    NOT_ELIGIBLE = "not_eligible"
    REVIEW = "review"  # eligible on the facts, but a person must decide first
    CREDIT = "credit"


@dataclass(frozen=True)
class Eligibility:
    outcome: Outcome
    reasons: tuple[str, ...] = ()

    @property
    def public_reason(self) -> str:
        return next((PUBLIC_REASON[r] for r in self.reasons if r in PUBLIC_REASON), "programme_rules")

    def record(self, at: str, program_version: int) -> dict[str, Any]:
        return {"eligible": self.outcome is Outcome.CREDIT, "outcome": str(self.outcome),
                "reasons": list(self.reasons), "evaluated_at": at, "program_version": program_version}


@dataclass(frozen=True)
class Facts:
    """What eligibility is decided on: the referral, its flags and its job."""

    referral: dict[str, Any]
    flags: list[dict[str, Any]] = field(default_factory=list)
    job: dict[str, Any] | None = None


def evaluate(facts: Facts, program: Program, *, currency: str, staff_accepted: bool = False) -> Eligibility:
    """Decide a referral's reward. ``currency``: the programme's; a job in another one is never credited
    automatically and its amount is never compared with the programme's amounts. ``staff_accepted``: a
    person has reviewed it, so flags and the review requirement no longer hold it back (the facts of the
    job still do)."""
    referral, job, rules = facts.referral, facts.job, program.rules
    statuses = set((job or {}).get("statuses") or ())
    if job is None or (not statuses >= SETTLED and not statuses & UNDONE):
        return Eligibility(Outcome.WAIT, ("job_not_completed_and_paid",))
    open_flags = [f for f in facts.flags if f.get("status") == "open"]
    hard: list[str] = []
    if "refunded" in statuses:
        hard.append("job_refunded")
    if "cancelled" in statuses:
        hard.append("job_cancelled")
    if not referral.get("referrer_id"):
        hard.append("not_attributed")
    if not staff_accepted and (referral.get("existing_customer")
                               or any(f.get("flag_type") == FlagType.EXISTING_CUSTOMER for f in open_flags)):
        hard.append("existing_customer")
    if rules.zones and str(referral.get("postcode", "")).strip() not in rules.zones:
        hard.append("outside_service_area")
    if not _within_window(referral, job, program):
        hard.append("outside_attribution_window")
    mismatch = currency_mismatch(job, currency)
    reviewed = staff_accepted or referral.get("review_status") == ReviewStatus.ACCEPTED
    amount = int(job.get("amount_cents") or 0)
    if not mismatch and amount < rules.min_job_value_cents:
        hard.append("below_minimum_value")
    if mismatch and reviewed and uses_job_amount(program):
        hard.append("currency_mismatch")  # like with like: no conversion, so no amount rule can apply
    if not staff_accepted and referral.get("review_status") == ReviewStatus.DISMISSED:
        hard.append("dismissed_by_staff")
    if hard:
        return Eligibility(Outcome.NOT_ELIGIBLE, tuple(hard))
    if staff_accepted:
        return Eligibility(Outcome.CREDIT)
    review: list[str] = ["currency_mismatch"] if mismatch and not reviewed else []
    if DISPUTED in statuses:
        review.append("job_disputed")
    if referral.get("hold_stage") == Stage.NOT_ELIGIBLE:
        return Eligibility(Outcome.NOT_ELIGIBLE, ("held_not_eligible",))
    if referral.get("hold_stage") == Stage.UNDER_REVIEW:
        review.append("held_under_review")
    for flag in open_flags:
        high = flag.get("severity") == Severity.HIGH
        review.append(f"{'high_severity_flag' if high else 'open_flag'}:{flag['flag_type']}")
    status = referral.get("review_status")
    if status and status != ReviewStatus.ACCEPTED:
        review.append(f"review_status:{status}")
    if rules.require_review and status != ReviewStatus.ACCEPTED:
        review.append("staff_review_required")
    if review:
        return Eligibility(Outcome.REVIEW, tuple(dict.fromkeys(review)))
    return Eligibility(Outcome.CREDIT)


def currency_mismatch(job: dict[str, Any], currency: str) -> bool:
    """The job's amount is in another currency than the programme's (a job without an amount has none)."""
    return bool(job.get("currency")) and job.get("currency") != currency


def uses_job_amount(program: Program) -> bool:
    """Whether a reward depends on the job's amount: a minimum job value or a percentage tier."""
    rules = program.rules
    return rules.min_job_value_cents > 0 or any(t.reward.percent_bp is not None for t in rules.all_tiers())


def _within_window(referral: dict[str, Any], job: dict[str, Any], program: Program) -> bool:
    """The job was completed within the attribution window after the referral was attributed."""
    attribution = referral.get("attribution") or {}
    started = attribution.get("at") or referral.get("created_at")
    finished = job.get("completed_at") or job.get("paid_at")
    if not started or not finished:
        return True
    window = attribution.get("window_days") or program.rules.attribution.window_days
    return parse_iso(finished) <= parse_iso(started) + timedelta(days=int(window))


def reward_amount(program: Program, rewarded_count: int, paid_cents: int,
                  referrer_type: str | None = None) -> tuple[str, int]:
    """(tier name, cents) for the next reward of a referrer of ``referrer_type`` (their type's tiers, or the
    general ones) who already has ``rewarded_count``."""
    tiers = program.rules.tiers_for(referrer_type)
    tier = tiers[program.rules.tier_index(rewarded_count, referrer_type)]
    return tier.name, tier.reward.for_job(paid_cents)


# -- triggers ------------------------------------------------------------------------------------
def reached_paid(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A referral's progress crossed ``customer_paid`` in this change."""
    threshold = RANK[Stage.CUSTOMER_PAID]
    return int(old.get("stage_rank") or 0) < threshold <= int(new.get("stage_rank") or 0)


def became(statuses: frozenset[str], old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A job has all of ``statuses`` now and did not before this change."""
    return statuses <= set(new.get("statuses") or ()) and not statuses <= set(old.get("statuses") or ())


def became_accepted(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A staff decision accepted the referral in this change."""
    return new.get("review_status") == ReviewStatus.ACCEPTED != old.get("review_status")


def became_paid_out(old: dict[str, Any], new: dict[str, Any]) -> bool:
    """Staff recorded this withdrawal as paid in this change."""
    return new.get("status") == WithdrawalStatus.PAID != old.get("status")


def on_change(repos: RewardRepos, old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """Route one stream change (referral, job or withdrawal) to settling; returns what was done, for the
    logs. The staff routes only commit their decision: the credit after an accept and the rewards a payout
    covers follow from here, with the stream's retries, so a failure after the commit is never lost."""
    if new.get("type") == "referral" and became_accepted(old, new):
        return on_staff_accept(repos, _lead_id(new))
    if new.get("type") == "referral" and reached_paid(old, new):
        return settle(repos, _lead_id(new))
    if new.get("type") == "withdrawal" and became_paid_out(old, new):
        changed = mark_rewards_paid(repos, new["referrer_id"], at=new.get("decided_at") or iso())
        return f"rewards_paid:{changed}"
    if new.get("type") == "job":
        flag_refund_excess(repos, old, new)
    if new.get("type") == "job" and became(frozenset({"refunded"}), old, new):
        return on_job_refunded(repos, new["job_id"])
    if new.get("type") == "job" and became(frozenset({DISPUTED}), old, new):
        return on_job_disputed(repos, new["job_id"])
    if new.get("type") == "job" and became(SETTLED, old, new) and new.get("lead_id"):
        return settle(repos, new["lead_id"])
    return None


def flag_refund_excess(repos: RewardRepos, old: dict[str, Any], new: dict[str, Any]) -> bool:
    """A refund larger than the job's amount was capped (``refund_excess_cents``, services.jobs): flag the
    job's lead for staff once (low: the refund already stops the reward). False when there is nothing new
    to flag or no lead to put it on."""
    lead_id = new.get("linked_lead_id") or new.get("lead_id")
    seen = bool(int(old.get("refund_excess_cents") or 0)) and (old.get("linked_lead_id") or old.get("lead_id"))
    if not int(new.get("refund_excess_cents") or 0) or seen or not lead_id:
        return False
    if repos.referrals.get(str(lead_id), consistent=True) is None:
        return False  # not a referral: the job item keeps the excess for the record
    return repos.referrals.raise_flag(str(lead_id), FlagType.REFUND_EXCEEDS_AMOUNT, Severity.LOW, {
        "job_id": new["job_id"], "amount_cents": new.get("amount_cents"),
        "refund_cents": int(new.get("refunded_cents") or 0) + int(new["refund_excess_cents"])})


def _lead_id(referral: dict[str, Any]) -> str:
    return lead_id_of(referral)


# -- settling ------------------------------------------------------------------------------------
def _facts(repos: RewardRepos, lead_id: str) -> Facts | None:
    items = repos.referrals.evidence(lead_id)
    referral = next((i for i in items if i.get("type") == "referral"), None)
    if referral is None:
        return None
    flags = [i for i in items if i.get("type") == "flag"]
    job = repos.jobs.get(referral["job_id"]) if referral.get("job_id") else None
    return Facts(referral={"lead_id": lead_id, **referral}, flags=flags, job=job)


def settle(repos: RewardRepos, lead_id: str, *, staff_accepted: bool = False) -> str:
    """Evaluate a referral whose job may be completed and paid, and act on the outcome (idempotent)."""
    facts = _facts(repos, lead_id)
    if facts is None:
        return "no_referral"
    program = current_program(repos.program)
    result = evaluate(facts, program, currency=repos.currency, staff_accepted=staff_accepted)
    if (result.outcome is Outcome.CREDIT and not staff_accepted
            and repos.ledger.referrer_status(facts.referral["referrer_id"]) in INACTIVE_REFERRER):
        result = Eligibility(Outcome.REVIEW, ("referrer_inactive",))  # suspended or erased: staff decide
    at = iso()
    if result.outcome is Outcome.WAIT:
        return str(result.outcome)
    if result.outcome is Outcome.NOT_ELIGIBLE:
        if facts.job is not None and repos.rewards.get(facts.job["job_id"]) is not None:
            return "already_credited"
        repos.rewards.record_eligibility(lead_id, result.record(at, program.version), at=at)
        reason = facts.referral.get("not_eligible_reason") or result.public_reason
        repos.referrals.hold(lead_id, Stage.NOT_ELIGIBLE, reason=reason, at=at)
        return str(result.outcome)
    if result.outcome is Outcome.REVIEW:
        if "currency_mismatch" in result.reasons and facts.job is not None:
            repos.referrals.raise_flag(lead_id, FlagType.CURRENCY_MISMATCH, Severity.HIGH, {
                "job_id": facts.job["job_id"], "job_currency": facts.job.get("currency"),
                "program_currency": repos.currency, "amount_cents": facts.job.get("amount_cents")}, at=at)
        repos.rewards.record_eligibility(lead_id, result.record(at, program.version), at=at,
                                         open_review=facts.referral.get("review_status") not in IN_QUEUE)
        repos.referrals.hold(lead_id, Stage.UNDER_REVIEW, at=at)
        return str(result.outcome)
    credited = _credit(repos, facts, program, result.record(at, program.version))
    if not credited and staff_accepted and facts.job is not None:
        repos.rewards.resume_release(facts.job["job_id"])  # a dispute held it; staff decided it stands
    if facts.referral.get("hold_stage"):
        repos.referrals.release_hold(lead_id)
    repos.referrals.advance_stage(lead_id, Stage.REWARD_PENDING)
    return "credited" if credited else "already_credited"


def on_staff_accept(repos: RewardRepos, lead_id: str) -> str:
    """Staff accepted a referral held for review (the stream's record of the accept): credit it if the job
    still qualifies (once)."""
    return settle(repos, lead_id, staff_accepted=True)


def _credit(repos: RewardRepos, facts: Facts, program: Program, eligibility: dict[str, Any]) -> bool:
    """Credit the job's reward as pending, once: False if it was credited before."""
    job, referral = facts.job or {}, facts.referral  # evaluate() credits only with a job
    referrer_id, job_id, lead_id = referral["referrer_id"], job["job_id"], referral["lead_id"]
    referrer_type = repos.ledger.referrer_type(referrer_id)

    def attempt() -> bool:
        balance = repos.ledger.balance(referrer_id)
        tier, amount = reward_amount(program, int(balance.get("rewarded_count", 0)),
                                     int(job.get("amount_cents") or 0), referrer_type)
        moment = now()
        at, release_at = iso(moment), iso(moment + timedelta(days=program.rules.holding_days))
        reward = {"job_id": job_id, "lead_id": lead_id, "referrer_id": referrer_id, "amount_cents": amount,
                  "currency": repos.currency, "tier": tier, "state": str(RewardState.PENDING),
                  "created_at": at, "release_at": release_at, "program_version": program.version}
        also: list[Operation] = [eligibility_update(lead_id, eligibility, at=at),
                                 reward_export_pointer(job_id, at=at)]
        referee = program.rules.referee_reward
        if referee.enabled and referee.amount_cents > 0:
            also.append(referee_credit_note(job_id, lead_id, referee.amount_cents, at))
        entry = Entry(referrer_id=referrer_id, kind=EntryKind.CREDIT_PENDING, source_id=job_id,
                      amount_cents=amount, deltas=Deltas(pending_cents=amount, rewarded_count=1), at=at,
                      detail={"lead_id": lead_id, "tier": tier, "release_at": release_at})
        try:
            repos.ledger.post(entry, guards=[repos.rewards.new(reward)], also=also,
                              expected_version=int(balance["version"]))
        except AlreadyPosted:
            return False
        return True

    return with_fresh_balance(attempt)


def with_fresh_balance(attempt: Callable[[], T]) -> T:
    """Run an optimistic ledger write again while the balance keeps moving under it."""
    for tries in range(BALANCE_ATTEMPTS):
        try:
            return attempt()
        except BalanceChanged:
            time.sleep(min(0.002 * 2 ** tries, 0.05))
    raise Unavailable("the balance is busy, please retry", retry_after=1)


# -- holding period ------------------------------------------------------------------------------
def release_due(repos: RewardRepos, *, at: str | None = None) -> int:
    """Make every reward whose holding period has ended available; returns how many were released."""
    at = at or iso()
    released = 0
    for reward in repos.rewards.due(at):
        if release(repos, reward["job_id"], at=at):
            released += 1
    return released


def release(repos: RewardRepos, job_id: str, *, at: str) -> bool:
    """pending → available for one reward (once), net of any clawback still outstanding."""
    reward = repos.rewards.get(job_id)
    if reward is None or reward["state"] != RewardState.PENDING or reward.get("release_held_at"):
        return False
    referrer_id, amount = reward["referrer_id"], int(reward["amount_cents"])

    def attempt() -> bool:
        balance = repos.ledger.balance(referrer_id)
        recovered = min(amount, int(balance.get("clawback_outstanding_cents", 0)))
        entry = Entry(referrer_id=referrer_id, kind=EntryKind.RELEASE_TO_AVAILABLE, source_id=job_id,
                      amount_cents=amount, at=at,
                      deltas=Deltas(pending_cents=-amount, available_cents=amount - recovered,
                                    clawback_outstanding_cents=-recovered),
                      detail={"lead_id": reward["lead_id"], "clawback_recovered_cents": recovered})
        guard = repos.rewards.transition(job_id, [RewardState.PENDING], RewardState.AVAILABLE, at=at,
                                         attributes={"released_at": at})
        try:
            repos.ledger.post(entry, guards=[guard], expected_version=int(balance["version"]))
        except AlreadyPosted:
            return False
        return True

    released = with_fresh_balance(attempt)
    if released:
        repos.referrals.advance_stage(reward["lead_id"], Stage.REWARD_AVAILABLE, at=at)
    return released


# -- refunds -------------------------------------------------------------------------------------
def on_job_refunded(repos: RewardRepos, job_id: str) -> str:
    """Reverse a pending reward or claw back a released one; a job not yet credited becomes
    not eligible (if it is linked to a referral)."""
    reward = repos.rewards.get(job_id)
    at = iso()
    if reward is None:
        job = repos.jobs.get(job_id)
        return settle(repos, job["lead_id"]) if job and job.get("lead_id") else "no_referral"
    state = reward["state"]
    if state == RewardState.PENDING:
        done = _reverse(repos, reward, at)
    elif state in (RewardState.AVAILABLE, RewardState.PAID):
        done = _claw_back(repos, reward, at)
    else:
        return "already_undone"
    repos.referrals.hold(reward["lead_id"], Stage.NOT_ELIGIBLE, reason="job_refunded", at=at)
    return ("reversed" if state == RewardState.PENDING else "clawed_back") if done else "already_undone"


def on_job_disputed(repos: RewardRepos, job_id: str) -> str:
    """The job's payment is disputed (``job.disputed``): a pending reward leaves the release queue until
    staff decide (an accept puts it back, ``settle``), a released one stays where it is (no money moves
    on a dispute; a refund that follows claws it back), and the referral goes to the review queue with a
    high ``refund_hold`` flag either way. A job not credited yet is settled: ``evaluate`` sends it to
    review (``job_disputed``) instead of crediting it."""
    reward = repos.rewards.get(job_id)
    if reward is None:
        job = repos.jobs.get(job_id) or {}
        lead_id = job.get("linked_lead_id") or job.get("lead_id")
        return settle(repos, str(lead_id)) if lead_id else "no_referral"
    at = iso()
    held = reward["state"] == RewardState.PENDING and repos.rewards.hold_release(job_id, at=at)
    repos.referrals.raise_flag(reward["lead_id"], FlagType.REFUND_HOLD, Severity.HIGH,
                               {"job_id": job_id, "reason": "job_disputed", "reward_state": reward["state"]},
                               at=at)
    repos.referrals.hold(reward["lead_id"], Stage.UNDER_REVIEW, at=at)
    return "release_held" if held else "flagged"


def _reverse(repos: RewardRepos, reward: dict[str, Any], at: str) -> bool:
    amount, job_id = int(reward["amount_cents"]), reward["job_id"]
    entry = Entry(referrer_id=reward["referrer_id"], kind=EntryKind.REVERSAL, source_id=job_id,
                  amount_cents=amount, deltas=Deltas(pending_cents=-amount, rewarded_count=-1), at=at,
                  detail={"lead_id": reward["lead_id"], "reason": "job_refunded"})
    guard = repos.rewards.transition(job_id, [RewardState.PENDING], RewardState.REVERSED, at=at)
    try:
        repos.ledger.post(entry, guards=[guard])
    except AlreadyPosted:
        return False
    return True


def _claw_back(repos: RewardRepos, reward: dict[str, Any], at: str) -> bool:
    """Take a released reward back: from available (below zero only if the rules allow), the rest is
    recorded as ``clawback_outstanding_cents`` and recovered from later releases. The part available does
    not cover is money the referrer has asked to withdraw: the newest open withdrawals that hold it go
    ``on_hold`` in the same transaction, so staff cannot pay them without an override."""
    amount, job_id, referrer_id = int(reward["amount_cents"]), reward["job_id"], reward["referrer_id"]
    allow_negative = current_program(repos.program).rules.allow_negative_balance

    def attempt() -> bool:
        balance = repos.ledger.balance(referrer_id)
        covered = min(amount, max(int(balance["available_cents"]), 0))
        taken = amount if allow_negative else covered
        holds = _holds_for(repos, referrer_id, balance, amount - covered)
        also: list[Operation] = []
        for withdrawal, cents in holds:
            also.extend(repos.withdrawals.hold(withdrawal, cents=cents, job_id=job_id, at=at))
        held = [{"withdrawal_id": w["withdrawal_id"], "cents": cents} for w, cents in holds]
        entry = Entry(referrer_id=referrer_id, kind=EntryKind.CLAWBACK, source_id=job_id, amount_cents=amount,
                      deltas=Deltas(available_cents=-taken, rewarded_count=-1,
                                    clawback_outstanding_cents=amount - taken),
                      at=at, detail={"lead_id": reward["lead_id"], "reason": "job_refunded",
                                     "outstanding_cents": amount - taken, "held_withdrawals": held})
        guard = repos.rewards.transition(job_id, [RewardState.AVAILABLE, RewardState.PAID],
                                         RewardState.CLAWED_BACK, at=at,
                                         attributes={"held_withdrawals": [h["withdrawal_id"] for h in held]})
        try:
            repos.ledger.post(entry, guards=[guard], also=also, expected_version=int(balance["version"]),
                              allow_negative=allow_negative)
        except AlreadyPosted:
            return False
        except ConditionFailed as exc:  # a withdrawal changed after the index was read: read again
            raise BalanceChanged("a withdrawal changed, read it again", reasons=exc.reasons) from exc
        return True

    return with_fresh_balance(attempt)


def _holds_for(repos: RewardRepos, referrer_id: str, balance: dict[str, Any], shortfall: int
               ) -> list[tuple[dict[str, Any], int]]:
    """Which open withdrawals cover ``shortfall`` (newest first: the last money asked for is the money
    that is no longer there), with the cents each newly covers; each covers at most its amount."""
    if shortfall <= 0 or int(balance.get("held_cents", 0)) <= 0:
        return []
    open_withdrawals = repos.withdrawals.open_of_referrer(referrer_id)
    if sum(int(w["amount_cents"]) for w in open_withdrawals) != int(balance["held_cents"]):
        # held_cents is exactly the open withdrawals: the index has not caught up with one yet.
        raise BalanceChanged("the withdrawals index is behind the balance, read it again")
    holds: list[tuple[dict[str, Any], int]] = []
    for withdrawal in open_withdrawals:
        free = int(withdrawal["amount_cents"]) - int(withdrawal.get("hold_cents") or 0)
        cents = min(free, shortfall)
        if cents > 0 and len(holds) < MAX_HOLDS:
            holds.append((withdrawal, cents))
            shortfall -= cents
        if shortfall <= 0:
            break
    return holds


def mark_rewards_paid(repos: RewardRepos, referrer_id: str, *, at: str) -> int:
    """After a payout (the stream's withdrawal ``paid`` record): the oldest released rewards that the total
    paid out covers become ``paid`` and their referrals ``reward_paid`` (first in, first out). Idempotent:
    each reward moves with its referral in one transaction, so a replay or a retry finishes the rest.
    Returns how many changed."""
    paid_total = int(repos.ledger.balance(referrer_id).get("paid_cents", 0))
    covered, changed = 0, 0
    for reward in repos.rewards.all_of_referrer(referrer_id):
        if reward["state"] not in (RewardState.AVAILABLE, RewardState.PAID):
            continue
        covered += int(reward["amount_cents"])
        if covered > paid_total:
            break
        if reward["state"] == RewardState.AVAILABLE and repos.rewards.mark_paid(
                reward["job_id"], reward["lead_id"], at=at):
            changed += 1
    return changed
