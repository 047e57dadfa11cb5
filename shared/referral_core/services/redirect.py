"""GET /r/{code}: decide where a visitor goes and whether the visit counts as a click.

Hot path: no pydantic, no heavy imports; at most one read (the code) and one write (the click).
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from referral_core.clock import epoch, iso, parse_iso
from referral_core.dal.links import LinkRepository
from referral_core.ids import normalise_code
from referral_core.placements import known_placement
from referral_core.services.landing import is_allowed_landing

CODE_PATTERN = re.compile(r"^[A-Z0-9][A-Z0-9_-]{2,31}$")
DEDUP_SECONDS = 3600


@dataclass(frozen=True)
class Visit:
    code: str
    method: str
    source_ip: str
    user_agent: str
    src: str | None = None
    placement: str | None = None


@dataclass(frozen=True)
class RedirectDecision:
    status: int  # 302 or 404
    location: str | None = None
    click_id: str | None = None
    counted: bool = False


def visitor_hash(pepper: str, source_ip: str, user_agent: str) -> str:
    """Who clicked, without storing the IP: HMAC(pepper, ip|ua)."""
    return hmac.new(pepper.encode(), f"{source_ip}|{user_agent}".encode(), hashlib.sha256).hexdigest()[:32]


def click_id_for(pepper: str, code: str, visitor: str) -> str:
    return hmac.new(pepper.encode(), f"click:{code}:{visitor}".encode(), hashlib.sha256).hexdigest()[:24]


def with_query(url: str, params: dict[str, str]) -> str:
    """Append ``params`` to a stored landing URL, replacing any of the same name."""
    parts = urlsplit(url)
    kept = [p for p in parts.query.split("&") if p and p.split("=", 1)[0] not in params]
    query = "&".join([*kept, urlencode(params)])
    return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))


def is_live(item: dict[str, object], now_iso: str) -> bool:
    if item.get("status") != "active":
        return False
    expires = item.get("expires_at")
    if isinstance(expires, str) and parse_iso(expires) <= parse_iso(now_iso):
        return False
    max_uses = item.get("max_uses")
    return not (isinstance(max_uses, int) and int(item.get("uses", 0) or 0) >= max_uses)  # type: ignore[call-overload]


def is_bot(user_agent: str) -> bool:
    """Crawlers, link-preview fetchers and clients that send no user agent at all."""
    from referral_core.services.bots import BOT_PATTERN

    return not user_agent.strip() or bool(BOT_PATTERN.search(user_agent))


def destination(item: dict[str, object], *, landing_url: str, allowed_hosts: Iterable[str],
                own_host: str) -> str:
    """The code's stored landing if it is (still) allowed, else the configured landing. Never the request's.

    The stored landing was checked when written; checking again means a host removed from
    ALLOWED_REDIRECT_HOSTS, or an item edited by hand, cannot turn a share link into an open redirect.
    """
    stored = item.get("landing_url")
    if isinstance(stored, str) and stored and is_allowed_landing(stored, allowed_hosts=allowed_hosts,
                                                                 own_host=own_host):
        return stored
    return landing_url


def resolve(repo: LinkRepository, visit: Visit, *, pepper: str, landing_url: str, click_ttl_days: int,
            allowed_hosts: Iterable[str], own_host: str) -> RedirectDecision:
    code = normalise_code(visit.code)
    if not CODE_PATTERN.match(code):
        return RedirectDecision(status=404)
    item = repo.get_code(code)
    now_iso = iso()
    if item is None or not is_live(item, now_iso):
        return RedirectDecision(status=404)

    visitor = visitor_hash(pepper, visit.source_ip, visit.user_agent)
    click_id = click_id_for(pepper, code, visitor)
    src = "qr" if visit.src == "qr" else "link"
    placement = known_placement(visit.placement) or str(item.get("placement") or "")
    counted = False
    if visit.method == "GET" and not is_bot(visit.user_agent):
        now_epoch = epoch()
        counted = repo.record_click({
            "click_id": click_id, "code": code, "referrer_id": item["referrer_id"], "src": src,
            "placement": placement, "visitor_hash": visitor, "clicked_at": now_iso,
            "clicked_epoch": now_epoch, "expiration": now_epoch + click_ttl_days * 86400,
        }, dedup_before_epoch=now_epoch - DEDUP_SECONDS)
    target = destination(item, landing_url=landing_url, allowed_hosts=allowed_hosts, own_host=own_host)
    location = with_query(target, {"ref": code, "cid": click_id})
    return RedirectDecision(status=302, location=location, click_id=click_id, counted=counted)
