"""API models for applications to become a referrer (``/applications``, ``/admin/applications``).

Shapes and lengths only; the rules that need settings or stored state (phone region, postcode pattern, the
terms version, the programme's minimum age, duplicates) are applied by ``referral_core.services.applications``.
"""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, MultiLine, OneLine
from referral_core.models.leads import Agreed, Blank, Name, Postcode

#: The kinds of referrer a person can apply as. Never a staff or provider role: those are granted only by
#: staff, outside applications (docs/applications.md).
ReferrerType = Literal["customer", "local_partner", "ambassador", "campus_helper"]
#: Age bands for applicants who prefer not to give a date of birth (in years, both ends included).
AgeBand = Literal["under_16", "16_17", "18_24", "25_plus"]
AGE_BANDS: dict[str, tuple[int, int | None]] = {"under_16": (0, 15), "16_17": (16, 17), "18_24": (18, 24),
                                                "25_plus": (25, None)}
ApplicationStatus = Literal["pending_verification", "verified", "info_requested", "approved", "declined"]


def _text(max_length: int, min_length: int = 1) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=min_length, max_length=max_length)


EmailText = Annotated[str, _text(254), OneLine]
Token = Annotated[str, StringConstraints(min_length=16, max_length=128), OneLine]
TermsVersion = Annotated[str, _text(32), OneLine]


class ApplicationRequest(Model):
    """``POST /applications``: a person applies to become a referrer."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    email: EmailText
    phone: Annotated[str, _text(32), OneLine]
    postcode: Postcode
    how_known: Annotated[str, _text(500), MultiLine] = Field(
        description="How the applicant knows the business (a customer since 2019, a shop next door...)")
    referrer_type: ReferrerType
    date_of_birth: dt.date | None = Field(default=None, description="yyyy-mm-dd; or give age_band")
    age_band: AgeBand | None = Field(default=None, description="instead of date_of_birth")
    guardian_email: Annotated[Annotated[str, _text(254), OneLine] | None, Blank] = Field(
        default=None, description="required when the applicant is under the programme's minimum age; "
                                  "must not be the applicant's own address")
    accept_terms: Agreed = Field(description="Must be JSON `true`: the applicant accepts the programme terms.")
    terms_version: TermsVersion = Field(description="the version of `GET /applications/terms` accepted")
    website: Annotated[str, StringConstraints(max_length=200), OneLine] = Field(
        default="", description="Leave empty (a field people never see: bots fill it in)")


class ApplicationAccepted(Model):
    """The answer to ``POST /applications``: the same for every accepted body (a honeypot too)."""

    application_id: str
    status: Literal["pending_verification"] = "pending_verification"
    message: str = "Check your email: open the link we sent to confirm your address."


class TokenRequest(Model):
    """``POST /applications/{id}/verification``: the token from the emailed link."""

    model_config = ConfigDict(extra="forbid")

    token: Token


class GuardianConsentRequest(Model):
    """``POST /applications/{id}/guardian-consent``: a parent or guardian consents from the emailed link."""

    model_config = ConfigDict(extra="forbid")

    token: Token
    guardian_name: Name
    consent: Agreed = Field(description="Must be JSON `true`: the guardian consents to the application and "
                                        "accepts the programme terms for the applicant.")
    terms_version: TermsVersion


class ApplicationProgress(Model):
    """Where an application stands after the applicant or their guardian acted on a link."""

    application_id: str
    status: ApplicationStatus
    email_verified: bool
    needs_guardian_consent: bool
    guardian_consented: bool
    message: str


class Terms(Model):
    """``GET /applications/terms``: the programme terms in force (the same shape as ``GET /policy``)."""

    version: str
    title: str
    paragraphs: list[str]
    text: str


# -- staff ----------------------------------------------------------------------------------------------
FlagType = Literal["existing_referrer", "existing_customer"]
FlagContact = Literal["email", "phone"]


class ApplicationFlag(Model):
    type: FlagType
    contact: FlagContact
    look_alike: bool = False
    matches: int = Field(description="how many records share the contact")


class ApplicationView(Model):
    application_id: str
    status: ApplicationStatus
    name: str
    email: str
    phone: str
    postcode: str
    how_known: str
    referrer_type: ReferrerType
    date_of_birth: str | None = None
    age_band: AgeBand | None = None
    minor: bool
    waiting_for_guardian: bool = Field(description="under the minimum age and no guardian consent yet: "
                                                   "cannot be approved")
    guardian_consent: dict[str, str] | None = None
    terms: dict[str, str]
    flags: list[ApplicationFlag]
    created_at: str
    verified_at: str | None = None
    info_requested_at: str | None = None
    referrer_id: str | None = None


class ApplicationQueue(Model):
    items: list[ApplicationView]
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class ApproveRequest(Model):
    model_config = ConfigDict(extra="forbid")

    note: Annotated[Annotated[str, _text(2000), MultiLine] | None, Blank] = None


class DeclineRequest(Model):
    model_config = ConfigDict(extra="forbid")

    reason: Annotated[str, _text(2000), MultiLine] = Field(description="Emailed to the applicant")


class RequestInfoRequest(Model):
    model_config = ConfigDict(extra="forbid")

    message: Annotated[str, _text(2000), MultiLine] = Field(description="Emailed to the applicant")


class ApplicationDecision(Model):
    application_id: str
    status: ApplicationStatus
    decided_at: str
    decided_by: str
    referrer_id: str | None = None
    code: str | None = None
    link: str | None = None
