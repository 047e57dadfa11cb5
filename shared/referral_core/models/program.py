"""Programme rules: what an eligible job earns, how rewards are held and withdrawn (``/admin/program``).

Stored as one versioned record (``PROGRAM``/``CURRENT``); :func:`default_rules` apply until staff save rules.
Money is integer cents; percentages are basis points (``1000`` = 10 %) so no floats touch money.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints, field_validator, model_validator

from referral_core.models.applications import ReferrerType
from referral_core.models.base import MAX_VERSION, Model, OneLine
from referral_core.stages import DEFAULT_MAX_STAGE_EMAILS_PER_HOUR

Cents = Annotated[int, Field(ge=0, le=100_000_000)]
Postcode = Annotated[str, StringConstraints(strip_whitespace=True, min_length=2, max_length=10), OneLine]


class _Strict(Model):
    model_config = ConfigDict(extra="forbid", frozen=True)


class RewardAmount(_Strict):
    """Either a flat amount or a percentage of the paid job amount (optionally capped)."""

    flat_cents: Cents | None = None
    percent_bp: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        default=None, description="basis points of the paid amount: 1000 = 10 %")
    cap_cents: Cents | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> RewardAmount:
        if (self.flat_cents is None) == (self.percent_bp is None):
            raise ValueError("give exactly one of flat_cents or percent_bp")
        if self.cap_cents is not None and self.percent_bp is None:
            raise ValueError("cap_cents only applies to percent_bp")
        return self

    def for_job(self, paid_cents: int) -> int:
        if self.flat_cents is not None:
            return self.flat_cents
        amount = paid_cents * (self.percent_bp or 0) // 10_000
        return min(amount, self.cap_cents) if self.cap_cents is not None else amount


class Tier(_Strict):
    """A level reached after ``min_rewarded`` rewarded referrals; its ``reward`` applies from then on."""

    name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=40), OneLine]
    min_rewarded: Annotated[int, Field(ge=0, le=100_000)]
    reward: RewardAmount


AttributionSource = Literal["referral_form", "link", "code", "referred_by"]
#: The sources of a lead, in the default precedence (docs/jobs.md "Attribution rules"): a referrer's
#: refer-a-job form, a click on a share link (``cid``), a share code (``ref``, or typed in "who referred
#: you?"), and the free-text "who referred you?" claim (never automatic: staff decide).
ATTRIBUTION_SOURCES: tuple[AttributionSource, ...] = ("referral_form", "link", "code", "referred_by")
#: Names the resolver used before issue 16 (``PROGRAM``/``CURRENT`` top-level ``attribution`` and old
#: referrals' ``source``), read as today's names.
LEGACY_SOURCE_NAMES: dict[str, AttributionSource] = {
    "refer_a_job": "referral_form", "click": "link", "code": "code", "claim": "referred_by"}


class Attribution(_Strict):
    """How a lead is tied to a referrer: the one schema staff save (``rules.attribution``) and attribution,
    job linking, the missing-job check and rewards read (docs/jobs.md "Attribution rules")."""

    model: Literal["first_touch", "last_touch"] = Field(
        default="last_touch", description="a returning customer keeps their first referral (first_touch) "
                                          "or the newest source wins (last_touch)")
    window_days: Annotated[int, Field(ge=1, le=365, description=(
        "how old a click, an earlier referral of the same customer or a job's lead may be"))] = 90
    precedence: tuple[AttributionSource, ...] = Field(
        default=ATTRIBUTION_SOURCES, max_length=len(ATTRIBUTION_SOURCES),
        description="which source decides when several point at a referrer, first wins; distinct; "
                    "sources left out rank after the listed ones in the default order")
    missing_job_days: Annotated[int, Field(ge=1, le=365, description=(
        "after how many days a referred lead without a job is flagged for staff"))] = 30

    @field_validator("precedence")
    @classmethod
    def _distinct(cls, precedence: tuple[AttributionSource, ...]) -> tuple[AttributionSource, ...]:
        if len(set(precedence)) != len(precedence):
            raise ValueError("list each source at most once")
        return precedence

    def ranking(self) -> tuple[AttributionSource, ...]:
        """Every source, best first: the listed ones, then the rest in the default order."""
        return (*self.precedence, *(s for s in ATTRIBUTION_SOURCES if s not in self.precedence))


class RefereeReward(_Strict):
    """Double-sided programmes: a credit for the friend, recorded for staff to issue by hand."""

    enabled: bool = False
    amount_cents: Cents = 0


ReservedWord = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=3, max_length=20,
                                                pattern=r"^[A-Za-z0-9-]+$")]


class ShareCodeRules(_Strict):
    """Limits on the share codes referrers (and staff on their behalf) create (docs/links.md)."""

    max_active_per_referrer: Annotated[int, Field(ge=0, le=100)] = Field(
        default=10, description="active codes a referrer may hold besides the personal code; a new code "
                                "beyond it is 409 until one is disabled, expires or is used up")
    reserved_words: Annotated[tuple[ReservedWord, ...], Field(max_length=100)] = Field(
        default=(), description="extra words no custom code may contain (e.g. your business and brand "
                                "names), on top of the built-in list; look-alikes (0 for O...) are caught too")


class Notifications(_Strict):
    """Read by the stage notifications (another function): keep this shape."""

    max_stage_emails_per_hour: Annotated[int, Field(
        ge=1, le=100, description="stage emails per referrer per clock hour; later changes of that hour are "
                                  "rolled into one digest sent when the hour ends")] = DEFAULT_MAX_STAGE_EMAILS_PER_HOUR


class ApplicationRules(_Strict):
    """Applications to become a referrer (``POST /applications``, docs/applications.md)."""

    minimum_age: Annotated[int, Field(
        ge=13, le=25, description="the age for unassisted sign-up: a younger applicant needs a parent or "
                                  "guardian's consent before staff can approve them")] = 18


class Statements(_Strict):
    """The referrers' yearly statements (``GET /me/statements``): which financial year and whose clock."""

    year_start_month: Annotated[int, Field(ge=1, le=12, description=(
        "the month a financial year starts in: 7 = July-June (Australia), 1 = the calendar year"))] = 7
    time_zone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=60), OneLine] = Field(
        default="Australia/Sydney", description="the business's IANA time zone: a year starts at midnight there")

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, name: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError("not a known IANA time zone, e.g. Australia/Sydney") from exc
        return name


