"""API models of the business's branding (``GET``/``PUT /admin/branding``)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Literal

from pydantic import AfterValidator, ConfigDict, Field, StrictBool, StringConstraints

from referral_core.models.base import MAX_VERSION, Model, OneLine

LogoType = Literal["image/png", "image/jpeg", "image/svg+xml"]
Colour = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, pattern=r"^#[0-9a-fA-F]{6}$")]


_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def _base64_alphabet(value: str) -> str:
    """Refused with the other fields (a NUL, a space): the decoded file is checked by services.branding."""
    if not _BASE64.fullmatch(value):
        raise ValueError("is not base64 (A-Z, a-z, 0-9, +, / and = padding)")
    return value


class LogoUpload(Model):
    model_config = ConfigDict(extra="forbid")

    content_type: LogoType
    data_base64: Annotated[str, StringConstraints(strip_whitespace=True, min_length=4, max_length=60_000),
                           AfterValidator(_base64_alphabet)] = Field(
        description="The file, base64; at most 40 KiB once decoded (checked against its type's signature)")


class UpdateBrandingRequest(Model):
    """``PUT /admin/branding``: the whole branding (send the logo again, or ``keep_logo``)."""

    model_config = ConfigDict(extra="forbid")

    business_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80), OneLine]
    tagline: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120), OneLine] = Field(
        default="", description="A short line under the name (link previews, flyers)")
    colour: Colour = Field(default="#0a58ca", description="The accent colour, #rrggbb")
    contact_line: Annotated[str, StringConstraints(strip_whitespace=True, max_length=160), OneLine] = Field(
        default="", description="Phone, web or address: on flyers and in emails")
    logo: LogoUpload | None = Field(default=None, description="A new logo; absent: see keep_logo")
    keep_logo: StrictBool = Field(default=True, description="Without `logo`: keep the stored one (false removes it)")
    expected_version: Annotated[int, Field(ge=0, le=MAX_VERSION)] = Field(
        description="The version read (0 before the first save); 409 when someone saved since")


class Branding(Model):
    business_name: str
    tagline: str
    colour: str
    contact_line: str
    logo_type: LogoType | None = Field(description="The stored logo's type; null: none (the default image)")
    logo_url: str = Field(description="Where the logo is served (GET /branding/logo: the default without one)")
    version: int
    updated_at: str | None = None
    updated_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class BrandingData:
    """The branding in force (the defaults before staff save any)."""

    business_name: str = "Quick Help"
    tagline: str = "Ask a real technician for help"
    colour: str = "#0a58ca"
    contact_line: str = ""
    logo_type: str | None = None
    version: int = 0
    updated_at: str | None = None
    updated_by: str | None = None
