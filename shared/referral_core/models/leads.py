"""API models for lead capture: Quick Help (``POST /leads``) and refer-a-job (``POST /me/referrals``).

Shapes and lengths only; the rules that need settings (phone region, postcode pattern, policy version)
are applied by ``referral_core.services.leads``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints

from referral_core.models.base import ExactlyTrue, Model, MultiLine, OneLine


def _blank_to_none(value: object) -> object:
    """Forms send empty optional fields as ``""``: treat them as absent."""
    return None if isinstance(value, str) and not value.strip() else value


def _text(max_length: int) -> StringConstraints:
    return StringConstraints(strip_whitespace=True, min_length=1, max_length=max_length)


#: Optional text: absent, ``null`` and ``""`` (an empty form field) all mean None.
Blank = BeforeValidator(_blank_to_none)

Name = Annotated[str, _text(120), OneLine]
Postcode = Annotated[str, _text(12), OneLine]
Issue = Annotated[str, _text(2000), MultiLine]
Email = Annotated[Annotated[str, _text(254), OneLine] | None, Blank]
Phone = Annotated[Annotated[str, _text(32), OneLine] | None, Blank]
Street = Annotated[Annotated[str, _text(200), OneLine] | None, Blank]
#: Shown with the postcode on the referrer's masked referral (``GET /me``), so it must say no more than that.
Suburb = Annotated[Annotated[str, _text(60), OneLine] | None, Blank]
Code = Annotated[Annotated[str, _text(32), OneLine] | None, Blank]
ClickId = Annotated[Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^[A-Za-z0-9_-]{1,64}$")]
                    | None, Blank]
Claim = Annotated[Annotated[str, _text(200), OneLine] | None, Blank]
#: Consent given: the JSON value ``true`` only (``1`` or ``"true"`` are 422).
Agreed = Annotated[Literal[True], ExactlyTrue]


class Consent(Model):
    """Consent to be contacted about this request, given to one version of the policy."""

    model_config = ConfigDict(extra="forbid")

    contact: Agreed = Field(description="Must be JSON `true`: the customer agrees to be contacted.")
    policy_version: Annotated[str, _text(32), OneLine]


class LeadRequest(Model):
    """``POST /leads``: a Quick Help request (email and/or phone: at least one)."""

    model_config = ConfigDict(extra="forbid")

    name: Name
    email: Email = None
    phone: Phone = None
    postcode: Postcode
    street: Street = Field(default=None, description="Optional; only its hash is used for matching.")
    suburb: Suburb = Field(default=None, description="Optional (at most 60 characters); the referrer sees it "
                                                     "with the postcode on their masked referral.")
    issue: Issue
    ref: Code = Field(default=None, description="Share code carried from /r/{code}.")
    cid: ClickId = Field(default=None, description="Click id carried from /r/{code}.")
    referred_by: Claim = Field(default=None, description=(
        'Free text "who referred you?": a name is a claim for staff; exactly a live share code (any case, '
        "surrounding spaces ignored) attributes the lead like ref, when there is no ref."))
    consent: Consent


class ReferAJobRequest(Model):
    """``POST /me/referrals``: a signed-in referrer passes on a friend who agreed to be contacted."""

    model_config = ConfigDict(extra="forbid")

    friend_name: Name
    friend_email: Email = None
    friend_phone: Phone = None
    postcode: Postcode
    street: Street = None
    suburb: Suburb = Field(default=None, description="Optional; shown with the postcode on the referral.")
    issue: Issue
    friend_agreed: Agreed = Field(description="Must be JSON `true`: the friend agreed to be contacted.")


class LeadCreated(Model):
    lead_id: str
    status: Literal["received"] = "received"


#: Plain fields of the Quick Help form (``consent_contact``/``policy_version`` become ``consent``).
FORM_FIELDS = ("name", "email", "phone", "postcode", "suburb", "street", "issue", "ref", "cid", "referred_by")


def lead_fields_from_form(form: dict[str, str]) -> dict[str, object]:
    """The ``POST /leads`` JSON shape from a form post (a ticked checkbox is sent as ``on``).

    Unknown form fields are ignored (browsers may add some); JSON bodies are strict instead.
    """
    data: dict[str, object] = {name: form[name] for name in FORM_FIELDS if name in form}
    data["consent"] = {"contact": form.get("consent_contact") == "on",
                       "policy_version": form.get("policy_version", "")}
    return data
