"""Referrer sign-in without passwords: one-time magic links by email, then a short-lived signed session.

- ``POST /auth/magic-link`` always answers the same (202) whether or not the email belongs to a referrer,
  after the same rate-limit writes and no sooner than a fixed floor, so neither the answer nor its
  timing tells anyone who is signed up.
- The link carries a random token; only its SHA-256 is stored, for 15 minutes, and it is consumed by one
  conditional write (``SessionRepository.consume_magic_link``).
- The session is an HS256 JWT (``sub`` = referrer id, ``aud`` = ``referrer``, ``exp`` 12 h, ``gen`` = the
  profile's ``session_generation``) signed with the key from Secrets Manager; the same key signs the
  opt-out links in notification emails. Suspension and erasure add one to ``session_generation``, which
  revokes every session issued before.
"""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import jwt

from referral_core.clock import epoch, iso, now
from referral_core.contacts import clean_email, mask_name
from referral_core.dal.mail import Email
from referral_core.dal.rates import Window
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.sessions import MagicLink, SessionRepository
from referral_core.errors import AccountSuspended, FreshSignInRequired, NotFound, RateLimited, Unauthorized
from referral_core.hashing import email_hash, peppered_hash
from referral_core.pages import esc

MAGIC_LINK_LIFETIME = timedelta(minutes=15)
SESSION_LIFETIME = timedelta(hours=12)
SESSION_AUDIENCE = "referrer"
OPT_OUT_AUDIENCE = "notifications-opt-out"
ALGORITHM = "HS256"


@dataclass(frozen=True, kw_only=True)
class SignInLimits:
    """Magic links per email and per client IP in one fixed window; the response-time floor."""

    window_seconds: int
    max_per_email: int
    max_per_ip: int
    response_floor_seconds: float


@dataclass(frozen=True)
class Session:
    session_token: str
    expires_at: str
    masked_name: str


