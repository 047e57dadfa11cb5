"""The job system's webhook payload (API.md "Job system") and the webhook's answer."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints, field_serializer, field_validator

from referral_core.clock import now
from referral_core.models.base import Model, OneLine

#: How far ahead of our clock an ``occurred_at`` may be (clock skew); later is refused (422).
FUTURE_SKEW = timedelta(minutes=15)

# Ids become parts of keys (``JOB#{id}``): no separators, no spaces.
ExternalId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100,
                                              pattern=r"^[A-Za-z0-9._:\-]+$")]

#: A share code as staff or the customer typed it into the job system (case-insensitive; matched upper-case
#: against live share codes, so a word that is no code only fails to match).
ReferralCode = Annotated[str, StringConstraints(strip_whitespace=True, to_upper=True, min_length=1, max_length=64),
                         OneLine]

#: 10^9 cents (10 million in the currency): far above any job of a small service business.
MAX_JOB_CENTS = 1_000_000_000


class JobEventType(StrEnum):
    CREATED = "job.created"
    QUOTED = "job.quoted"
    INVOICED = "job.invoiced"
    PAID = "job.paid"
    COMPLETED = "job.completed"
    REFUNDED = "job.refunded"
    CANCELLED = "job.cancelled"
    #: The payment is disputed (a chargeback opened): the job's reward is held for staff until they decide.
    DISPUTED = "job.disputed"

    @property
    def status(self) -> str:
        """The status this event adds to a job: ``job.paid`` -> ``paid``."""
        return self.value.removeprefix("job.")


class JobCustomer(Model):
    model_config = ConfigDict(extra="ignore")

    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), OneLine] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), OneLine] | None = None
    postcode: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), OneLine] | None = None


class JobEventData(Model):
    model_config = ConfigDict(extra="ignore")

    job_id: ExternalId
    lead_id: ExternalId | None = None
    customer: JobCustomer = Field(default_factory=JobCustomer)
    referral_code: ReferralCode | None = Field(
        default=None, description="a share code entered in the job system (custom field, metadata, promotion "
                                  "code): a job that matches no lead is credited to a live code's referrer")
    amount_cents: Annotated[int, Field(ge=0, le=MAX_JOB_CENTS, strict=True)] | None = None
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
    occurred_at: AwareDatetime = Field(description="when it happened; at most 15 minutes ahead of our clock")

    @field_validator("occurred_at")
    @classmethod
    def _not_in_the_future(cls, value: datetime) -> datetime:
        if value > now() + FUTURE_SKEW:
            raise ValueError(f"is in the future (more than {int(FUTURE_SKEW.total_seconds() // 60)} minutes "
                             "ahead of our clock)")
        return value

    @field_serializer("occurred_at")
    def _utc(self, value: datetime) -> str:
        return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


class JobWebhookEvent(Model):
    model_config = ConfigDict(extra="ignore")

    type: JobEventType
    data: JobEventData


class JobWebhookResponse(Model):
    job_id: str
    type: JobEventType
    applied: bool = Field(description="False when this event type was already recorded for the job")
    statuses: list[str]


class ProviderWebhookResponse(Model):
    """The answer to a job system's own webhook (``POST /webhooks/{provider}``, docs/api.md)."""

    provider: str = Field(description="the adapter that read the event: stripe, square, xero…")
    event_id: str = Field(description="the provider's id of the event (replays of it get this same answer)")
    ignored: bool = Field(description="True for an event type or object that says nothing about a job")
    job_id: str | None = None
    type: JobEventType | None = Field(default=None, description="the job event it was translated into")
    applied: bool = Field(description="False when ignored, or when the job already had this event type")
    statuses: list[str] = Field(default_factory=list)
