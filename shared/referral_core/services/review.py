"""Staff review: the queue, the evidence chain of one referral, decisions and attribution fixes.

Decisions keep the referral listed under its new status (gsi2 ``REVIEW#{status}``), so questioned and
deferred referrals stay findable and accepted/dismissed ones keep their history.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any

from referral_core.clock import iso
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import Item
from referral_core.dal.referrals import hold_clauses, review_gsi
from referral_core.dal.review import (
    QUEUE_COUNT_CAP,
    Attribution,
    Decision,
    ReferrerMissing,
    ReviewRepository,
    StaffChange,
    StaleVersion,
)
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.models.review import (
    AttributionRequest,
    DecisionKind,
    DecisionRequest,
    QueueCount,
    ReferralEvidence,
    ReviewQueueCounts,
    ReviewQueuePage,
    StaffChangeResponse,
)
from referral_core.stages import FlagType, ReviewStatus, Severity, Stage

#: What each decision does: the queue it moves to, the hold on the visible stage (None: release the
#: hold) and whether it settles the lead's open flags.
_OUTCOMES: dict[DecisionKind, tuple[ReviewStatus, Stage | None, bool]] = {
    DecisionKind.ACCEPT: (ReviewStatus.ACCEPTED, None, True),
    DecisionKind.QUESTION: (ReviewStatus.QUESTIONED, Stage.UNDER_REVIEW, False),
    DecisionKind.DEFER: (ReviewStatus.DEFERRED, Stage.UNDER_REVIEW, False),
    DecisionKind.DISMISS: (ReviewStatus.DISMISSED, Stage.NOT_ELIGIBLE, True),
}
_INTERNAL = frozenset({"pk", "sk", "gsi1pk", "gsi1sk", "gsi2pk", "gsi2sk"})


def view(item: Item | None) -> dict[str, Any] | None:
    """An item as JSON for staff: no key attributes, sets as sorted lists."""
    if item is None:
        return None
    return {k: sorted(v) if isinstance(v, set) else v for k, v in item.items() if k not in _INTERNAL}


def review_queue(repo: ReviewRepository, *, status: ReviewStatus, limit: int, cursor: str | None = None,
                 flag_type: FlagType | None = None, severity: Severity | None = None, source: str | None = None,
                 updated_from: date | None = None, updated_to: date | None = None) -> ReviewQueuePage:
    """A page of the queue; each entry has the attributes of ``ReviewQueueItem`` that the referral has.
    ``updated_from``/``updated_to`` (days, both included) bound the sort key, ``updated_at``."""
    if updated_from and updated_to and updated_from > updated_to:
        raise InvalidInput("the range ends before it starts", fields={"to": "before from"})
    low = updated_from.isoformat() if updated_from else None
    high = f"{updated_to.isoformat()}~" if updated_to else None  # "~" sorts after any time of that day
    start = decode_cursor(cursor, index="gsi2", partition=review_gsi(status), sort_from=low, sort_to=high)
    page = repo.queue_page(status, limit=limit, flag_type=flag_type, severity=severity, source=source,
                           updated=(low, high), start_key=start)
    return ReviewQueuePage.model_validate({"status": status, "items": [view(item) for item in page.items],
                                           "next_cursor": encode_cursor(page.last_key)})


def queue_counts(repo: ReviewRepository) -> ReviewQueueCounts:
    """How many referrals each review status holds, each counted up to ``QUEUE_COUNT_CAP``."""
    counts = []
    for status in ReviewStatus:
        count, capped = repo.queue_size(status)
        counts.append(QueueCount(status=status, count=count, capped=capped))
    return ReviewQueueCounts(counts=counts, capped_at=QUEUE_COUNT_CAP)


def _by_type(items: Iterable[Item]) -> dict[str, list[Item]]:
    grouped: dict[str, list[Item]] = {}
    for item in items:
        grouped.setdefault(str(item.get("type")), []).append(item)
    return grouped


def referral_evidence(repo: ReviewRepository, lead_id: str) -> ReferralEvidence:
    """The evidence chain: lead (with contact details), referral, flags, notes, decisions, audit, the
    job and its events, the click, the share code, the reward and the job's ledger entries (in the
    ledger of the referrer the reward credited, else of the referral's referrer)."""
    own = _by_type(repo.lead_partition(lead_id))
    if not own.get("referral") and not own.get("lead"):
        raise NotFound("no such referral", fields={"id": "unknown referral"})
    referral = (own.get("referral") or [{}])[0]
    lead = (own.get("lead") or [{}])[0]
    job_id = referral.get("job_id") or lead.get("job_id")
    referrer_id = referral.get("referrer_id")
    code = referral.get("code") or lead.get("ref")
    click_id = referral.get("click_id") or lead.get("cid")
    job = _by_type(repo.job_partition(job_id)) if job_id else {}
    reward = repo.reward(job_id) if job_id else None
    credited = (reward or {}).get("referrer_id") or referrer_id  # whose ledger holds the job's entries
    return ReferralEvidence.model_validate({
        "lead_id": lead_id,
        "referral": view(referral or None),
        "lead": view(lead or None),
        "flags": [view(i) for i in own.get("flag", [])],
        "notes": [view(i) for i in own.get("note", [])],
        "decisions": [view(i) for i in own.get("decision", [])],
        "audit": [view(i) for i in own.get("audit", [])],
        "referrer": view(repo.referrer(referrer_id)) if referrer_id else None,
        "click": view(repo.click(click_id)) if click_id else None,
        "share_code": view(repo.share_code(code)) if code else None,
        "job": view(job["job"][0]) if job.get("job") else None,
        "job_events": [view(i) for i in job.get("job_event", [])],
        "reward": view(reward),
        "ledger": [view(i) for i in repo.ledger_for_job(credited, job_id)] if credited and job_id else [],
    })


