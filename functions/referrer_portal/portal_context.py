"""What every portal route module shares: the function's settings, the session's referrer (put in the
routing context by referrer_portal's ``require_session`` middleware), and the page and rule helpers."""

import dataclasses
from functools import cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.event_handler import Response

from referral_core.config import LeadCaptureSettings, read_settings
from referral_core.dal.secrets import secret_string
from referral_core.origin import request_origin

if TYPE_CHECKING:
    from referral_core.dal.mail import Email

#: With the pages' own CSP (the dashboard script's hash, portal_csp); the other security headers are added to
#: every answer of the function (referral_core.security_headers).
HTML_HEADERS = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex, nofollow"}
HTML_PAGE = {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PortalSettings(LeadCaptureSettings):
    session_secret_arn: str
    signin_window_seconds: int
    signin_max_per_email: int
    signin_max_per_ip: int
    signin_response_floor_ms: int
    allowed_redirect_hosts: tuple[str, ...] = ()
    referrer_landing_urls: tuple[str, ...] = ()  # landing pages a referrer may pick for a code (else Quick Help)
    payout_key_arn: str  # the KMS key that encrypts payout details (this function may only encrypt)
    payout_fresh_signin_minutes: int  # changing payout details needs a sign-in at most this old
    # Applications to become a referrer (POST /applications)
    apply_window_seconds: int
    apply_max_per_ip: int
    apply_max_per_email: int


@cache
def settings() -> PortalSettings:
    return read_settings(PortalSettings)


def signing_key() -> str:
    return secret_string(settings().session_secret_arn)


def referrer_id(resolver: Any) -> str:
    """The signed-in referrer (``resolver``: the app or a Router)."""
    return str(resolver.context["referrer_id"])


def session_issued_at(resolver: Any) -> int:
    """When the session was signed in (``iat``, epoch seconds; 0 for a session without one)."""
    return int(resolver.context.get("session_issued_at") or 0)


def actor(resolver: Any) -> str:
    return f"referrer:{referrer_id(resolver)}"


def origin(resolver: Any) -> str:
    return request_origin(resolver.current_event.raw_event, settings().public_base_url)


def signed_in(resolver: Any) -> dict[str, Any]:
    """The session's referrer profile, read and checked (active, session not revoked) by referrer_portal's
    ``require_session`` middleware before any signed-in route runs."""
    referrer: dict[str, Any] = resolver.context["referrer"]
    return referrer


def html(status: int, body: str, csp: str | None = None) -> Response[str]:
    """An HTML page with the portal pages' CSP, or ``csp`` (a page with its own script)."""
    from referral_core.pages.portal import portal_csp  # the page routes only

    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body,
                    headers={**HTML_HEADERS, "Content-Security-Policy": csp or portal_csp()})


def send(email: "Email") -> str:
    """Send a referrer an email (referral_core.referrer_mail), loaded by the first route that sends one: the
    routes that only read (most of /me) do not load the mail settings and branding."""
    from referral_core import referrer_mail

    return referrer_mail.send(email)