class PayoutFile(_Strict):
    """The business's details for the ABA (Cemtex) bank file of a payout batch (docs/admin.md "Payout batches").
    All empty until staff set them: the batch's ``file.aba`` is 409 naming the first one missing."""

    apca_user_id: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{6}$")] | None = Field(
        default=None, description="the 6-digit APCA user identification number the bank issued")
    user_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=26), OneLine] | None = \
        Field(default=None, description="the name of the user supplying the file, as the bank knows it (up to 26)")
    remitter_name: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=16),
                             OneLine] | None = Field(
        default=None, description="the remitter the payees' statements show (up to 16)")
    financial_institution: Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True,
                                                            pattern=r"^[A-Za-z]{3}$")] | None = Field(
        default=None, description="the business's bank, its 3-letter mnemonic (CBA, WBC, NAB, ANZ...)")
    bsb: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{3}-\d{3}$")] | None = Field(
        default=None, description="the business's own account the payments come from (trace account), NNN-NNN")
    account_number: Annotated[str, StringConstraints(strip_whitespace=True, pattern=r"^\d{5,9}$")] | None = Field(
        default=None, description="the business's own account number, 5 to 9 digits")
    balancing_record: bool = Field(
        default=False, description="add the debit line against the business's account (some banks require it)")


Tiers = Annotated[tuple[Tier, ...], Field(min_length=1, max_length=10)]


