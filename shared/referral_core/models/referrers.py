"""API models for referrers."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.applications import ReferrerType
from referral_core.models.base import Model, MultiLine, OneLine

ReferrerStatus = Literal["active", "suspended", "erased"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), MultiLine]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]


class CreateReferrerRequest(Model):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), OneLine]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), OneLine] | None = None
    referrer_type: ReferrerType | None = Field(
        default=None, description="customer, local_partner, ambassador or campus_helper: picks the rules in "
                                  "`rules.by_type`; absent: the general rules")


class UpdateReferrerRequest(Model):
    """``PATCH /admin/referrers/{id}``: the referrer's type (the rules they earn by), audited."""

    model_config = ConfigDict(extra="forbid")

    referrer_type: ReferrerType | None = Field(
        description="customer, local_partner, ambassador or campus_helper; null: none (the general rules)")
    note: Note = Field(description="why: required, kept in the audit trail")


class ReferrerTypeView(Model):
    """A referrer's type after a change."""

    referrer_id: str
    referrer_type: ReferrerType | None
    previous_type: ReferrerType | None
    changed_at: str = Field(description="ISO-8601 UTC")
    changed_by: str


class CreateReferrerResponse(Model):
    referrer_id: str
    code: str
    link: str
    email: str
    created_at: str = Field(description="ISO-8601 UTC")


class ReferrerStatusRequest(Model):
    """``POST /admin/referrers/{id}/suspend`` and ``/reactivate``."""

    model_config = ConfigDict(extra="forbid")

    note: Note = Field(description="why: required, kept in the audit trail")


class ReferrerStatusView(Model):
    """A referrer's status after a suspension or reactivation."""

    referrer_id: str
    status: ReferrerStatus
    previous_status: ReferrerStatus
    changed_at: str = Field(description="ISO-8601 UTC")
    changed_by: str
    share_codes_updated: int = Field(description="Share codes that now carry this status")


class ReferrerSummary(Model):
    """A referrer in the staff directory (absent attributes are left out)."""

    model_config = ConfigDict(extra="ignore")

    referrer_id: str
    name: str | None = None
    email: str | None = None
    status: str = Field(default="active", description="active, suspended or erased (absent: active)")
    referrer_type: str | None = Field(default=None, description="customer, local_partner, ambassador or "
                                                                "campus_helper (absent: none)")
    personal_code: str | None = None
    created_at: str | None = None


class ReferrerDirectoryPage(Model):
    items: list[ReferrerSummary] = Field(description="By name, A to Z; exact matches (email, code, id) first")
    next_cursor: str | None = Field(description="Pass as `cursor` (with the same `q`) for more; null at the end")
    matched_by: str = Field(description="all, name (prefix), email, code or id", examples=["name"])


class AdjustmentRequest(Model):
    model_config = ConfigDict(extra="forbid")

    amount_cents: Annotated[int, Field(ge=-10_000_000, le=10_000_000,
                                       description="+ a bonus, - a correction of the available balance; not 0")]
    reason: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=1000),
                      MultiLine] = Field(
        description="Why: kept with the entry and in the audit trail (the referrer sees the entry, not this)")
    adjustment_id: Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9-]{8,64}$")] | None = Field(
        default=None, description="The client's id for this adjustment: sending it again posts nothing (409)")


class AdjustmentResponse(Model):
    adjustment_id: str
    referrer_id: str
    amount_cents: int
    available_cents: int = Field(description="The available balance after it")
    at: str


class ReferrerDetail(Model):
    """``GET /admin/referrers/{id}``: the referrer and what hangs off them, each item as stored (no keys)."""

    referrer: ReferrerSummary
    profile: dict[str, Any] = Field(description="The profile as stored: phone, link, origin, opt-out...")
    balance: dict[str, Any] | None
    ledger: list[dict[str, Any]] = Field(description="Every ledger entry, newest first")
    share_codes: list[dict[str, Any]]
    referrals: list[dict[str, Any]] = Field(description="The 20 newest referrals")
    more_referrals: bool
    withdrawals: list[dict[str, Any]] = Field(description="The 20 newest withdrawals")
