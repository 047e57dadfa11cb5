"""Creating referrers (staff) with a personal, readable code and link; suspending and reactivating them.

Status rules (docs/admin.md): ``active`` -> ``suspended`` (sessions revoked, codes stop attributing) ->
``active`` again; ``erased`` (privacy erasure) is final. Each change is audited with the staff note.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from referral_core import ids
from referral_core.clock import iso
from referral_core.contacts import clean_email, clean_phone
from referral_core.dal.dynamo import ConditionCheck, Delete, Put, Update
from referral_core.dal.referrers import (
    CodeTaken,
    EmailTaken,
    NewReferrer,
    ReferrerRepository,
    StatusChange,
    StatusChanged,
    TypeChanged,
)
from referral_core.errors import Conflict, NotFound
from referral_core.hashing import email_hash, email_match_hash, peppered_hash
from referral_core.models.referrers import (
    CreateReferrerRequest,
    CreateReferrerResponse,
    ReferrerStatusView,
    ReferrerTypeView,
    UpdateReferrerRequest,
)

CODE_ATTEMPTS = 5


def short_link(origin: str, code: str) -> str:
    return f"{origin.rstrip('/')}/r/{code}"


Writes = Sequence[Put | Update | ConditionCheck | Delete]


def create_referrer(repo: ReferrerRepository, request: CreateReferrerRequest, *, pepper: str, origin: str,
                    phone_region: str, actor: str, referrer_type: str | None = None,
                    also: Callable[[str, str], Writes] | None = None) -> CreateReferrerResponse:
    """Create a referrer with their personal code and zero balance (the welcome email follows from the
    stream). ``also(referrer_id, code)``: more writes for the same transaction (an approved application's,
    services.applications); a failed condition among them is :class:`ConditionFailed`, nothing written."""
    email = clean_email(request.email)
    phone = clean_phone(request.phone, phone_region) if request.phone else None
    referrer_id = ids.new_id()
    created_at = iso()
    for _ in range(CODE_ATTEMPTS):
        code = ids.new_code()
        new = NewReferrer(
            referrer_id=referrer_id, name=request.name, email=email,
            email_hash=email_hash(pepper, email), email_match_hash=email_match_hash(pepper, email), phone=phone,
            phone_hash=peppered_hash(pepper, "phone", phone) if phone else None,
            code=code, link=short_link(origin, code), origin=origin.rstrip("/"),
            created_at=created_at, created_by=actor, referrer_type=referrer_type or request.referrer_type,
        )
        try:
            repo.create(new, also(referrer_id, code) if also else ())
        except CodeTaken:
            continue
        except EmailTaken:
            raise Conflict("a referrer with this email already exists",
                           fields={"email": "already registered"}) from None
        return CreateReferrerResponse(referrer_id=referrer_id, code=code, link=new.link, email=email,
                                      created_at=created_at)
    raise Conflict("could not allocate a unique code, please retry")


# -- type ----------------------------------------------------------------------------------------
def set_referrer_type(repo: ReferrerRepository, referrer_id: str, request: UpdateReferrerRequest, *,
                      actor: str) -> ReferrerTypeView:
    """Set a referrer's type (the rules in ``rules.by_type`` they earn by from their next reward), audited.
    404 unknown, 409 erased or changed meanwhile."""
    _current(repo, referrer_id)
    profile = repo.get(referrer_id) or {}
    previous = profile.get("referrer_type") or None
    at = iso()
    try:
        repo.set_type(referrer_id, request.referrer_type, expected=previous, actor=actor, at=at, note=request.note)
    except TypeChanged:
        raise Conflict("the referrer's type changed meanwhile: reload and retry",
                       fields={"referrer_type": "changed"}) from None
    return ReferrerTypeView.model_validate({
        "referrer_id": referrer_id, "referrer_type": request.referrer_type, "previous_type": previous,
        "changed_at": at, "changed_by": actor})


# -- status ----------------------------------------------------------------------------------------
def _current(repo: ReferrerRepository, referrer_id: str) -> str:
    profile = repo.get(referrer_id)
    if profile is None:
        raise NotFound("no such referrer", fields={"referrer_id": "not found"})
    status = str(profile.get("status") or "active")
    if status == "erased":
        raise Conflict("this referrer was erased: their status cannot change",
                       fields={"referrer_id": "erased"})
    return status


def _change(repo: ReferrerRepository, referrer_id: str, status: str, *, expected: str, actor: str,
            note: str, revoke_sessions: bool) -> StatusChange:
    try:
        return repo.set_status(referrer_id, status, expected=expected, actor=actor, at=iso(),
                               action=f"referrer.{status}", detail={"note": note},
                               revoke_sessions=revoke_sessions)
    except StatusChanged:
        raise Conflict("the referrer's status changed meanwhile: reload and retry",
                       fields={"referrer_id": "status changed"}) from None


def _view(change: StatusChange, actor: str) -> ReferrerStatusView:
    return ReferrerStatusView.model_validate({
        "referrer_id": change.referrer_id, "status": change.status, "previous_status": change.previous,
        "changed_at": change.at, "changed_by": actor, "share_codes_updated": change.codes})


def suspend_referrer(repo: ReferrerRepository, referrer_id: str, *, note: str, actor: str) -> ReferrerStatusView:
    """Suspend: sessions revoked, magic links refused, codes land on Quick Help without ``ref``, leads
    naming their codes unattributed. Suspending again re-applies it (completes codes a first run missed).
    404 unknown, 409 erased."""
    current = _current(repo, referrer_id)
    change = _change(repo, referrer_id, "suspended", expected=current, actor=actor, note=note,
                     revoke_sessions=True)
    return _view(change, actor)


def reactivate_referrer(repo: ReferrerRepository, referrer_id: str, *, note: str,
                        actor: str) -> ReferrerStatusView:
    """Reactivate a suspended referrer: their codes attribute again; old sessions stay revoked (they sign
    in again). 404 unknown, 409 erased."""
    current = _current(repo, referrer_id)
    change = _change(repo, referrer_id, "active", expected=current, actor=actor, note=note,
                     revoke_sessions=False)
    return _view(change, actor)
