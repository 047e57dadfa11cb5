"""Share codes: create (custom or generated), enable/disable, share message and usage review.

Plain functions over :class:`LinkRepository`; the staff routes and the referrer portal call the same ones,
passing the caller's ``origin`` (for links) and ``qr_prefix`` (the route that serves its QR images).
Creating obeys the programme's ``share_codes`` rules (the per-referrer cap, reserved words) for both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from referral_core import ids
from referral_core.clock import iso, now
from referral_core.code_words import reserved_word
from referral_core.dal.links import (
    STATS_COUNTERS,
    CodeMissing,
    CodeQuota,
    LinkRepository,
    QuotaChanged,
    ReferrerInactive,
    ReferrerMissing,
)
from referral_core.dal.referrers import CodeTaken
from referral_core.errors import Conflict, InvalidInput, LimitReached, NotFound
from referral_core.models.program import ShareCodeRules
from referral_core.models.share_codes import (
    CreateShareCodeRequest,
    PlacementUsage,
    QrLinks,
    ShareCodeView,
    ShareLink,
    UsageReview,
)
from referral_core.placements import SHARE_CHANNELS
from referral_core.services.landing import landing_problem
from referral_core.services.notifications import POLICY_LINE
from referral_core.services.qr import qr_target
from referral_core.services.redirect import is_live
from referral_core.services.referrers import CODE_ATTEMPTS, short_link
from referral_core.visibility import is_public
from referral_core.zones import zone_is_valid, zone_mode

CUSTOM_CODE = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{2,18})[A-Z0-9]$")
QUOTA_ATTEMPTS = 5  # concurrent creates for one referrer: each loser reads the quota again


# -- rules ---------------------------------------------------------------------------------------
def custom_code_problem(code: str, reserved: Sequence[str] = ()) -> str | None:
    """Why ``code`` (normalised) cannot be a custom code, or None. ``reserved``: the programme's own
    words, on top of the built-in list (``referral_core.code_words``)."""
    if not 4 <= len(code) <= 20:
        return "must be 4 to 20 characters"
    if not CUSTOM_CODE.match(code):
        return "may contain only letters, digits and '-' (not at either end)"
    word = reserved_word(code, reserved)
    if word:
        return f"is a reserved word or contains one: {word} (look-alikes such as 0 for O or 1 for I count too)"
    return None


def _clean_zones(zones: Sequence[str], zone_mode: str) -> list[str]:
    bad = [zone for zone in zones if not zone_is_valid(zone)]
    if bad:
        raise InvalidInput("invalid zones", fields={"zones": f"not a postcode, prefix* or range: {bad[0]}"})
    if zone_mode == "lock" and not zones:
        raise InvalidInput("zone_mode lock needs zones", fields={"zone_mode": "lock needs at least one zone"})
    return list(dict.fromkeys(zones))


def share_message(url: str, code: str, *, public: bool = True) -> str:
    """What a referrer sends a friend: the link, no pressure, and the honest reward wording. Only a public
    code invites the friend to mention it (a private one is matched through its link only)."""
    mention = f" (or mention code {code})" if public else ""
    return (
        f"Hi! If you ever need a hand, this is who I'd recommend. You can ask for help here: {url}"
        f"{mention}.\n"
        "No pressure: it's just a friendly introduction. If it leads to paid work I may receive a thank-you "
        f"reward. {POLICY_LINE}"
    )


def share_links(url: str, code: str, *, public: bool = True) -> list[ShareLink]:
    """The share message once per share button, each with the link marked with the button's channel."""
    return [ShareLink.model_validate({"channel": channel, "url": f"{url}?src={channel}",
                                      "message": share_message(f"{url}?src={channel}", code, public=public)})
            for channel in SHARE_CHANNELS]


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
        qr_target=qr_target(origin, code, placement),
        share_message=share_message(url, code, public=is_public(item)),
        share_links=share_links(url, code, public=is_public(item)),
        visibility="public" if is_public(item) else "private", zones=list(item.get("zones") or []),
        zone_mode=zone_mode(item),
        expires_at=item.get("expires_at"), max_uses=item.get("max_uses"), uses=int(item.get("uses") or 0),
        placement=placement, landing_url=item.get("landing_url"), status=item.get("status", "active"),
        personal=bool(item.get("personal")), created_at=str(item.get("created_at", "")),
    )


