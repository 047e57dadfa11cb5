"""Peppered hashes for matching people without storing or indexing their raw contact details.

Two keys per email (docs/leads.md, "Exact and look-alike keys"): the exact key (:func:`normalise_email`,
``email_hash``: a referrer's identity, sign-in, attribution, unchanged since the first release) and the
look-alike key (:func:`email_match_key`, ``email_match_hash``: Unicode TS #39, for flags only).
"""

from __future__ import annotations

import hashlib
import hmac

from referral_core.contacts import match_key

_GMAIL = {"gmail.com", "googlemail.com"}
_GMAIL_KEYS = frozenset(match_key(domain) for domain in _GMAIL)  # ASCII: no confusables data loaded


def normalise_email(email: str) -> str:
    """The exact key: lower-case, drop a ``+tag``, drop dots in Gmail local parts."""
    local, _, domain = email.strip().lower().rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL:
        domain = "gmail.com"
        local = local.replace(".", "")
    return f"{local}@{domain}"


def email_match_key(email: str) -> str:
    """The look-alike key: :func:`referral_core.contacts.match_key`, then the exact key's rules
    (``+tag`` dropped, Gmail dots dropped, googlemail = gmail), so ``Jo.hn+x@googlemail.com`` written
    with a fullwidth J and a Cyrillic o shares the key of ``john@gmail.com``."""
    local, _, domain = match_key(email.strip()).rpartition("@")
    local = local.split("+", 1)[0]
    if domain in _GMAIL_KEYS:
        domain = match_key("gmail.com")
        local = local.replace(".", "")
    return f"{local}@{domain}"


def peppered_hash(pepper: str, kind: str, value: str) -> str:
    """HMAC-SHA256(pepper, "kind:value") as 32 hex chars: stable, irreversible without the pepper."""
    digest = hmac.new(pepper.encode(), f"{kind}:{value}".encode(), hashlib.sha256).hexdigest()
    return digest[:32]


def email_hash(pepper: str, email: str) -> str:
    """The exact email hash (``email_hash``)."""
    return peppered_hash(pepper, "email", normalise_email(email))


#: Look-alike hashes are of their own kind, so they never equal an exact hash: an exact lookup (sign-in,
#: attribution linking a job to a lead) can never find an entry that only looks alike.
LOOK_ALIKE = "-alike"


def email_match_hash(pepper: str, email: str) -> str:
    """The look-alike email hash (``email_match_hash``)."""
    return peppered_hash(pepper, "email" + LOOK_ALIKE, email_match_key(email))
