"""API models of the referrer portal: sign-in, and the dashboard a referrer sees (``GET /me``).

A referrer sees their own links, codes, referrals (masked), money and withdrawals; never a customer's
contact details.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StrictBool, StringConstraints

from referral_core.models.base import Model, OneLine
from referral_core.models.rewards import RewardsSummary
from referral_core.models.share_codes import ShareCodeView


class MagicLinkRequest(Model):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), OneLine]


class MagicLinkAccepted(Model):
    message: str = "If this email belongs to a referrer, a sign-in link is on its way."


class SessionRequest(Model):
    model_config = ConfigDict(extra="forbid")

    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=16, max_length=256), OneLine]


class SessionResponse(Model):
    session_token: str = Field(description="Send as `Authorization: Bearer <session_token>`")
    expires_at: str = Field(description="ISO-8601 UTC")
    masked_name: str = Field(description='Whom the session signs in, masked ("Jo S.")')


class SignInPreview(Model):
    """``POST /auth/session/preview``: whom a sign-in link is for, before it is used."""

    masked_name: str = Field(description='The referrer the link signs in, masked ("Jo S.")')


class ReferralView(Model):
    """One referral as its referrer sees it: enough to recognise a friend, nothing to contact them."""

    referral_id: str
    masked_name: str = Field(description='First letters of the name and an initial, e.g. "Jo S."')
    suburb: str | None = None
    postcode: str | None = None
    stage: str
    stage_label: str
    reason: str | None = Field(default=None, description="Public reason category when not_eligible")
    reason_label: str | None = None
    created_at: str
    updated_at: str


class ReferralsPage(Model):
    items: list[ReferralView]
    next_cursor: str | None = Field(default=None, description="Pass as `cursor` for the next (older) page")


class ProfileView(Model):
    referrer_id: str
    name: str
    personal_code: str
    link: str = Field(description="The personal link: {origin}/r/{code}")
    notifications_opt_out: bool
    show_name_on_landing: bool = Field(default=False, description="Quick Help says \"Recommended by Jo S.\"")


class Preferences(Model):
    """``PUT /me/preferences``: the referrer's own choices."""

    model_config = ConfigDict(extra="forbid")

    show_name_on_landing: StrictBool = Field(description="Show your first name and initial on the page your links "
                                                   "open (\"Recommended by Jo S.\")")


class NotificationsOptedOut(Model):
    notifications_opt_out: bool = True


class CodeStats(Model):
    """A code's counters over all its placements (``STATS#{CODE}``)."""

    clicks: int = Field(description="Counted visits, link and QR")
    clicks_qr: int
    leads: int
    jobs: int


class MyShareCode(ShareCodeView):
    stats: CodeStats


class Me(RewardsSummary):
    """``GET /me``: the whole dashboard (rewards summary fields at the top level)."""

    referrer: ProfileView
    share_codes: list[MyShareCode]
    referrals: ReferralsPage
