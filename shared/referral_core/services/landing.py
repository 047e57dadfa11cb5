"""Where a share code may send people: its landing URL, checked on write and again on every redirect.

Rules (docs/links.md): https only (http only for 127.0.0.1/localhost), the host (with its port when not the
default) must be the API's own host or listed in ``ALLOWED_REDIRECT_HOSTS``, and nothing that browsers and
Python parse differently: no userinfo (``@``), backslashes, percent-encoding or non-ASCII in the authority,
no control characters or spaces, no protocol-relative ``//host``, and no credential-like parameter in the
query or fragment (``token``, ``session``, ``code_verifier``...: a share link must never carry a sign-in,
or it signs its visitors into someone else's account). Lean (no pydantic): the redirect uses it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlsplit

MAX_URL_LENGTH = 2048
LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost"})
_DEFAULT_PORTS = {"https": 443, "http": 80}
_AUTHORITY = re.compile(r"^[a-z0-9.-]+(:[0-9]{1,5})?$")
_FORBIDDEN = re.compile(r"[\x00-\x20\x7f\\]")
#: Parameter names that carry credentials: exact names, and any name containing one of the words.
CREDENTIAL_PARAMS = frozenset({"code", "key", "sig", "signature", "state", "nonce", "otp", "pin", "ticket",
                               "sid", "jwt", "assertion", "saml", "samlresponse"})
_CREDENTIAL_WORDS = re.compile(r"token|session|verifier|secret|passw|auth|apikey|credential|magic|login")


def _authority(host: str, port: int | None, scheme: str) -> str:
    return host if port in (None, _DEFAULT_PORTS[scheme]) else f"{host}:{port}"


def normalise_host(value: str) -> str:
    """``Host:port`` of an allow-list entry or origin, lower-case, with a default port dropped."""
    parts = urlsplit(value if "//" in value else f"https://{value}")
    return _authority((parts.hostname or "").lower(), parts.port, parts.scheme or "https")


def is_credential_param(name: str) -> bool:
    """Whether a query/fragment parameter name looks like it carries a credential (case, ``-``/``_`` and
    percent-encoding do not matter: names are compared decoded and folded)."""
    folded = re.sub(r"[^a-z0-9]", "", name.casefold())
    return folded in CREDENTIAL_PARAMS or bool(_CREDENTIAL_WORDS.search(folded))


def credential_params(url: str) -> list[str]:
    """The credential-like parameter names in ``url``'s query and fragment."""
    parts = urlsplit(url)
    names = [n for section in (parts.query, parts.fragment)
             for n, _ in parse_qsl(section, keep_blank_values=True)]
    return [n for n in names if is_credential_param(n)]


def landing_problem(url: str, *, allowed_hosts: Iterable[str], own_host: str) -> str | None:
    """Why ``url`` may not be a landing page (a short reason for the API), or None when it may."""
    if len(url) > MAX_URL_LENGTH:
        return f"must be at most {MAX_URL_LENGTH} characters"
    if _FORBIDDEN.search(url):
        return "must not contain spaces, control characters or backslashes"
    lowered = url.lower()
    if not lowered.startswith(("https://", "http://")):
        return "must be an absolute https:// URL"
    parts = urlsplit(url)
    netloc = parts.netloc.lower()
    if "@" in netloc:
        return "must not contain credentials (@)"
    if not _AUTHORITY.match(netloc):
        return "has an invalid host"
    try:
        port = parts.port
    except ValueError:
        return "has an invalid port"
    host = parts.hostname or ""
    scheme = parts.scheme.lower()
    if scheme == "http" and host not in LOOPBACK_HOSTS:
        return "must use https"
    allowed = {normalise_host(h) for h in allowed_hosts if h} | {normalise_host(own_host)}
    if _authority(host, port, scheme) not in allowed:
        return "host is not in the allowed redirect hosts"
    if credential_params(url):
        return "must not carry credential-like parameters (token, session, code_verifier...)"
    return None


def is_allowed_landing(url: str, *, allowed_hosts: Iterable[str], own_host: str) -> bool:
    return landing_problem(url, allowed_hosts=allowed_hosts, own_host=own_host) is None
