"""GET|HEAD /r/{code} -> 302 to the landing page (Quick Help) with ``ref`` and ``cid``.

Deliberately not an APIGatewayHttpResolver, and no Powertools at all: this is the hottest, most
latency-sensitive route, so the wiring is a few lines over the raw HTTP API event. Logs go through the
standard library to the Lambda runtime, which writes them as JSON with the request id (the template's
LoggingConfig); importing Powertools here cost more cold start than all of this function's own code
(bench/RESULTS.md). The API access log already records every request, so a redirect logs at DEBUG.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete

import dataclasses
import logging
from functools import cache
from typing import Any
from urllib.parse import urlsplit

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.links import LinkRepository
from referral_core.dal.secrets import pepper
from referral_core.errors import Unavailable
from referral_core.http_errors import error_payload
from referral_core.origin import request_origin
from referral_core.security_headers import secured
from referral_core.services.redirect import CodeCache, Visit, resolve

logger = logging.getLogger("link_redirect")

_COMMON_HEADERS = {
    "Cache-Control": "private, no-store",
    "X-Robots-Tag": "noindex, nofollow",
    "Referrer-Policy": "strict-origin-when-cross-origin",
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class RedirectSettings(BaseSettings):
    landing_url: str
    click_ttl_days: int
    allowed_redirect_hosts: tuple[str, ...]
    code_cache_seconds: int


@cache
def settings() -> RedirectSettings:
    return read_settings(RedirectSettings)


@cache
def links() -> LinkRepository:
    return LinkRepository(Table(settings().table_name))


@cache
def code_cache() -> CodeCache:
    """Share codes this container looked up lately (a warm redirect reads none)."""
    return CodeCache(settings().code_cache_seconds)


@secured
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    config, repo, codes = settings(), links(), code_cache()
    http = event["requestContext"]["http"]
    query = event.get("queryStringParameters") or {}
    origin = request_origin(event, config.public_base_url)
    landing = config.landing_url or f"{origin}/quick-help"
    visit = Visit(
        code=(event.get("pathParameters") or {}).get("code", ""),
        method=http["method"],
        source_ip=http.get("sourceIp", ""),
        user_agent=http.get("userAgent", ""),
        src=query.get("src"),
        placement=query.get("p"),
    )
    try:
        decision = resolve(repo, visit, codes=codes, pepper=pepper(config.pepper_param),
                           landing_url=landing, click_ttl_days=config.click_ttl_days,
                           allowed_hosts=config.allowed_redirect_hosts, own_host=urlsplit(origin).netloc)
    except Unavailable as exc:  # the code could not be read: a clean 503 the browser may retry
        return error_payload(exc)
    logger.debug("redirect %s counted=%s", decision.status, decision.counted)
    if decision.status == 302:
        return {"statusCode": 302, "headers": {**_COMMON_HEADERS, "Location": decision.location}, "body": ""}
    from referral_core.pages import content_security_policy, not_found_page  # only 404s render HTML

    return {
        "statusCode": 404,
        "headers": {**_COMMON_HEADERS, "Content-Type": "text/html; charset=utf-8",
                    "Content-Security-Policy": content_security_policy()},
        "body": "" if visit.method == "HEAD" else not_found_page(landing),
    }


init_complete()
