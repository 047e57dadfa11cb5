"""API models for balances, rewards and withdrawals (referrer dashboard and staff payouts)."""

from __future__ import annotations

from typing import Annotated, Any, Self

from pydantic import ConfigDict, Field, StrictBool, StrictInt, StringConstraints

from referral_core.models.base import Model, MultiLine, OneLine
from referral_core.models.payouts import PayoutMethodView
from referral_core.models.program import Tier

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), MultiLine]


class _Request(Model):
    model_config = ConfigDict(extra="forbid")


class WithdrawalRequest(_Request):
    # Strict: "2000" or true is refused (422 naming amount_cents), never read as a number.
    amount_cents: Annotated[StrictInt, Field(ge=1, le=100_000_000)]


class MarkPaidRequest(_Request):
    payout_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
    note: Note = ""
    override_hold: StrictBool = Field(
        default=False, description="pay a withdrawal that is on_hold anyway (a note is then required; audited)")


class RejectRequest(_Request):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), MultiLine]


class Withdrawal(Model):
    withdrawal_id: str
    referrer_id: str
    amount_cents: int
    currency: str
    status: str = Field(description="requested, on_hold, paid or rejected")
    created_at: str
    hold_reason: str | None = Field(default=None, description="why it is on hold: reward_clawed_back (a job "
                                    "whose reward funds it was refunded)")
    hold_cents: int | None = Field(default=None, description="how much of it the clawbacks reach")
    held_at: str | None = None
    decided_at: str | None = None
    decided_by: str | None = None
    payout_reference: str | None = None
    note: str | None = None
    payout_method: PayoutMethodView | None = Field(
        default=None, description="Where to pay it, masked: the method on file when it was requested (none "
                                  "when the referrer had none)")

    @classmethod
    def of(cls, item: dict[str, Any]) -> Self:
        return cls.model_validate({k: item.get(k) for k in cls.model_fields if item.get(k) is not None})


class StaffWithdrawal(Withdrawal):
    """A withdrawal as staff see it: also the refunded jobs that put it on hold, and whether a payout
    overrode the hold."""

    hold_jobs: list[str] | None = Field(default=None, description="jobs whose clawback holds it")
    override_hold: bool | None = None


class WithdrawalPage(Model):
    items: list[StaffWithdrawal]
    next_cursor: str | None = None


class Balance(Model):
    pending_cents: int = Field(description="credited, still in the holding period")
    available_cents: int = Field(description="may be withdrawn")
    held_cents: int = Field(description="in withdrawals waiting for a payout")
    paid_cents: int = Field(description="paid out")
    clawback_outstanding_cents: int = Field(description="refunded rewards still to recover from new ones")


class TierProgress(Model):
    name: str
    rewarded_count: int
    next_tier: str | None = None
    rewards_to_next_tier: int | None = None


class RewardView(Model):
    """A reward as its referrer sees it (no customer details)."""

    amount_cents: int
    currency: str | None = None
    tier: str
    state: str = Field(description="pending, available, paid, reversed or clawed_back")
    created_at: str
    release_at: str


class AppliedRules(Model):
    """The reward rules that apply to this referrer: their type's tiers (``rules.by_type``) or the general ones."""

    referrer_type: str | None = Field(description="customer, local_partner, ambassador or campus_helper; null: none")
    tiers: list[Tier] = Field(description="each tier's threshold and reward (flat cents, or basis points with a cap)")


class RewardsSummary(Model):
    currency: str
    balance: Balance
    tier: TierProgress
    rules: AppliedRules
    min_withdrawal_cents: int
    withdrawals: list[Withdrawal]
    rewards: list[RewardView]
