"""Referral stages (API.md) and the order they move in."""

from __future__ import annotations

from enum import StrEnum


class Stage(StrEnum):
    RECEIVED = "received"
    JOB_BOOKED = "job_booked"
    JOB_COMPLETED = "job_completed"
    CUSTOMER_PAID = "customer_paid"
    REWARD_PENDING = "reward_pending"
    REWARD_AVAILABLE = "reward_available"
    REWARD_PAID = "reward_paid"
    UNDER_REVIEW = "under_review"
    NOT_ELIGIBLE = "not_eligible"


#: Forward-only progress. ``under_review`` and ``not_eligible`` are set beside this order, not in it.
PROGRESS: tuple[Stage, ...] = (
    Stage.RECEIVED, Stage.JOB_BOOKED, Stage.JOB_COMPLETED, Stage.CUSTOMER_PAID,
    Stage.REWARD_PENDING, Stage.REWARD_AVAILABLE, Stage.REWARD_PAID,
)
RANK = {stage: index for index, stage in enumerate(PROGRESS, start=1)}


class ReviewStatus(StrEnum):
    """Where a referral stands in the staff review queue (gsi2 ``REVIEW#{status}``)."""

    OPEN = "open"
    QUESTIONED = "questioned"
    DEFERRED = "deferred"
    ACCEPTED = "accepted"
    DISMISSED = "dismissed"


class Severity(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


class FlagType(StrEnum):
    DUPLICATE_CONTACT = "duplicate_contact"
    SELF_REFERRAL = "self_referral"
    EXISTING_CUSTOMER = "existing_customer"
    VELOCITY = "velocity"
    ZONE_MISMATCH = "zone_mismatch"
    UNCLEAR_SOURCE = "unclear_source"
    MISSING_JOB_LINK = "missing_job_link"
    REFUND_HOLD = "refund_hold"
    CURRENCY_MISMATCH = "currency_mismatch"  # the job is in another currency than the programme
    REFUND_EXCEEDS_AMOUNT = "refund_exceeds_amount"  # a refund larger than the job's amount (capped)
    DISPOSABLE_EMAIL = "disposable_email"


#: Stage emails a referrer gets in one clock hour before the rest of that hour waits for one digest
#: (programme rule ``notifications.max_stage_emails_per_hour``; here, not in the model, so the stream
#: consumer reads it without loading pydantic).
DEFAULT_MAX_STAGE_EMAILS_PER_HOUR = 4
