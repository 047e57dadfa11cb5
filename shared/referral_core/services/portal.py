"""What a signed-in referrer sees: their profile and link, their referrals (masked), one referral's detail.

Everything is read by the referrer id from the session, never from the request, so a referrer only ever
reaches their own items; a referral of someone else is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from typing import Any

from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.errors import InvalidInput, NotFound, Unauthorized
from referral_core.models.portal import ProfileView, ReferralsPage, ReferralView
from referral_core.services.notifications import lead_id_of, reason_label, stage_label

REFERRALS_PER_PAGE = 20
_CURSOR = re.compile(r"^\d{4}-\d\d-\d\dT[\d:.]+Z#[A-Za-z0-9_-]{1,64}$")  # a referral's gsi1sk


def signed_in_referrer(referrers: ReferrerRepository, referrer_id: str) -> dict[str, Any]:
    """The session's referrer, while the account exists and is active (a disabled account loses access)."""
    referrer = referrers.get(referrer_id)
    if referrer is None or referrer.get("status") != "active":
        raise Unauthorized("this account is not active: please contact us")
    return referrer


def profile_view(referrer: Mapping[str, Any]) -> ProfileView:
    return ProfileView(referrer_id=str(referrer["referrer_id"]), name=str(referrer["name"]),
                       personal_code=str(referrer["personal_code"]), link=str(referrer["link"]),
                       notifications_opt_out=bool(referrer.get("notifications_opt_out")))


def referral_view(item: Mapping[str, Any]) -> ReferralView:
    """Only the fields a referrer may see; the lead (with contact details) is never read here."""
    stage = str(item.get("stage") or "received")
    reason = (str(item.get("not_eligible_reason") or "") or None) if stage == "not_eligible" else None
    created = str(item.get("created_at") or "")
    return ReferralView(
        referral_id=lead_id_of(item), masked_name=str(item.get("masked_name") or "?"),
        suburb=item.get("suburb") or None, postcode=item.get("postcode") or None, stage=stage,
        stage_label=stage_label(stage), reason=reason, reason_label=reason_label(reason),
        created_at=created, updated_at=str(item.get("updated_at") or created),
    )


def _encode_cursor(after: str | None) -> str | None:
    return base64.urlsafe_b64encode(after.encode()).decode() if after else None


def _decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        after = base64.b64decode(cursor.encode(), altchars=b"-_", validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        after = ""
    if not _CURSOR.match(after):
        raise InvalidInput("the cursor is not valid", fields={"cursor": "not valid"})
    return after


def referrals_page(referrals: ReferralRepository, referrer_id: str, *, cursor: str | None = None,
                   limit: int = REFERRALS_PER_PAGE) -> ReferralsPage:
    """A page of the referrer's referrals, newest first; ``next_cursor`` continues with older ones."""
    items, after = referrals.of_referrer(referrer_id, limit=limit, after=_decode_cursor(cursor))
    return ReferralsPage(items=[referral_view(item) for item in items], next_cursor=_encode_cursor(after))


def referral_detail(referrals: ReferralRepository, referrer_id: str, referral_id: str) -> ReferralView:
    item = referrals.get(referral_id)
    if item is None or item.get("referrer_id") != referrer_id or item.get("type") != "referral":
        raise NotFound("no such referral")
    return referral_view(item)
