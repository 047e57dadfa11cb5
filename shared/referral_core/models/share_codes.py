"""API models for share codes: the create request, the code as shown, and its usage review."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine
from referral_core.placements import Placement
from referral_core.zones import ZoneMode

CodeStatus = Literal["active", "disabled"]
Visibility = Literal["public", "private"]  # what each means: referral_core.visibility
Zone = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=21), OneLine]


class CreateShareCodeRequest(Model):
    """``POST /me/share-codes`` and ``POST /admin/referrers/{id}/share-codes``."""

    model_config = ConfigDict(extra="forbid")

    code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=64), OneLine] | None = Field(
        default=None, description="Custom code (4-20 letters, digits or '-'); generated when absent")
    visibility: Visibility = Field(description="public: may be advertised and typed in 'Who referred you?'; "
                                               "private: works only as a direct link or QR code")
    zones: Annotated[list[Zone], Field(max_length=50)] = Field(
        default_factory=list, description="Postcodes, postcode prefixes ('20*') or ranges ('2000-2234')")
    zone_mode: ZoneMode = Field(
        default="flag", description="Outside the zones: flag (keep the attribution, flag it for staff) or "
                                    "lock (the lead is kept but earns no reward: attribution reason zone_locked)")
    expires_at: AwareDatetime | None = None
    max_uses: Annotated[int, Field(ge=1, le=1_000_000)] | None = None
    placement: Placement | None = None
    landing_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048), OneLine] | None = None


class QrLinks(Model):
    png: str
    svg: str


ShareChannel = Literal["sms", "whatsapp", "email", "copy"]  # referral_core.placements.SHARE_CHANNELS


class ShareLink(Model):
    """What one share button sends: the link marked with its channel, inside the share message."""

    channel: ShareChannel
    url: str = Field(description="The link with `src={channel}`: its clicks and leads count under that placement")
    message: str


class ShareCodeView(Model):
    code: str
    referrer_id: str
    url: str = Field(description="The link to share: {origin}/r/{code}")
    qr: QrLinks
    qr_target: str = Field(description="What the QR code encodes: the link with src=qr and the placement")
    share_message: str
    share_links: list[ShareLink] = Field(description="One per share button (SMS, WhatsApp, email, copy)")
    visibility: Visibility
    zones: list[str]
    zone_mode: ZoneMode
    expires_at: str | None
    max_uses: int | None
    uses: int = Field(description="Counted visits (one per visitor per hour), from the click counter")
    placement: str | None
    landing_url: str | None
    status: CodeStatus
    personal: bool
    created_at: str


class PlacementUsage(Model):
    placement: str
    clicks_link: int = 0
    clicks_qr: int = 0
    leads: int = 0
    jobs: int = 0
    paid: int = 0
    rewarded: int = 0


class UsageReview(Model):
    share_code: ShareCodeView
    placements: list[PlacementUsage]
    totals: PlacementUsage
