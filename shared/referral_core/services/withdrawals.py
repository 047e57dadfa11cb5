"""Manual withdrawals: a referrer asks, the amount is held, staff record the payout or reject it.

Nothing is paid automatically: ``mark_withdrawal_paid`` records a payout staff made outside the system.
A decision is one transaction (the withdrawal's status, its ledger entry, the balance and the audit entry);
the rewards a payout covers are marked paid from the stream (``services.rewards.on_change``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referral_core.clock import iso
from referral_core.dal.ledger import AlreadyPosted, Deltas, Entry, EntryKind
from referral_core.dal.rewards import RewardRepos
from referral_core.dal.withdrawals import OPEN_WITHDRAWALS, WithdrawalStatus
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.ids import new_id
from referral_core.models.rewards import (
    AppliedRules,
    Balance,
    MarkPaidRequest,
    RejectRequest,
    RewardsSummary,
    RewardView,
    StaffWithdrawal,
    TierProgress,
    Withdrawal,
    WithdrawalPage,
)
from referral_core.services.program import current_program
from referral_core.services.rewards import with_fresh_balance


def request_withdrawal(repos: RewardRepos, referrer_id: str, amount_cents: int, *, currency: str,
                       payout: Mapping[str, Any] | None = None) -> Withdrawal:
    """Hold ``amount_cents`` of the available balance for a payout (``POST /me/withdrawals``, 201).

    ``payout``: the payout method on file (``services.payout_methods.withdrawal_snapshot``: the encrypted
    envelope and the masked form), kept with the withdrawal so a later change does not redirect it.

    422 below the programme's minimum; 409 when more than is available (the balance update's condition
    decides, so concurrent requests can never overdraw).
    """
    rules = current_program(repos.program).rules
    if amount_cents < rules.min_withdrawal_cents:
        raise InvalidInput(f"the minimum withdrawal is {rules.min_withdrawal_cents} cents",
                           fields={"amount_cents": f"below the minimum of {rules.min_withdrawal_cents}"})
    repos.ledger.balance(referrer_id)  # 404 for an unknown referrer
    at, withdrawal_id = iso(), new_id()
    withdrawal = {"withdrawal_id": withdrawal_id, "referrer_id": referrer_id, "amount_cents": amount_cents,
                  "currency": currency, "status": str(WithdrawalStatus.REQUESTED), "created_at": at,
                  **(payout or {})}
    entry = Entry(referrer_id=referrer_id, kind=EntryKind.WITHDRAWAL_HOLD, source_id=withdrawal_id,
                  amount_cents=amount_cents, at=at,
                  deltas=Deltas(available_cents=-amount_cents, held_cents=amount_cents))
    repos.ledger.post(entry, guards=[repos.withdrawals.new(withdrawal)])
    return Withdrawal.of(withdrawal)


def _open(repos: RewardRepos, withdrawal_id: str) -> dict[str, Any]:
    withdrawal = repos.withdrawals.get(withdrawal_id)
    if withdrawal is None:
        raise NotFound("no such withdrawal")
    if withdrawal["status"] not in OPEN_WITHDRAWALS:
        raise Conflict(f"the withdrawal is already {withdrawal['status']}")
    return withdrawal


def _decide(repos: RewardRepos, withdrawal_id: str, status: WithdrawalStatus, *, actor: str,
            attributes: dict[str, Any], override_hold: bool = False) -> StaffWithdrawal:
    def attempt() -> StaffWithdrawal:
        withdrawal = _open(repos, withdrawal_id)
        if status is WithdrawalStatus.PAID and withdrawal["status"] == WithdrawalStatus.ON_HOLD \
                and not override_hold:
            raise Conflict("the withdrawal is on hold: a reward it draws on was clawed back after a refund; "
                           "reject it, or pay it with override_hold and a note",
                           fields={"override_hold": "the withdrawal is on hold (reward_clawed_back)"})
        amount, referrer_id, at = int(withdrawal["amount_cents"]), str(withdrawal["referrer_id"]), iso()
        extra = dict(attributes)
        expected: int | None = None
        if status is WithdrawalStatus.PAID:
            kind, deltas = EntryKind.WITHDRAWAL_PAID, Deltas(held_cents=-amount, paid_cents=amount)
            if withdrawal["status"] == WithdrawalStatus.ON_HOLD:
                extra["override_hold"] = True
        else:
            # Money back in available repays a clawback still outstanding first (as a release does).
            balance = repos.ledger.balance(referrer_id)
            expected = int(balance["version"])
            recovered = min(amount, max(int(balance.get("clawback_outstanding_cents", 0)), 0))
            kind = EntryKind.WITHDRAWAL_REJECTED_RELEASE
            deltas = Deltas(held_cents=-amount, available_cents=amount - recovered,
                            clawback_outstanding_cents=-recovered)
            extra["clawback_recovered_cents"] = recovered
        guard, audit = repos.withdrawals.decide(withdrawal, status, actor=actor, at=at, attributes=extra)
        entry = Entry(referrer_id=referrer_id, kind=kind, source_id=withdrawal_id, amount_cents=amount, at=at,
                      deltas=deltas, detail={"actor": actor, **extra})
        try:
            repos.ledger.post(entry, guards=[guard], also=[audit], expected_version=expected)
        except AlreadyPosted as exc:
            raise Conflict("the withdrawal was decided or put on hold meanwhile; read it again") from exc
        return StaffWithdrawal.of({**withdrawal, "status": str(status), "decided_at": at, "decided_by": actor,
                                   **extra})

    return with_fresh_balance(attempt)


def mark_withdrawal_paid(repos: RewardRepos, withdrawal_id: str, request: MarkPaidRequest, *,
                         actor: str) -> StaffWithdrawal:
    """Staff paid it by hand: held → paid, with the payout reference (audited). The rewards it covers
    become ``paid`` from the stream record of this change. A withdrawal ``on_hold`` (a clawback reached
    it) is 409 unless ``override_hold`` with a note (the audit entry records the override)."""
    if request.override_hold and not request.note:
        raise InvalidInput("a note is required to override a hold",
                           fields={"note": "required with override_hold"})
    return _decide(repos, withdrawal_id, WithdrawalStatus.PAID, actor=actor, override_hold=request.override_hold,
                   attributes={"payout_reference": request.payout_reference, "note": request.note})


def reject_withdrawal(repos: RewardRepos, withdrawal_id: str, request: RejectRequest, *,
                      actor: str) -> StaffWithdrawal:
    """Staff will not pay it: held → available again (audited), less any clawback still outstanding,
    which that money repays first."""
    return _decide(repos, withdrawal_id, WithdrawalStatus.REJECTED, actor=actor,
                   attributes={"note": request.note})


def list_withdrawals(repos: RewardRepos, status: WithdrawalStatus, *, cursor: str | None = None,
                     limit: int = 50) -> WithdrawalPage:
    items, next_cursor = repos.withdrawals.by_status(status, limit=limit, cursor=cursor)
    return WithdrawalPage(items=[StaffWithdrawal.of(i) for i in items], next_cursor=next_cursor)


def referrer_summary(repos: RewardRepos, referrer_id: str, *, currency: str) -> RewardsSummary:
    """Balances, tier and progress to the next one, withdrawals and rewards, for the dashboard."""
    program = current_program(repos.program)
    balance = repos.ledger.balance(referrer_id)
    count = int(balance.get("rewarded_count", 0))
    referrer_type = repos.ledger.referrer_type(referrer_id)
    tiers = program.rules.tiers_for(referrer_type)
    index = program.rules.tier_index(count, referrer_type)
    upcoming = tiers[index + 1] if index + 1 < len(tiers) else None
    return RewardsSummary(
        currency=currency,
        balance=Balance(**{f: int(balance.get(f, 0)) for f in Balance.model_fields}),
        tier=TierProgress(name=tiers[index].name, rewarded_count=count,
                          next_tier=upcoming.name if upcoming else None,
                          rewards_to_next_tier=upcoming.min_rewarded - count if upcoming else None),
        rules=AppliedRules(referrer_type=referrer_type, tiers=list(tiers)),
        min_withdrawal_cents=program.rules.min_withdrawal_cents,
        withdrawals=[Withdrawal.of(w) for w in repos.withdrawals.of_referrer(referrer_id)],
        rewards=[RewardView.model_validate({k: r.get(k) for k in RewardView.model_fields})
                 for r in repos.rewards.of_referrer(referrer_id)],
    )
