"""GET /r/{code}: decide where a visitor goes and whether the visit counts as a click.

Hot path: no pydantic, no heavy imports; at most one read (the code) and one write (the click).
"""

from __future__ import annotations

import hashlib
import hmac
import re
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from urllib.parse import urlencode, urlsplit, urlunsplit

from referral_core.clock import epoch, iso, parse_iso
from referral_core.dal.links import LinkRepository
from referral_core.errors import Unavailable
from referral_core.ids import normalise_code
from referral_core.placements import known_placement, share_channel
from referral_core.services.landing import is_allowed_landing

Item = dict[str, object]
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


class CodeCache:
    """Share codes this container read in the last ``ttl_seconds`` (0: always read).

    A viral code is one item: uncached, every click reads it (a hot read key, ~0.5 RCU per click on one
    partition) and pays a second SDK call. Cached, a warm container reads it once per TTL. The price: a
    disable or a max_uses reached is seen up to ``ttl_seconds`` late (expiry is checked on every request).
    Unknown codes are not cached, so a code created after a miss works at once.
    """

    def __init__(self, ttl_seconds: int, *, max_entries: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[str, tuple[float, Item]] = {}

    def clear(self) -> None:
        self._entries.clear()

    def get(self, code: str, load: Callable[[str], Item | None]) -> Item | None:
        now = self._clock()
        hit = self._entries.get(code)
        if hit is not None and hit[0] > now:
            return hit[1]
        item = load(code)
        if item is not None and self.ttl_seconds > 0:
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[code] = (now + self.ttl_seconds, item)
        return item


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


def is_live(item: Item, now_iso: str) -> bool:
    if item.get("status") != "active":
        return False
    expires = item.get("expires_at")
    if isinstance(expires, str) and parse_iso(expires) <= parse_iso(now_iso):
        return False
    max_uses = item.get("max_uses")
    return not (isinstance(max_uses, int) and int(item.get("uses", 0) or 0) >= max_uses)  # type: ignore[call-overload]


def referrer_active(item: Item) -> bool:
    """Whether the code's referrer may be credited: ``referrer_status`` is copied onto every code of a
    suspended or erased referrer (absent on codes of referrers never suspended)."""
    return item.get("referrer_status", "active") == "active"


def is_bot(user_agent: str) -> bool:
    """Crawlers, link-preview fetchers and clients that send no user agent at all."""
    from referral_core.services.bots import BOT_PATTERN

    return not user_agent.strip() or bool(BOT_PATTERN.search(user_agent))


def destination(item: Item, *, landing_url: str, allowed_hosts: Iterable[str],
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


def resolve(repo: LinkRepository, visit: Visit, *, codes: CodeCache, pepper: str, landing_url: str,
            click_ttl_days: int, allowed_hosts: Iterable[str], own_host: str) -> RedirectDecision:
    code = normalise_code(visit.code)
    if not CODE_PATTERN.match(code):
        return RedirectDecision(status=404)
    item = codes.get(code, repo.get_code)
    now_iso = iso()
    if item is None or not is_live(item, now_iso):
        return RedirectDecision(status=404)
    if not referrer_active(item):
        # A suspended or erased referrer's code: the visitor still gets help, but nobody is credited
        # (no ref, no cid, no click). The status is on the code item itself: still one read.
        return RedirectDecision(status=302, location=landing_url)

    visitor = visitor_hash(pepper, visit.source_ip, visit.user_agent)
    click_id = click_id_for(pepper, code, visitor)
    src = "qr" if visit.src == "qr" else "link"
    # A share button's link (src=sms, whatsapp, email, copy) is a link click placed where it was shared.
    placement = (share_channel(visit.src) or known_placement(visit.placement)
                 or str(item.get("placement") or ""))
    counted = False
    if visit.method == "GET" and not is_bot(visit.user_agent):
        now_epoch = epoch()
        try:
            counted = repo.record_click({
                "click_id": click_id, "code": code, "referrer_id": item["referrer_id"], "src": src,
                "placement": placement, "visitor_hash": visitor, "clicked_at": now_iso,
                "clicked_epoch": now_epoch, "expiration": now_epoch + click_ttl_days * 86400,
            }, dedup_before_epoch=now_epoch - DEDUP_SECONDS)
        except Unavailable:
            # The visitor still gets where they were going; only this click goes uncounted.
            counted = False
    target = destination(item, landing_url=landing_url, allowed_hosts=allowed_hosts, own_host=own_host)
    location = with_query(target, {"ref": code, "cid": click_id})
    return RedirectDecision(status=302, location=location, click_id=click_id, counted=counted)