def _current(repo: ReviewRepository, lead_id: str) -> tuple[Item, list[Item]]:
    """The referral and its open flags; NotFound if there is no referral."""
    items = _by_type(repo.lead_partition(lead_id))
    if not items.get("referral"):
        raise NotFound("no such referral", fields={"id": "unknown referral"})
    open_flags = [f for f in items.get("flag", []) if f.get("status") == "open"]
    return items["referral"][0], open_flags


def _stale(repo: ReviewRepository, lead_id: str) -> Conflict:
    referral, _ = _current(repo, lead_id)
    version = int(referral.get("version", 0))
    return Conflict(f"the referral changed since you read it (current version {version})",
                    fields={"expected_version": f"stale: current version is {version}"},
                    current_version=version)


def decide(repo: ReviewRepository, lead_id: str, request: DecisionRequest, *, actor: str) -> StaffChangeResponse:
    """Record a staff decision with its note, flags and audit entry: one transaction, and nothing after it,
    so a failed call changed nothing and the same request can simply be sent again.

    The answer is built from what was written (no read after the commit). The credit after an accept
    follows from the stream (``services.rewards.on_change``), with the stream's retries.
    """
    referral, open_flags = _current(repo, lead_id)
    status, hold, settles_flags = _OUTCOMES[request.decision]
    hold_change = hold_clauses(hold, reason="staff_decision" if hold == Stage.NOT_ELIGIBLE else None)
    decision = Decision(
        decision=str(request.decision), review_status=status, previous_status=referral.get("review_status"),
        hold=hold_change,
        resolve_flags=tuple(f["flag_type"] for f in open_flags) if settles_flags else (),
    )
    change = StaffChange(lead_id=lead_id, actor=actor, at=iso(), note=request.note,
                         expected_version=request.expected_version)
    try:
        version = repo.record_decision(change, decision)
    except StaleVersion:
        raise _stale(repo, lead_id) from None
    # The stage as the hold clauses set it: the hold, or back to the progress stage.
    stage = hold or referral.get("progress_stage") or Stage.RECEIVED
    return StaffChangeResponse(lead_id=lead_id, review_status=str(status), stage=str(stage),
                               referrer_id=referral.get("referrer_id"), version=version)


def attribute(repo: ReviewRepository, lead_id: str, request: AttributionRequest, *,
              actor: str) -> StaffChangeResponse:
    """Resolve an unclear source to a referrer (which must exist) or to none, with a note: one transaction,
    and the answer is built from what was written (a failed call changed nothing)."""
    referral, open_flags = _current(repo, lead_id)
    if request.referrer_id:
        profile = repo.referrer(request.referrer_id)
        if profile is None:
            raise NotFound("no such referrer", fields={"referrer_id": "unknown referrer"})
        if profile.get("status", "active") != "active":
            raise Conflict("the referrer is suspended or erased: they cannot be credited",
                           fields={"referrer_id": "not active"})
    unclear = tuple(f["flag_type"] for f in open_flags if f["flag_type"] == FlagType.UNCLEAR_SOURCE)
    attribution = Attribution(
        referrer_id=request.referrer_id, previous_referrer_id=referral.get("referrer_id"),
        previous_source=referral.get("source"),
        created_at=referral.get("created_at") or referral.get("updated_at") or iso(), resolve_flags=unclear,
    )
    change = StaffChange(lead_id=lead_id, actor=actor, at=iso(), note=request.note,
                         expected_version=request.expected_version)
    try:
        version = repo.record_attribution(change, attribution)
    except StaleVersion:
        raise _stale(repo, lead_id) from None
    except ReferrerMissing:
        raise NotFound("no such referrer", fields={"referrer_id": "unknown referrer"}) from None
    return StaffChangeResponse(lead_id=lead_id, review_status=referral.get("review_status"),
                               stage=referral.get("stage"), referrer_id=request.referrer_id, version=version)
