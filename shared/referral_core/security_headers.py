"""The one place that sets the security headers of every HTTP answer.

Every function behind the HTTP API wraps its handler in :func:`secured` (raw handlers and Powertools
resolvers alike: both return an API Gateway proxy result), so each answer of any kind (HTML, JSON, PNG,
SVG, CSV, redirects and errors) carries:

- ``Strict-Transport-Security`` (two years, subdomains: the API is only served over HTTPS);
- ``X-Content-Type-Options: nosniff``, ``X-Frame-Options: DENY``;
- ``Referrer-Policy: no-referrer`` unless the answer chose its own (the redirect does);
- a ``Content-Security-Policy``: an answer's own policy (a page's, with its script hashes) is kept and
  completed with the default directives it lacks, so ``frame-ancestors 'none'`` is always there; an answer
  without one (JSON, images, CSV) gets ``default-src 'none'; frame-ancestors 'none'``.

API Gateway's own answers (the JWT authorizer's 401, 404 for a route that does not exist) never reach a
function and carry none of these: HTTP APIs cannot add response headers (docs/api.md).

No imports beyond the standard library: the redirect loads this on its cold path.
"""

from __future__ import annotations

from collections.abc import Callable, MutableMapping
from functools import wraps
from typing import Any, TypeVar

DEFAULT_CSP = "default-src 'none'; frame-ancestors 'none'"
HEADERS = {
    "Strict-Transport-Security": "max-age=63072000; includeSubDomains",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
}
CSP = "Content-Security-Policy"

F = TypeVar("F", bound=Callable[..., Any])


def merge_csp(own: str | None) -> str:
    """``own`` policy with the default directives it does not set added (``DEFAULT_CSP`` when absent)."""
    if not own or not own.strip():
        return DEFAULT_CSP
    directives = [part.strip() for part in own.split(";") if part.strip()]
    present = {part.split()[0].lower() for part in directives}
    for default in DEFAULT_CSP.split("; "):
        if default.split()[0] not in present:
            directives.append(default)
    return "; ".join(directives)


def secure(result: Any) -> Any:
    """``result`` (an API Gateway proxy result) with the security headers; other values pass unchanged."""
    if not (isinstance(result, dict) and "statusCode" in result):
        return result
    headers: MutableMapping[str, Any] = dict(result.get("headers") or {})  # a copy: never a shared dict
    result["headers"] = headers
    by_name = {name.lower(): name for name in headers}
    for name, value in HEADERS.items():
        if name.lower() not in by_name:
            headers[name] = value
    own = by_name.get(CSP.lower())
    headers[own or CSP] = merge_csp(headers.get(own) if own else None)
    return result


def secured(handler: F) -> F:
    """A Lambda handler whose every answer goes through :func:`secure`."""

    @wraps(handler)
    def wrapper(event: Any, context: Any) -> Any:
        return secure(handler(event, context))

    return wrapper  # type: ignore[return-value]
