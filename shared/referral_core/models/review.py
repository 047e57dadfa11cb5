"""API models for staff review, attribution, disputes and privacy requests.

Answers built from stored items (records, disputes, queue entries) leave out the attributes an item does not
have, as DynamoDB does (it stores no nulls): their optional fields are dumped with ``exclude_unset=True``.
"""

from enum import StrEnum
from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import MAX_VERSION, Model, MultiLine, OneLine
from referral_core.stages import FlagType, ReviewStatus, Severity, Stage

Note = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000), MultiLine]
EntityId = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64), OneLine]
Version = Annotated[int, Field(ge=0, le=MAX_VERSION, description="the referral's `version` you based the change on")]


class DecisionKind(StrEnum):
    ACCEPT = "accept"
    QUESTION = "question"
    DISMISS = "dismiss"
    DEFER = "defer"


class DecisionRequest(Model):
    model_config = ConfigDict(extra="forbid")

    decision: DecisionKind
    note: Note = Field(description="why: required for every decision")
    expected_version: Version


class AttributionRequest(Model):
    model_config = ConfigDict(extra="forbid")

    referrer_id: EntityId | None = Field(description="the referrer the lead came from, or null for none")
    note: Note
    expected_version: Version


class StaffChangeResponse(Model):
    lead_id: str
    review_status: str | None
    stage: str | None
    referrer_id: str | None = None
    version: int


class StoredRecord(Model):
    """An item as stored, for staff: every attribute but the table's keys (``pk``, ``sk``, ``gsi*``), sets as
    sorted lists. Which attributes it has depends on ``type`` (docs/data-model.md)."""

    model_config = ConfigDict(extra="allow")

    type: str | None = Field(default=None, description="The entity: lead, referral, flag, note, audit, job...")


class ReferralRecord(StoredRecord):
    """The referral as stored: stage, review status, attribution, flags... (docs/data-model.md)."""

    version: int | None = Field(default=None, description="Send it back as `expected_version`; absent = 0")


class ReferralEvidence(Model):
    """``GET /admin/referrals/{id}``: the evidence chain of one referral, each part as stored (null or empty
    when there is none)."""

    lead_id: str
    referral: ReferralRecord | None
    lead: StoredRecord | None = Field(description="The only record with the customer's contact details")
    flags: list[StoredRecord]
    notes: list[StoredRecord]
    decisions: list[StoredRecord]
    audit: list[StoredRecord]
    referrer: StoredRecord | None
    click: StoredRecord | None = Field(description="The click the lead came with (`cid`)")
    share_code: StoredRecord | None
    job: StoredRecord | None
    job_events: list[StoredRecord]
    reward: StoredRecord | None
    ledger: list[StoredRecord] = Field(description="The referrer's ledger entries for this job")


class ReviewQueueItem(Model):
    """A referral in the review queue (absent attributes are left out)."""

    lead_id: str | None = None
    review_status: ReviewStatus | None = None
    stage: Stage | None = None
    flag_types: list[FlagType] | None = Field(default=None, description="Its flags' types, sorted")
    flag_severities: list[Severity] | None = None
    referrer_id: str | None = None
    masked_name: str | None = Field(default=None, examples=["Jo S."])
    postcode: str | None = None
    updated_at: str | None = None
    version: int | None = Field(default=None, description="Send it back as `expected_version`; absent = 0")


class ReviewQueuePage(Model):
    status: ReviewStatus
    items: list[ReviewQueueItem] = Field(description="Newest change first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class QueueCount(Model):
    status: ReviewStatus
    count: int = Field(description="Referrals with this review status (at most `capped_at` counted)")
    capped: bool = Field(description="True: there are more than `count`; the count stopped at the cap")


class ReviewQueueCounts(Model):
    counts: list[QueueCount] = Field(description="One per review status, in the queue's order")
    capped_at: int


class DisputeStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"


class DisputeOutcome(StrEnum):
    UPHELD = "upheld"
    PARTLY_UPHELD = "partly_upheld"
    NOT_UPHELD = "not_upheld"
    WITHDRAWN = "withdrawn"


class OpenDisputeRequest(Model):
    model_config = ConfigDict(extra="forbid")

    referral_id: EntityId | None = Field(default=None, description="the disputed referral (lead id)")
    referrer_id: EntityId | None = Field(default=None, description="the referrer who disputes")
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), OneLine]
    note: Note


class ResolveDisputeRequest(Model):
    model_config = ConfigDict(extra="forbid")

    outcome: DisputeOutcome
    note: Note


class DisputeNote(Model):
    at: str = Field(description="ISO-8601 UTC")
    by: str = Field(description="Who wrote it", examples=["staff:sam@example.com"])
    text: str


class Dispute(Model):
    """A dispute record (absent attributes are left out)."""

    type: Literal["dispute"] | None = Field(default=None, description="On stored records (lists, resolve)")
    dispute_id: str
    status: DisputeStatus
    subject: str
    referral_id: str | None = Field(default=None, description="The disputed referral (lead id)")
    referrer_id: str | None = Field(default=None, description="The referrer who disputes")
    created_at: str
    created_by: str
    notes: list[DisputeNote] = Field(description="Oldest first; the first is the note it was opened with")
    outcome: DisputeOutcome | None = Field(default=None, description="Once resolved")
    resolved_at: str | None = None
    resolved_by: str | None = None


class DisputesPage(Model):
    status: DisputeStatus
    items: list[Dispute] = Field(description="Newest first")
    next_cursor: str | None = Field(description="Pass as `cursor` for the next page; null at the end")


class EraseRequest(Model):
    model_config = ConfigDict(extra="forbid")

    email: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=254), OneLine] | None = (
        None)
    phone: Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=32), OneLine] | None = (
        None)
    note: Note = Field(description="why (the request's reference): kept in the audit trail")


class ExportedPartition(Model):
    id: str = Field(description="The lead, job or referrer id")
    items: list[StoredRecord]


class PersonExport(Model):
    """``GET /admin/people/export``: every stored item about the person, by the entity that holds it."""

    request_id: str = Field(description="Also in the audit trail (`PRIVACY#{request_id}`)")
    leads: list[ExportedPartition]
    jobs: list[ExportedPartition]
    referrers: list[ExportedPartition]
    applications: list[ExportedPartition] = Field(description="Applications to become a referrer they made")
    guardian_of: list[ExportedPartition] = Field(
        description="Applications naming them as parent or guardian: only their own part (email, consent)")


class ErasureSummary(Model):
    """``POST /admin/people/erase``: what was anonymised (ledger entries, balances and audit are kept)."""

    request_id: str = Field(description="Also in the audit trail (`PRIVACY#{request_id}`)")
    leads: int
    jobs: int
    referrers: int
    applications: int = Field(description="Their applications: details `[erased]`, status `erased`")
    guardian_of: int = Field(description="Applications where their guardian email and name were erased")
    items_changed: int = Field(description="Items whose personal details were overwritten with `[erased]`")
    lookups_deleted: int = Field(description="Contact lookups and email guards deleted")