def _check_tiers(tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
    if tiers[0].min_rewarded != 0:
        raise ValueError("the first tier must start at min_rewarded 0")
    thresholds = [t.min_rewarded for t in tiers]
    if thresholds != sorted(set(thresholds)):
        raise ValueError("tiers must have strictly increasing min_rewarded")
    if len({t.name.casefold() for t in tiers}) != len(tiers):
        raise ValueError("tier names must be unique")
    return tiers


class TypeRules(_Strict):
    """What one referrer type earns instead of the general rules (``rules.by_type.<type>``): its own tiers,
    each with its reward amount (flat or a percentage, with its cap)."""

    tiers: Tiers = Field(description="this type's tiers, as the general ones: the first starts at min_rewarded 0")

    @field_validator("tiers")
    @classmethod
    def _ordered_tiers(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        return _check_tiers(tiers)


class ProgramRules(_Strict):
    tiers: Tiers
    min_job_value_cents: Cents = 0
    attribution: Attribution = Field(default_factory=Attribution)
    holding_days: Annotated[int, Field(ge=0, le=365, description="cover the refund/warranty window")] = 30
    min_withdrawal_cents: Annotated[int, Field(ge=1, le=100_000_000)] = 2_000
    require_review: bool = Field(
        default=True, description="every reward waits for a staff decision before it is credited")
    referee_reward: RefereeReward = Field(default_factory=RefereeReward)
    zones: tuple[Postcode, ...] = Field(default=(), description="postcodes served; empty: everywhere")
    allow_negative_balance: bool = False
    share_codes: ShareCodeRules = Field(default_factory=ShareCodeRules)
    notifications: Notifications = Field(default_factory=Notifications)
    applications: ApplicationRules = Field(default_factory=ApplicationRules)
    statements: Statements = Field(default_factory=Statements)
    payout_file: PayoutFile = Field(default_factory=PayoutFile)


    by_type: dict[ReferrerType, TypeRules] = Field(
        default_factory=dict, description="per referrer type (customer, local_partner, ambassador, "
                                          "campus_helper): its own tiers and amounts; a type left out, and a "
                                          "referrer without a type, earn by the general tiers")

    @field_validator("tiers")
    @classmethod
    def _ordered_tiers(cls, tiers: tuple[Tier, ...]) -> tuple[Tier, ...]:
        return _check_tiers(tiers)

    def tiers_for(self, referrer_type: str | None) -> tuple[Tier, ...]:
        """The tiers that apply to a referrer of ``referrer_type`` (None or no override: the general ones)."""
        override = self.by_type.get(referrer_type) if referrer_type else None  # type: ignore[call-overload]
        return override.tiers if override is not None else self.tiers

    def all_tiers(self) -> tuple[Tier, ...]:
        """The general tiers and every type's."""
        return (*self.tiers, *(t for rules in self.by_type.values() for t in rules.tiers))

    def tier_index(self, rewarded_count: int, referrer_type: str | None = None) -> int:
        """Index (in :meth:`tiers_for` the type) of the tier a referrer with ``rewarded_count`` rewards is in."""
        return max(i for i, tier in enumerate(self.tiers_for(referrer_type)) if tier.min_rewarded <= rewarded_count)


@cache
def default_rules() -> ProgramRules:
    """The rules until staff save their own (built on first use: models are validated lazily, base.py)."""
    return ProgramRules(tiers=(
        Tier(name="Bronze", min_rewarded=0, reward=RewardAmount(flat_cents=2_500)),
        Tier(name="Silver", min_rewarded=3, reward=RewardAmount(flat_cents=3_500)),
        Tier(name="Gold", min_rewarded=10, reward=RewardAmount(flat_cents=5_000)),
    ))


class Program(Model):
    """The rules in force and which saved version they are (0: the defaults, never saved)."""

    model_config = ConfigDict(frozen=True)

    rules: ProgramRules
    version: int
    updated_at: str | None = None
    updated_by: str | None = None


class ProgramVersions(Model):
    items: list[Program] = Field(description="Saved versions, newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for older versions; null at the end")


class UpdateProgramRequest(ProgramRules):
    expected_version: Annotated[int, Field(ge=0, le=MAX_VERSION, description="the version you read; 409 if it changed")]

    def rules(self) -> ProgramRules:
        return ProgramRules.model_validate(self.model_dump(exclude={"expected_version"}))
