"""The staff directory of referrers: list and search (access pattern 3a, no Scan), one referrer's page, and
staff's manual ledger adjustments.

Search (``q``): an email finds its referrer exactly (gsi1 ``REFEMAIL#{hash}``); anything else is matched
exactly as a share code (``CODE#{Q}``) or a referrer id (``REFERRER#{q}``), and as the start of a name
(gsi2 ``REFERRERS``, begins_with on the case-folded name). Without ``q``: everyone, A to Z.
"""

from __future__ import annotations

from typing import Any

from referral_core.clock import iso
from referral_core.dal.dynamo import Item
from referral_core.dal.ledger import AlreadyPosted, Deltas, Entry, EntryKind, LedgerRepository, referrer_audit
from referral_core.dal.links import LinkRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.sessions import SessionRepository
from referral_core.dal.withdrawals import WithdrawalRepository
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.hashing import email_hash
from referral_core.ids import new_id
from referral_core.models.referrers import (
    AdjustmentRequest,
    AdjustmentResponse,
    ReferrerDetail,
    ReferrerDirectoryPage,
    ReferrerSummary,
)
from referral_core.services.review import view

RECENT = 20


def summary(item: Item) -> ReferrerSummary:
    return ReferrerSummary.model_validate({k: v for k, v in item.items() if v is not None})


def directory(referrers: ReferrerRepository, sessions: SessionRepository, links: LinkRepository, *,
              q: str | None, cursor: str | None, limit: int, pepper: str) -> ReferrerDirectoryPage:
    query = (q or "").strip()
    if "@" in query:  # an email: exactly one referrer or none; no paging
        found = sessions.referrer_by_email_hash(email_hash(pepper, query))
        return ReferrerDirectoryPage(items=[summary(found)] if found else [], next_cursor=None, matched_by="email")
    exact: list[Item] = []
    matched_by = "name" if query else "all"
    if query and not cursor:  # a share code or a referrer id, listed first on the first page
        code = links.get_code(query.upper())
        by_code = referrers.get(str(code["referrer_id"])) if code and code.get("referrer_id") else None
        by_id = None if by_code else referrers.get(query)
        if by_code or (by_id and by_id.get("type") == "referrer"):
            exact.append(by_code or by_id)  # type: ignore[arg-type]
            matched_by = "code" if by_code else "id"
    items, next_cursor = referrers.directory(name=query, limit=limit, cursor=cursor)
    seen = {str(i["referrer_id"]) for i in exact}
    listed = exact + [i for i in items if str(i["referrer_id"]) not in seen]
    return ReferrerDirectoryPage(items=[summary(i) for i in listed], next_cursor=next_cursor,
                                 matched_by=matched_by)


def detail(referrers: ReferrerRepository, links: LinkRepository, referrals: ReferralRepository,
           ledger: LedgerRepository, withdrawals: WithdrawalRepository, referrer_id: str) -> ReferrerDetail:
    profile = referrers.get(referrer_id)
    if profile is None or profile.get("type") != "referrer":
        raise NotFound("no such referrer", fields={"referrer_id": "unknown referrer"})
    recent, after = referrals.of_referrer(referrer_id, limit=RECENT)
    try:
        balance: dict[str, Any] | None = view(ledger.balance(referrer_id))
    except NotFound:
        balance = None
    entries = sorted(ledger.entries(referrer_id), key=lambda e: str(e.get("at") or e.get("created_at") or ""),
                     reverse=True)
    codes = sorted(links.codes_of_referrer(referrer_id), key=lambda c: str(c.get("created_at", "")), reverse=True)
    return ReferrerDetail(
        referrer=summary(profile), profile=view(profile) or {}, balance=balance,
        ledger=[view(e) or {} for e in entries], share_codes=[view(c) or {} for c in codes],
        referrals=[view(r) or {} for r in recent], more_referrals=after is not None,
        # each with its payout method masked; the encrypted copy is only for the reveal at pay time
        withdrawals=[{k: v for k, v in (view(w) or {}).items() if k != "payout_envelope"}
                     for w in withdrawals.of_referrer(referrer_id, limit=RECENT)])


def adjust(ledger: LedgerRepository, referrer_id: str, request: AdjustmentRequest, *, actor: str
           ) -> AdjustmentResponse:
    """A staff-entered ledger entry on the available balance (bonus or correction) with its reason, audited
    in the same transaction; a correction larger than the available balance is refused (409), so it never
    goes below zero. The entry's id is the client's ``adjustment_id`` when given (a resend collides: 409),
    else a new one."""
    if request.amount_cents == 0:
        raise InvalidInput("the amount cannot be 0", fields={"amount_cents": "not 0"})
    before = ledger.balance(referrer_id)  # 404 for an unknown referrer
    at, adjustment_id = iso(), f"ADJ-{request.adjustment_id or new_id()}"
    entry = Entry(referrer_id=referrer_id, kind=EntryKind.ADJUSTMENT, source_id=adjustment_id,
                  amount_cents=request.amount_cents, at=at, deltas=Deltas(available_cents=request.amount_cents),
                  detail={"reason": request.reason, "by": actor})
    audit = referrer_audit(referrer_id, actor=actor, action="ledger.adjusted", at=at,
                           detail={"adjustment_id": adjustment_id, "amount_cents": request.amount_cents,
                                   "reason": request.reason})
    try:
        ledger.post(entry, also=[audit])
    except AlreadyPosted as exc:
        raise Conflict("this adjustment was already posted", fields={"adjustment_id": "already posted"}) from exc
    return AdjustmentResponse(adjustment_id=adjustment_id, referrer_id=referrer_id, amount_cents=request.amount_cents,
                              available_cents=int(before.get("available_cents") or 0) + request.amount_cents, at=at)
