"""Who is calling. Staff come through API Gateway's Cognito JWT authorizer; the handler checks the group
again (defence in depth) and records the caller in the audit trail."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from referral_core.errors import Forbidden, Unauthorized

STAFF_GROUP = "staff"


@dataclass(frozen=True)
class StaffIdentity:
    subject: str
    email: str
    groups: frozenset[str]

    @property
    def actor(self) -> str:
        return f"staff:{self.email or self.subject}"


def _groups(raw: Any) -> frozenset[str]:
    # API Gateway HTTP APIs pass list claims as a string such as "[staff admin]".
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    if isinstance(raw, str):
        return frozenset(part for part in raw.strip("[]").replace(",", " ").split() if part)
    return frozenset()


def staff_from_event(event: Mapping[str, Any]) -> StaffIdentity:
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise Unauthorized("a staff token is required")
    identity = StaffIdentity(subject=str(claims.get("sub", "")), email=str(claims.get("email", "")),
                             groups=_groups(claims.get("cognito:groups")))
    if STAFF_GROUP not in identity.groups:
        raise Forbidden("this account is not in the staff group")
    return identity
