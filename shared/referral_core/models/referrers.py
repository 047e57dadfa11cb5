"""API models for referrers."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine

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