# -- use cases -----------------------------------------------------------------------------------
def create_share_code(repo: LinkRepository, referrer_id: str, request: CreateShareCodeRequest, *, origin: str,
                      actor: str, allowed_hosts: Iterable[str], qr_prefix: str,
                      rules: ShareCodeRules, landing_choices: Sequence[str] | None = None) -> ShareCodeView:
    """Create a custom or generated code for ``referrer_id``. 422 names the field; a taken code is 409, and
    so is a code beyond the programme's ``max_active_per_referrer`` (``limit_reached``).

    ``landing_choices``: when given (a referrer creating their own code), ``landing_url`` must be one of
    these landing pages staff allow, or absent (Quick Help); staff may set any allow-listed landing.
    """
    if landing_choices is not None and request.landing_url and request.landing_url not in landing_choices:
        why = ("choose one of the landing pages staff allow: " + ", ".join(landing_choices)
               if landing_choices else "is set by staff: leave it out (Quick Help)")
        raise InvalidInput(f"landing_url {why}", fields={"landing_url": why})
    item: dict[str, Any] = {
        "referrer_id": referrer_id, "personal": False, "visibility": request.visibility,
        "zones": _clean_zones(request.zones, request.zone_mode), "zone_mode": request.zone_mode,
        "expires_at": _future_iso(request.expires_at),
        "max_uses": request.max_uses, "placement": request.placement.value if request.placement else "",
        "landing_url": _checked_landing(request.landing_url, allowed_hosts, origin),
        "status": "active", "created_at": iso(), "created_by": actor,
    }
    custom = None
    if request.code is not None:
        custom = ids.normalise_code(request.code)
        problem = custom_code_problem(custom, rules.reserved_words)
        if problem:
            raise InvalidInput(f"code {problem}", fields={"code": problem})
    for _ in range(QUOTA_ATTEMPTS):
        quota = repo.code_quota(referrer_id)
        keep = _counted_codes(quota, rules, at=item["created_at"])
        try:
            code = _allocate(repo, item, custom, actor, quota, keep)
        except QuotaChanged:
            continue
        return share_code_view({**item, "code": code}, origin=origin, qr_prefix=qr_prefix)
    raise Conflict("too many codes being created at once for this referrer, please retry", retry_after=1)


def _counted_codes(quota: CodeQuota, rules: ShareCodeRules, *, at: str) -> list[str]:
    """The codes to keep counting (all that may be live again: live or disabled, not expired or used up);
    :class:`LimitReached` when the live ones fill the cap."""
    live = [c for c in quota.codes if is_live(c, at)]
    if len(live) >= rules.max_active_per_referrer:
        limit = rules.max_active_per_referrer
        raise LimitReached(
            f"this referrer already has {len(live)} active share codes besides the personal one, the most "
            f"the programme allows ({limit}); staff can disable one, or wait until one expires or is used up",
            limit=limit)
    return [str(c["code"]) for c in quota.codes if not _ended(c, at)]


def _ended(code_item: dict[str, Any], at: str) -> bool:
    """Expired or used up: the code can never be live again, so it stops being counted."""
    return not is_live({**code_item, "status": "active"}, at)


def _allocate(repo: LinkRepository, item: dict[str, Any], custom: str | None, actor: str, quota: CodeQuota,
              keep: list[str]) -> str:
    """Write ``custom``, or a generated code (a few tries); returns the code. :class:`QuotaChanged`."""
    if custom is not None:
        if not _create(repo, {**item, "code": custom}, actor, quota, keep):
            raise Conflict("that code is taken", fields={"code": "already taken"})
        return custom
    for _ in range(CODE_ATTEMPTS):
        code = ids.new_code()
        if not reserved_word(code) and _create(repo, {**item, "code": code}, actor, quota, keep):
            return code
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
def _create(repo: LinkRepository, item: dict[str, Any], actor: str, quota: CodeQuota,
            keep: list[str]) -> bool:
    """Write the code (and the referrer's quota); False when it is taken (any case)."""
    try:
        repo.create_code(item, actor=actor, quota=quota, keep=keep)
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
