"""What a signed-in referrer sees and does: the dashboard (profile, share codes with counters, masked
referrals, rewards), one referral's detail, QR codes of their own share codes.

Everything is read by the referrer id from the session, never from the request, so a referrer only ever
reaches their own items; a referral of someone else is "not found", exactly like one that does not exist.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referral_core.clock import iso
from referral_core.dal.links import LinkRepository
from referral_core.dal.referrals import ReferralRepository, lead_id_of
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.rewards import RewardRepos
from referral_core.errors import NotFound
from referral_core.models.portal import (
    CodeStats,
    Me,
    MyShareCode,
    Preferences,
    ProfileView,
    ReferralsPage,
    ReferralView,
)
from referral_core.services import qr
from referral_core.services.notifications import reason_label, stage_label
from referral_core.services.share_codes import get_share_code, share_code_view
from referral_core.services.withdrawals import referrer_summary

REFERRALS_PER_PAGE = 20
#: Where the portal serves QR images of a referrer's own codes: ``{QR_PREFIX}/{code}/qr.png|svg``.
QR_PREFIX = "/me/share-codes"


def profile_view(referrer: Mapping[str, Any]) -> ProfileView:
    return ProfileView(referrer_id=str(referrer["referrer_id"]), name=str(referrer["name"]),
                       personal_code=str(referrer["personal_code"]), link=str(referrer["link"]),
                       notifications_opt_out=bool(referrer.get("notifications_opt_out")),
                       show_name_on_landing=bool(referrer.get("show_name_on_landing")))


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


def referrals_page(referrals: ReferralRepository, referrer_id: str, *, cursor: str | None = None,
                   limit: int = REFERRALS_PER_PAGE) -> ReferralsPage:
    """A page of the referrer's referrals, newest first; ``next_cursor`` continues with older ones."""
    items, following = referrals.of_referrer(referrer_id, limit=limit, cursor=cursor)
    return ReferralsPage(items=[referral_view(item) for item in items], next_cursor=following)


def referral_detail(referrals: ReferralRepository, referrer_id: str, referral_id: str) -> ReferralView:
    item = referrals.get(referral_id)
    if item is None or item.get("referrer_id") != referrer_id or item.get("type") != "referral":
        raise NotFound("no such referral")
    return referral_view(item)


def code_stats(links: LinkRepository, code: str) -> CodeStats:
    rows = links.code_stats(code)

    def total(name: str) -> int:
        return sum(int(row.get(name) or 0) for row in rows)

    return CodeStats(clicks=total("clicks_link") + total("clicks_qr"), clicks_qr=total("clicks_qr"),
                     leads=total("leads"), jobs=total("jobs"))


def my_share_codes(links: LinkRepository, referrer_id: str, *, origin: str) -> list[MyShareCode]:
    """The referrer's codes (personal first, then newest), each with link, QR URLs, message and counters."""
    newest_first = sorted(links.codes_of_referrer(referrer_id), key=lambda i: str(i.get("created_at", "")),
                          reverse=True)
    ordered = sorted(newest_first, key=lambda i: not i.get("personal"))  # stable: personal code first
    return [MyShareCode(**share_code_view(item, origin=origin, qr_prefix=QR_PREFIX).model_dump(),
                        stats=code_stats(links, str(item["code"])))
            for item in ordered]


def dashboard(referrer: Mapping[str, Any], *, links: LinkRepository, referrals: ReferralRepository,
              rewards: RewardRepos, origin: str, currency: str) -> Me:
    referrer_id = str(referrer["referrer_id"])
    summary = referrer_summary(rewards, referrer_id, currency=currency)
    return Me(**summary.model_dump(), referrer=profile_view(referrer),
              share_codes=my_share_codes(links, referrer_id, origin=origin),
              referrals=referrals_page(referrals, referrer_id))


def my_share_code(links: LinkRepository, referrer_id: str, code: str) -> dict[str, Any]:
    """One of the referrer's own code items; another referrer's code is 404, as if it did not exist."""
    item = get_share_code(links, code)
    if item.get("referrer_id") != referrer_id:
        raise NotFound("no such share code", fields={"code": "not found"})
    return item


def my_qr_target(links: LinkRepository, referrer_id: str, code: str, *, placement: str | None,
                 origin: str) -> str:
    """What the QR image of one of the referrer's own codes encodes; another's code is 404."""
    item = my_share_code(links, referrer_id, code)
    return qr.qr_target(origin, str(item["code"]), placement or str(item.get("placement") or "") or None)


def set_preferences(referrers: ReferrerRepository, referrer_id: str, preferences: Preferences) -> Preferences:
    """Save the referrer's own choices (``PUT /me/preferences``): whether Quick Help names them."""
    if not referrers.set_preferences(referrer_id, show_name_on_landing=preferences.show_name_on_landing, at=iso()):
        raise NotFound("no such referrer")
    return preferences
