"""Disputes: a referrer (or customer) contests a referral or reward; staff record it and resolve it."""

from __future__ import annotations

from referral_core.clock import iso
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.disputes import AlreadyResolved, DisputeRepository, disputes_gsi
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.ids import new_id
from referral_core.models.review import (
    Dispute,
    DisputesPage,
    DisputeStatus,
    OpenDisputeRequest,
    ResolveDisputeRequest,
)
from referral_core.services.review import view


def list_disputes(repo: DisputeRepository, *, status: DisputeStatus, limit: int,
                  cursor: str | None) -> DisputesPage:
    page = repo.page(str(status), limit=limit,
                     start_key=decode_cursor(cursor, index="gsi1", partition=disputes_gsi(status)))
    return DisputesPage.model_validate({"status": status, "items": [view(i) for i in page.items],
                                        "next_cursor": encode_cursor(page.last_key)})


def open_dispute(repo: DisputeRepository, referrals: ReferralRepository, referrers: ReferrerRepository,
                 request: OpenDisputeRequest, *, actor: str) -> Dispute:
    """Record a dispute about a referral and/or a referrer (at least one, and each must exist)."""
    if not request.referral_id and not request.referrer_id:
        raise InvalidInput("a dispute is about a referral or a referrer",
                           fields={"referral_id": "give referral_id and/or referrer_id"})
    if request.referral_id and referrals.get(request.referral_id) is None:
        raise NotFound("no such referral", fields={"referral_id": "unknown referral"})
    if request.referrer_id and referrers.get(request.referrer_id) is None:
        raise NotFound("no such referrer", fields={"referrer_id": "unknown referrer"})
    at = iso()
    dispute = {"dispute_id": new_id(), "status": str(DisputeStatus.OPEN), "subject": request.subject,
               "referral_id": request.referral_id, "referrer_id": request.referrer_id, "created_at": at,
               "created_by": actor, "notes": [{"at": at, "by": actor, "text": request.note}]}
    repo.open(dispute, actor=actor)
    return Dispute.model_validate({k: v for k, v in dispute.items() if v is not None})


def resolve_dispute(repo: DisputeRepository, dispute_id: str, request: ResolveDisputeRequest, *,
                    actor: str) -> Dispute:
    dispute = repo.get(dispute_id)
    if dispute is None:
        raise NotFound("no such dispute", fields={"id": "unknown dispute"})
    at = iso()
    note = {"at": at, "by": actor, "text": request.note}
    try:
        repo.resolve(dispute_id, outcome=str(request.outcome), actor=actor, at=at, note=note,
                     referral_id=dispute.get("referral_id"))
    except AlreadyResolved:
        raise Conflict("the dispute is already resolved", fields={"id": "already resolved"}) from None
    # Built from what was written (the update was conditional on the status read): no read after the
    # commit, so a failed call changed nothing and can be sent again.
    resolved = {**dispute, "status": str(DisputeStatus.RESOLVED), "outcome": str(request.outcome),
                "resolved_at": at, "resolved_by": actor, "notes": [*dispute.get("notes", []), note]}
    return Dispute.model_validate(view(resolved))
