"""API models for payout batches: approved withdrawals paid together by one ABA (Cemtex) bank file
(``/admin/payout-batches``, issue 19 item 5)."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine
from referral_core.models.payouts import PayoutMethodView

#: A batch's withdrawals fit one DynamoDB transaction (the batch, its audit entry, and two items each).
MAX_BATCH = 45
WithdrawalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), OneLine]


class _Request(Model):
    model_config = ConfigDict(extra="forbid")


class CreatePayoutBatchRequest(_Request):
    withdrawal_ids: Annotated[list[WithdrawalId], Field(min_length=1, max_length=MAX_BATCH, description=(
        "requested withdrawals (not on hold), each with a bank account payout method; each id once"))]


class PayoutBatchPaidRequest(_Request):
    payout_reference: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120),
                                OneLine] = Field(description="the bank's reference for the bulk payment")


class PayoutBatchItem(Model):
    withdrawal_id: str
    referrer_id: str
    amount_cents: int
    payout_method: PayoutMethodView = Field(description="masked: the full details only in file.aba/file.csv")


class PayoutBatch(Model):
    batch_id: str
    status: Literal["open", "paid"]
    currency: str
    total_cents: int = Field(description="the sum of the withdrawals' amounts (the ABA file's credit total)")
    count: int
    items: list[PayoutBatchItem]
    created_at: str
    created_by: str
    paid_at: str | None = None
    paid_by: str | None = None
    payout_reference: str | None = None


class PayoutBatchSummary(Model):
    batch_id: str
    status: Literal["open", "paid"]
    currency: str
    total_cents: int
    count: int
    created_at: str
    created_by: str
    paid_at: str | None = None
    payout_reference: str | None = None


class PayoutBatchPage(Model):
    items: list[PayoutBatchSummary] = Field(description="Batches, newest first")
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for older ones; null at the end")
