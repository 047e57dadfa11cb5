"""API models for referrers."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, MultiLine, OneLine

ReferrerStatus = Literal["active", "suspended", "erased"]
Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), MultiLine]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120), OneLine]


class CreateReferrerRequest(Model):
    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), OneLine]
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), OneLine] | None = None


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
