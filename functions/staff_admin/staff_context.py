"""What every staff route module shares: the function's settings and the signed-in staff member (put in
the routing context by staff_admin's ``require_staff`` middleware)."""

import dataclasses
from functools import cache
from typing import Any

from referral_core.auth import StaffIdentity
from referral_core.config import BaseSettings, read_settings


@dataclasses.dataclass(frozen=True, kw_only=True)
class AdminSettings(BaseSettings):
    allowed_redirect_hosts: tuple[str, ...] = ()
    default_phone_region: str = "AU"
    staff_user_pool_id: str  # staff management (admin_staff)
    webhook_queue_url: str  # outbound webhooks (admin_webhooks)
    webhook_secret_prefix: str
    webhook_allow_private_targets: bool
    payout_key_arn: str  # the KMS key of payout details (this function may only decrypt: the staff reveal)


@cache
def settings() -> AdminSettings:
    return read_settings(AdminSettings)


def current_staff(resolver: Any) -> StaffIdentity:
    """The signed-in staff member (the app or a Router)."""
    identity: StaffIdentity = resolver.context["staff"]
    return identity


def current_actor(resolver: Any) -> str:
    """``staff:<email>`` of the caller, for the audit trail (``resolver``: the app or a Router)."""
    identity: StaffIdentity = resolver.context["staff"]
    return identity.actor
