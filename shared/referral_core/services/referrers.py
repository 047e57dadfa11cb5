"""Creating referrers (staff) with a personal, readable code and link."""

from __future__ import annotations

from referral_core import ids
from referral_core.clock import iso
from referral_core.contacts import clean_email, clean_phone
from referral_core.dal.referrers import CodeTaken, EmailTaken, NewReferrer, ReferrerRepository
from referral_core.errors import Conflict
from referral_core.hashing import email_hash, email_match_hash, peppered_hash
from referral_core.models.referrers import CreateReferrerRequest, CreateReferrerResponse

CODE_ATTEMPTS = 5


def short_link(origin: str, code: str) -> str:
    return f"{origin.rstrip('/')}/r/{code}"


def create_referrer(repo: ReferrerRepository, request: CreateReferrerRequest, *, pepper: str, origin: str,
                    phone_region: str, actor: str) -> CreateReferrerResponse:
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
            created_at=created_at, created_by=actor,
        )
        try:
            repo.create(new)
        except CodeTaken:
            continue
        except EmailTaken:
            raise Conflict("a referrer with this email already exists",
                           fields={"email": "already registered"}) from None
        return CreateReferrerResponse(referrer_id=referrer_id, code=code, link=new.link, email=email,
                                      created_at=created_at)
    raise Conflict("could not allocate a unique code, please retry")
