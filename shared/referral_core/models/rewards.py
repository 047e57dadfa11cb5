"""API models for balances, rewards and withdrawals (referrer dashboard and staff payouts)."""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, MultiLine, OneLine

Note = Annotated[str, StringConstraints(strip_whitespace=True, max_length=1000), MultiLine]


class _Request(Model):
    model_config = ConfigDict(extra="forbid")


class WithdrawalRequest(_Request):
    amount_cents: Annotated[int, Field(ge=1, le=100_000_000)]


class MarkPaidRequest(_Request):
    payout_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]
    note: Note = ""


class RejectRequest(_Request):
    note: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=1000), MultiLine]


class Withdrawal(Model):
    withdrawal_id: str
    referrer_id: str
    amount_cents: int
    currency: str
    status: str = Field(description="requested, paid or rejected")
    created_at: str
    decided_at: str | None = None
    decided_by: str | None = None
    payout_reference: str | None = None
    note: str | None = None

    @classmethod
    def of(cls, item: dict[str, Any]) -> Withdrawal:
        return cls.model_validate({k: item.get(k) for k in cls.model_fields if item.get(k) is not None})


class WithdrawalPage(Model):
    items: list[Withdrawal]
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


class RewardsSummary(Model):
    currency: str
    balance: Balance
    tier: TierProgress
    min_withdrawal_cents: int
    withdrawals: list[Withdrawal]
    rewards: list[RewardView]
