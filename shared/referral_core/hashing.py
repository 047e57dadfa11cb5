"""Peppered hashes for matching people without storing or indexing their raw contact details."""

from __future__ import annotations

import hashlib
import hmac

_GMAIL = {"gmail.com", "googlemail.com"}


def normalise_email(email: str) -> str:
    """For matching only: lower-case, drop a ``+tag``, drop dots in Gmail local parts."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


def peppered_hash(pepper: str, kind: str, value: str) -> str:
    """HMAC-SHA256(pepper, "kind:value") as 32 hex chars: stable, irreversible without the pepper."""
    digest = hmac.new(pepper.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def email_hash(pepper: str, email: str) -> str:
    return peppered_hash(pepper, "email", normalise_email(email))
