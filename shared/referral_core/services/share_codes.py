"""Share codes: create (custom or generated), enable/disable, share message and usage review.

Plain functions over :class:`LinkRepository`; the staff routes and the referrer portal call the same ones,
passing the caller's ``origin`` (for links) and ``qr_prefix`` (the route that serves its QR images).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from referral_core import ids
from referral_core.clock import iso, now
from referral_core.dal.links import (
    STATS_COUNTERS,
    CodeMissing,
    LinkRepository,
    ReferrerInactive,
    ReferrerMissing,
)
from referral_core.dal.referrers import CodeTaken
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.models.share_codes import (
    CreateShareCodeRequest,
    PlacementUsage,
    QrLinks,
    ShareCodeView,
    UsageReview,
)
from referral_core.services.landing import landing_problem
from referral_core.services.notifications import POLICY_LINE
from referral_core.services.qr import qr_target
from referral_core.services.referrers import CODE_ATTEMPTS, short_link
from referral_core.zones import zone_is_valid

CUSTOM_CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{2,18})[A-Z0-9]$")
RESERVED_CODES = frozenset({
    "ADMIN", "API", "AUTH", "DASHBOARD", "DOCS", "HELP", "LEADS", "LOGIN", "LOGOUT", "ME", "NULL", "POLICY",
    "QR", "QUICK-HELP", "REFER", "REFERRAL", "REFERRALS", "ROOT", "STAFF", "SUPPORT", "TEST", "UNDEFINED",
    "WEBHOOK", "WEBHOOKS",
})


# -- rules ---------------------------------------------------------------------------------------
def custom_code_problem(code: str) -> str | None:
    """Why ``code`` (normalised) cannot be a custom code, or None."""
    if not 4 <= len(code) <= 20:
        return "must be 4 to 20 characters"
    if not CUSTOM_CODE.match(code):
        return "may contain only letters, digits and '-' (not at either end)"
    if code in RESERVED_CODES:
        return "is a reserved word"
    return None


def _clean_zones(zones: Sequence[str]) -> list[str]:
    bad = [zone for zone in zones if not zone_is_valid(zone)]
    if bad:
        raise InvalidInput("invalid zones", fields={"zones": f"not a postcode, prefix* or range: {bad[0]}"})
    return list(dict.fromkeys(zones))


def share_message(url: str, code: str) -> str:
    """What a referrer sends a friend: the link, no pressure, and the honest reward wording."""
    return (
        f"Hi! If you ever need a hand, this is who I'd recommend. You can ask for help here: {url} "
        f"(or mention code {code}).\n"
        "No pressure: it's just a friendly introduction. If it leads to paid work I may receive a thank-you "
        f"reward. {POLICY_LINE}"
    )


# -- views ---------------------------------------------------------------------------------------
def share_code_view(item: Mapping[str, Any], *, origin: str, qr_prefix: str) -> ShareCodeView:
    """The code as the API shows it: link, QR image URLs and share message included."""
    code = str(item["code"])
    url = short_link(origin, code)
    qr_base = f"{origin.rstrip('/')}{qr_prefix}/{code}"
    placement = str(item.get("placement") or "") or None
    return ShareCodeView(
        code=code, referrer_id=str(item["referrer_id"]), url=url,
        qr=QrLinks(png=f"{qr_base}/qr.png", svg=f"{qr_base}/qr.svg"),
        qr_target=qr_target(origin, code, placement), share_message=share_message(url, code),
        visibility=item.get("visibility", "public"), zones=list(item.get("zones") or []),
        expires_at=item.get("expires_at"), max_uses=item.get("max_uses"), uses=int(item.get("uses") or 0),
        placement=placement, landing_url=item.get("landing_url"), status=item.get("status", "active"),
        personal=bool(item.get("personal")), created_at=str(item.get("created_at", "")),
    )


# -- use cases -----------------------------------------------------------------------------------
def create_share_code(repo: LinkRepository, referrer_id: str, request: CreateShareCodeRequest, *, origin: str,
                      actor: str, allowed_hosts: Iterable[str], qr_prefix: str,
                      landing_choices: Sequence[str] | None = None) -> ShareCodeView:
    """Create a custom or generated code for ``referrer_id``. 422 names the field; a taken code is 409.

    ``landing_choices``: when given (a referrer creating their own code), ``landing_url`` must be one of
    these landing pages staff allow, or absent (Quick Help); staff may set any allow-listed landing.
    """
    if landing_choices is not None and request.landing_url and request.landing_url not in landing_choices:
        why = ("choose one of the landing pages staff allow: " + ", ".join(landing_choices)
               if landing_choices else "is set by staff: leave it out (Quick Help)")
        raise InvalidInput(f"landing_url {why}", fields={"landing_url": why})
    item: dict[str, Any] = {
        "referrer_id": referrer_id, "personal": False, "visibility": request.visibility,
        "zones": _clean_zones(request.zones), "expires_at": _future_iso(request.expires_at),
        "max_uses": request.max_uses, "placement": request.placement.value if request.placement else "",
        "landing_url": _checked_landing(request.landing_url, allowed_hosts, origin),
        "status": "active", "created_at": iso(), "created_by": actor,
    }
    if request.code is not None:
        code = ids.normalise_code(request.code)
        problem = custom_code_problem(code)
        if problem:
            raise InvalidInput(f"code {problem}", fields={"code": problem})
        if not _create(repo, {**item, "code": code}, actor):
            raise Conflict("that code is taken", fields={"code": "already taken"})
        return share_code_view({**item, "code": code}, origin=origin, qr_prefix=qr_prefix)
    for _ in range(CODE_ATTEMPTS):
        code = ids.new_code()
        if _create(repo, {**item, "code": code}, actor):
            return share_code_view({**item, "code": code}, origin=origin, qr_prefix=qr_prefix)
    raise Conflict("could not allocate a unique code, please retry")


def set_share_code_enabled(repo: LinkRepository, code: str, enabled: bool, *, origin: str, actor: str,
                           qr_prefix: str) -> ShareCodeView:
    try:
        item = repo.set_code_status(ids.normalise_code(code), "active" if enabled else "disabled",
                                    actor=actor)
    except CodeMissing:
        raise NotFound("no such share code", fields={"code": "not found"}) from None
    return share_code_view(item, origin=origin, qr_prefix=qr_prefix)


def get_share_code(repo: LinkRepository, code: str) -> dict[str, Any]:
    item = repo.get_code(ids.normalise_code(code))
    if item is None:
        raise NotFound("no such share code", fields={"code": "not found"})
    return item


def usage_review(repo: LinkRepository, code: str, *, origin: str, qr_prefix: str) -> UsageReview:
    """Clicks (QR vs link), leads, jobs, paid and rewarded per placement, from the counters (no Scan)."""
    item = get_share_code(repo, code)
    placements = [
        PlacementUsage(placement=str(row.get("placement", "-")),
                       **{name: int(row.get(name) or 0) for name in STATS_COUNTERS})
        for row in repo.code_stats(str(item["code"]))
    ]
    totals = PlacementUsage(placement="*", **{name: sum(getattr(p, name) for p in placements)
                                               for name in STATS_COUNTERS})
    return UsageReview(share_code=share_code_view(item, origin=origin, qr_prefix=qr_prefix),
                       placements=placements, totals=totals)


# -- helpers -------------------------------------------------------------------------------------
def _create(repo: LinkRepository, item: dict[str, Any], actor: str) -> bool:
    """Write the code; False when it is taken (any case)."""
    try:
        repo.create_code(item, actor=actor)
    except ReferrerMissing:
        raise NotFound("no such referrer", fields={"referrer_id": "not found"}) from None
    except ReferrerInactive:
        raise Conflict("the referrer is suspended or erased: no new share codes",
                       fields={"referrer_id": "not active"}) from None
    except CodeTaken:
        return False
    return True


def _future_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment <= now():
        raise InvalidInput("expires_at must be in the future", fields={"expires_at": "must be in the future"})
    return iso(moment.astimezone(now().tzinfo))


def _checked_landing(url: str | None, allowed_hosts: Iterable[str], origin: str) -> str | None:
    if not url:
        return None
    problem = landing_problem(url, allowed_hosts=allowed_hosts, own_host=urlsplit(origin).netloc)
    if problem:
        raise InvalidInput(f"landing_url {problem}", fields={"landing_url": problem})
    return url
