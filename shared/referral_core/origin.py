"""The public origin (scheme://host) links are built from."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def request_origin(event: Mapping[str, Any], configured: str) -> str:
    """``PUBLIC_BASE_URL`` when set (custom domain), else the host the request came to."""
    if configured:
        return configured.rstrip("/")
    headers = event.get("headers") or {}
    host = (event.get("requestContext") or {}).get("domainName") or headers.get("host", "localhost")
    proto = "http" if headers.get("x-forwarded-proto") == "http" else "https"
    return f"{proto}://{host}"
