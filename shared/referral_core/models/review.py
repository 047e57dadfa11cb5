"""API models for staff review, attribution and disputes."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
EntityId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Version = Annotated[int, Field(ge=0, description="the referral's `version` you based the change on")]


class DecisionKind(StrEnum):
    ACCEPT = "accept"
    QUESTION = "question"
    DISMISS = "dismiss"
    DEFER = "defer"


class DecisionRequest(Model):
    model_config = ConfigDict(extra="forbid")

    decision: DecisionKind
    note: Note = Field(description="why: required for every decision")
    expected_version: Version


class AttributionRequest(Model):
    model_config = ConfigDict(extra="forbid")

    referrer_id: EntityId | None = Field(description="the referrer the lead came from, or null for none")
    note: Note
    expected_version: Version


class StaffChangeResponse(Model):
    lead_id: str
    review_status: str | None
    stage: str | None
    referrer_id: str | None = None
    version: int


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"
    WITHDRAWN = "withdrawn"


class OpenDisputeRequest(Model):
    model_config = ConfigDict(extra="forbid")

    referral_id: EntityId | None = Field(default=None, description="the disputed referral (lead id)")
    referrer_id: EntityId | None = Field(default=None, description="the referrer who disputes")
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
    note: Note


class ResolveDisputeRequest(Model):
    model_config = ConfigDict(extra="forbid")

    outcome: DisputeOutcome
    note: Note


class EraseRequest(Model):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254)] | None = (
        None)
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32)] | None = (
        None)
    note: Note = Field(description="why (the request's reference): kept in the audit trail")
