"""Who is calling, and what they may do. Staff come through API Gateway's Cognito JWT authorizer (a valid
token of the pool); the staff endpoint then checks the caller's role for the route (``authorize``) before
anything reads the request, and records the caller in the audit trail.

Roles are Cognito groups, each including the ones below it: ``admin`` > ``staff`` > ``viewer``.
``ROUTE_ROLES`` plus the default (reads: viewer, changes: staff) is the one table of who may call what; the
OpenAPI document states it per operation (``x-required-role``, scripts/openapi.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from referral_core.errors import Forbidden, Unauthorized


class Role(StrEnum):
    VIEWER = "viewer"  # reads the console: queue, evidence, reports, exports
    STAFF = "staff"  # plus every change of the daily work: decide, pay, disputes, referrers, codes
    ADMIN = "admin"  # plus programme rules, privacy erasure and staff management

    @property
    def rank(self) -> int:
        return _RANK[self]


_RANK = {Role.VIEWER: 1, Role.STAFF: 2, Role.ADMIN: 3}

# (method, path pattern) -> role, for the routes that need more than the default. A pattern's ``{name}``
# segment matches any one segment (so a concrete path and the OpenAPI template both match).
ROUTE_ROLES: tuple[tuple[str, str, Role], ...] = (
    ("PUT", "/admin/program", Role.ADMIN),
    ("POST", "/admin/people/erase", Role.ADMIN),
    # A person's data export is a read, but a privacy request with every contact detail: staff, audited.
    ("GET", "/admin/people/export", Role.STAFF),
    # Staff management: who may sign in to the console, and as what.
    ("GET", "/admin/staff", Role.ADMIN),
    ("POST", "/admin/staff", Role.ADMIN),
    ("POST", "/admin/staff/{username}/role", Role.ADMIN),
    ("POST", "/admin/staff/{username}/disable", Role.ADMIN),
    ("POST", "/admin/staff/{username}/enable", Role.ADMIN),
    # Outbound webhooks send the programme's events to an address outside: who may point them, and sign.
    ("POST", "/admin/webhooks", Role.ADMIN),
    ("DELETE", "/admin/webhooks/{webhook_id}", Role.ADMIN),
    ("POST", "/admin/webhooks/{webhook_id}/rotate", Role.ADMIN),
    # The business's name, logo and colour on every page, email and flyer: set once, by an admin.
    ("PUT", "/admin/branding", Role.ADMIN),
    # A referrer's yearly statement is a read, but one person's name and payments: staff.
    ("GET", "/admin/referrers/{referrer_id}/statements/{year}/statement.csv", Role.STAFF),
    ("GET", "/admin/referrers/{referrer_id}/statements/{year}/statement.pdf", Role.STAFF),
    # Payout batches: who is paid what, and their files carry the full payout details: staff.
    ("GET", "/admin/payout-batches", Role.STAFF),
    ("GET", "/admin/payout-batches/{batch_id}", Role.STAFF),
    ("GET", "/admin/payout-batches/{batch_id}/file.aba", Role.STAFF),
    ("GET", "/admin/payout-batches/{batch_id}/file.csv", Role.STAFF),
)
READ_METHODS = frozenset({"GET", "HEAD"})


def _matches(pattern: str, path: str) -> bool:
    want, got = pattern.strip("/").split("/"), path.strip("/").split("/")
    return len(want) == len(got) and all(w == g or (w.startswith("{") and w.endswith("}") and g)
                                         for w, g in zip(want, got, strict=True))


def required_role(method: str, path: str) -> Role:
    """The least role that may call ``method path`` (a request's path or an OpenAPI path template)."""
    for rule_method, pattern, role in ROUTE_ROLES:
        if rule_method == method and _matches(pattern, path):
            return role
    return Role.VIEWER if method in READ_METHODS else Role.STAFF


@dataclass(frozen=True)
class StaffIdentity:
    subject: str
    email: str
    groups: frozenset[str]

    @property
    def actor(self) -> str:
        return f"staff:{self.email or self.subject}"

    @property
    def role(self) -> Role | None:
        """The highest role among the caller's groups (None: in no role's group)."""
        roles = [Role(g) for g in self.groups if g in Role._value2member_map_]
        return max(roles, key=lambda r: r.rank) if roles else None

    def may(self, needed: Role) -> bool:
        return self.role is not None and self.role.rank >= needed.rank


def _groups(raw: Any) -> frozenset[str]:
    # API Gateway HTTP APIs pass list claims as a string such as "[staff admin]".
    if isinstance(raw, list | tuple):
        return frozenset(str(g) for g in raw)
    if isinstance(raw, str):
        return frozenset(part for part in raw.strip("[]").replace(",", " ").split() if part)
    return frozenset()


def staff_from_event(event: Mapping[str, Any]) -> StaffIdentity:
    """The caller from the authorizer's claims; 401 without claims, 403 when in no role's group."""
    claims = (((event.get("requestContext") or {}).get("authorizer") or {}).get("jwt") or {}).get("claims")
    if not claims:
        raise Unauthorized("a staff token is required")
    identity = StaffIdentity(subject=str(claims.get("sub", "")), email=str(claims.get("email", "")),
                             groups=_groups(claims.get("cognito:groups")))
    if identity.role is None:
        raise Forbidden("this account is in none of the staff groups (admin, staff, viewer)")
    return identity


def authorize(event: Mapping[str, Any]) -> StaffIdentity:
    """The caller, if their role may call this request's route; Unauthorized/Forbidden otherwise."""
    identity = staff_from_event(event)
    http = (event.get("requestContext") or {}).get("http") or {}
    method = str(http.get("method") or event.get("httpMethod") or "").upper()
    needed = required_role(method, str(event.get("rawPath") or http.get("path") or ""))
    if not identity.may(needed):
        raise Forbidden(f"this needs the {needed.value} role; you are {identity.role}",
                        fields={"role": f"{needed.value} required"})
    return identity