@dataclass(frozen=True)
class SignInPreview:
    masked_name: str


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def magic_link_email(referrer: dict[str, Any], url: str) -> Email:
    name = str(referrer.get("name") or "there").split()[0]
    minutes = int(MAGIC_LINK_LIFETIME.total_seconds() // 60)
    text = (f"Hi {name},\n\nUse this link to sign in to your referral dashboard. It works once, for "
            f"{minutes} minutes:\n\n{url}\n\nIf you didn't ask to sign in, you can ignore this email: "
            "nobody can sign in without this link.\n")
    html_body = (f"<p>Hi {esc(name)},</p><p>Use this link to sign in to your referral dashboard. It works "
                 f"once, for {minutes} minutes:</p><p><a href=\"{esc(url)}\">Sign in to your dashboard</a></p>"
                 "<p>If you didn't ask to sign in, you can ignore this email: nobody can sign in without "
                 "this link.</p>")
    return Email(to=str(referrer["email"]), subject="Your sign-in link", text=text, html=html_body)


def _limit(repo: SessionRepository, scope: str, key: str, maximum: int, window_seconds: int) -> None:
    window = Window.current(scope, key, window_seconds)
    if repo.count_hit(window) > maximum:
        raise RateLimited("too many sign-in requests, please try again later",
                          retry_after=max(1, window.expires_epoch - epoch()))


def request_magic_link(repo: SessionRepository, email_address: str, *, pepper: str, source_ip: str, origin: str,
                       limits: SignInLimits, send: Callable[[Email], Any],
                       sleep: Callable[[float], None] = time.sleep) -> None:
    """Email a one-time sign-in link if ``email_address`` belongs to an active referrer; else do nothing.

    Raises only for a malformed address (422) or too many requests (429, counted per IP hash and per
    email hash before anything is looked up), never because the email is unknown.
    """
    started = time.monotonic()
    email = clean_email(email_address)
    hashed = email_hash(pepper, email)
    _limit(repo, "signin-ip", peppered_hash(pepper, "ip", source_ip), limits.max_per_ip, limits.window_seconds)
    _limit(repo, "signin-email", hashed, limits.max_per_email, limits.window_seconds)
    referrer = repo.referrer_by_email_hash(hashed)
    if referrer is not None and referrer.get("status") == "active":
        token = secrets.token_urlsafe(32)
        repo.save_magic_link(MagicLink(token_hash=token_hash(token), referrer_id=str(referrer["referrer_id"]),
                                       created_at=iso(), expires_epoch=epoch(now() + MAGIC_LINK_LIFETIME)))
        # In the fragment: browsers never send it, so the token stays out of server and proxy logs and
        # Referer headers (the dashboard still reads ``?token=`` links sent before this).
        send(magic_link_email(referrer, f"{origin.rstrip('/')}/dashboard#token={token}"))
    remaining = limits.response_floor_seconds - (time.monotonic() - started)
    if remaining > 0:
        sleep(remaining)


def _sign(claims: dict[str, Any], signing_key: str) -> str:
    return jwt.encode(claims, signing_key, algorithm=ALGORITHM)


def _verify(token: str, signing_key: str, audience: str, required: list[str]) -> dict[str, Any]:
    try:
        claims: dict[str, Any] = jwt.decode(token, signing_key, algorithms=[ALGORITHM], audience=audience,
                                            options={"require": required})
    except jwt.PyJWTError:
        raise Unauthorized("the token is invalid or has expired") from None
    return claims


INVALID_LINK = "this sign-in link is invalid, used or expired: ask for a new one"


def preview_sign_in(repo: SessionRepository, referrers: ReferrerRepository, token: str) -> SignInPreview:
    """Whom a magic-link token would sign in (masked name), without using it: the dashboard asks "Sign in
    as Jo S.?" before exchanging, so a link someone planted (a share link, an email) cannot silently sign
    a visitor into the planter's account. Used, expired, unknown or inactive -> 401, like the exchange."""
    referrer_id = repo.peek_magic_link(token_hash(token), now_epoch=epoch())
    referrer = referrers.get(referrer_id) if referrer_id else None
    if referrer is None or referrer.get("status") != "active":
        raise Unauthorized(INVALID_LINK)
    return SignInPreview(masked_name=mask_name(str(referrer.get("name") or "")))


def open_session(repo: SessionRepository, referrers: ReferrerRepository, token: str, *,
                 signing_key: str) -> Session:
    """Exchange a magic-link token (once) for a session token. Used, expired or unknown -> 401."""
    referrer_id = repo.consume_magic_link(token_hash(token), now_epoch=epoch(), at=iso())
    referrer = referrers.get(referrer_id) if referrer_id else None
    if referrer is None or referrer.get("status") != "active":
        raise Unauthorized(INVALID_LINK)
    issued = now()
    expires = issued + SESSION_LIFETIME
    session = _sign({"sub": referrer_id, "aud": SESSION_AUDIENCE, "iat": epoch(issued), "exp": epoch(expires),
                     "gen": int(referrer.get("session_generation") or 0)}, signing_key)
    return Session(session_token=session, expires_at=iso(expires),
                   masked_name=mask_name(str(referrer.get("name") or "")))


@dataclass(frozen=True)
class SessionClaims:
    referrer_id: str
    generation: int  # the profile's ``session_generation`` when it was issued (0 when absent)
    issued_at: int = 0  # ``iat``, epoch seconds (0 when absent): how fresh the sign-in is


def session_claims(authorization: str | None, *, signing_key: str) -> SessionClaims:
    """Who an ``Authorization: Bearer <session>`` header signs in, and in which session generation; 401 if
    absent, bad or expired."""
    scheme, _, value = (authorization or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not value.strip():
        raise Unauthorized("sign in first: this needs a bearer session token")
    claims = _verify(value.strip(), signing_key, SESSION_AUDIENCE, ["exp", "sub", "aud"])
    generation, issued = claims.get("gen"), claims.get("iat")
    return SessionClaims(referrer_id=str(claims["sub"]),
                         generation=generation if isinstance(generation, int) else 0,
                         issued_at=issued if isinstance(issued, int) else 0)


def require_fresh_sign_in(issued_at: int, *, max_age_minutes: int) -> None:
    """403 ``fresh_sign_in_required`` unless the session was signed in (from a magic link) in the last
    ``max_age_minutes``: a change a hijacker would want (payout details) needs the mailbox again, not only a
    session token copied off a shared computer hours ago."""
    if epoch() - issued_at > max_age_minutes * 60:
        raise FreshSignInRequired(f"sign in again from a new link to change this (your sign-in must be less "
                                  f"than {max_age_minutes} minutes old)",
                                  fields={"session": f"signed in more than {max_age_minutes} minutes ago"})


def session_referrer_id(authorization: str | None, *, signing_key: str) -> str:
    """The referrer id of an ``Authorization: Bearer <session>`` header; 401 if absent, bad or expired."""
    return session_claims(authorization, signing_key=signing_key).referrer_id


def opt_out_token(referrer_id: str, *, signing_key: str) -> str:
    """The token of a referrer's "stop these emails" link (valid until the signing key is rotated)."""
    return _sign({"sub": referrer_id, "aud": OPT_OUT_AUDIENCE, "iat": epoch()}, signing_key)


def opt_out(referrers: ReferrerRepository, token: str, *, signing_key: str) -> str:
    """Stop stage emails for the referrer named by an opt-out token; returns the referrer id."""
    referrer_id = str(_verify(token, signing_key, OPT_OUT_AUDIENCE, ["sub", "aud"])["sub"])
    if not referrers.set_notifications_opt_out(referrer_id, True, at=iso()):
        raise NotFound("no such referrer")
    return referrer_id


def signed_in_referrer(referrers: ReferrerRepository, referrer_id: str, *, generation: int | None = None
                       ) -> dict[str, Any]:
    """The session's referrer, while the account exists, is active and the session was not revoked.

    401 for a revoked session (issued in an earlier ``session_generation``: a suspension or erasure adds
    one, so every session before it ends, and stays ended after a reactivation), a missing, erased or
    disabled account; 403 ``account_suspended`` for a suspended account whose session was not revoked
    (issued while the suspension was being written).
    """
    referrer = referrers.get(referrer_id)
    if referrer is None:
        raise Unauthorized("this account is not active: please contact us")
    if generation is not None and generation < int(referrer.get("session_generation") or 0):
        raise Unauthorized("this session has ended: please sign in again")
    status = referrer.get("status")
    if status == "suspended":
        raise AccountSuspended("this account is suspended: please contact us")
    if status != "active":
        raise Unauthorized("this account is not active: please contact us")
    return referrer
