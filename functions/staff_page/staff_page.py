"""GET /admin and GET /admin/assets/{name}: the staff console, as files.

``static/`` holds the page (``index.html``), its stylesheet and its ES modules (no build step; eslint lints
them, ``make lint``). Nothing here reads the table: staff sign in from the page against the Cognito user pool
(its public API, with the endpoint and client id of ``config.json``) and the page then calls ``/admin/*``
with the ID token. The CSP allows scripts and styles from this origin only (no inline script), requests to
this origin and Cognito's endpoint, no framing, and Trusted Types with no policy (no HTML sinks at all).
"""

from __future__ import annotations

from referral_core.init_phase import init_complete

import dataclasses
import hashlib
import json
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from referral_core.config import read_settings
from referral_core.security_headers import secured

STATIC = Path(__file__).with_name("static")
TYPES = {".css": "text/css; charset=utf-8", ".js": "text/javascript; charset=utf-8",
         ".svg": "image/svg+xml"}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PageSettings:
    staff_auth_endpoint: str  # Cognito's public API (template: the region's endpoint; locally the proxy)
    staff_client_id: str
    staff_idle_minutes: int
    currency: str  # for amounts without their own (the template's Globals)


@dataclasses.dataclass(frozen=True)
class Asset:
    content_type: str
    body: str
    etag: str

    @classmethod
    def of(cls, content_type: str, body: str) -> Asset:
        return cls(content_type, body, '"' + hashlib.sha256(body.encode()).hexdigest()[:32] + '"')


def _files() -> dict[str, Asset]:
    return {path.name: Asset.of(TYPES[path.suffix], path.read_text(encoding="utf-8"))
            for path in sorted(STATIC.iterdir()) if path.suffix in TYPES}


ASSETS = _files()
PAGE = (STATIC / "index.html").read_text(encoding="utf-8")


@cache
def settings() -> PageSettings:
    return read_settings(PageSettings)


def auth_origin(endpoint: str) -> str:
    parts = urlsplit(endpoint)
    return f"{parts.scheme}://{parts.netloc}"


@cache
def config() -> Asset:
    s = settings()
    return Asset.of("application/json", json.dumps({
        "auth_endpoint": s.staff_auth_endpoint, "client_id": s.staff_client_id, "idle_minutes": s.staff_idle_minutes,
        "currency": s.currency,
    }))


@cache
def page_headers() -> dict[str, str]:
    csp = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
           f"connect-src 'self' {auth_origin(settings().staff_auth_endpoint)}; form-action 'none'; "
           "frame-ancestors 'none'; base-uri 'none'; require-trusted-types-for 'script'; trusted-types 'none'")
    return {"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-store",
            "Content-Security-Policy": csp, "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff"}


def _asset(event: dict[str, Any]) -> dict[str, Any]:
    name = str((event.get("pathParameters") or {}).get("name", ""))
    asset = config() if name == "config.json" else ASSETS.get(name)
    if asset is None:
        return {"statusCode": 404, "headers": {"Content-Type": "text/plain; charset=utf-8"}, "body": "Not found"}
    headers = {"Content-Type": asset.content_type, "Cache-Control": "no-cache", "ETag": asset.etag,
               "X-Content-Type-Options": "nosniff"}
    if (event.get("headers") or {}).get("if-none-match") == asset.etag:
        return {"statusCode": 304, "headers": headers, "body": ""}
    return {"statusCode": 200, "headers": headers, "body": asset.body}


@secured
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if (event.get("pathParameters") or {}).get("name") is not None:
        return _asset(event)
    return {"statusCode": 200, "headers": page_headers(), "body": PAGE}


init_complete()
