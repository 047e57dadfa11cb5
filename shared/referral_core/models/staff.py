"""API models for staff management (admin only): the console's accounts in the Cognito user pool."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.auth import Role
from referral_core.models.base import Model, OneLine


class StaffMember(Model):
    username: str = Field(description="Cognito's username (the user's `sub`): use it in the paths")
    email: str
    role: Role | None = Field(description="The highest of its groups; null: in none (it can do nothing)")
    enabled: bool
    status: str = Field(description="FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED")
    created_at: str


class StaffList(Model):
    items: list[StaffMember] = Field(description="By email")


class InviteStaffRequest(Model):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), OneLine]
    role: Role


class ChangeRoleRequest(Model):
    model_config = ConfigDict(extra="forbid")

    role: Role
