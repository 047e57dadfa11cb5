"""Referrer portal: magic-link sign-in (/auth/*), the signed-in API (/me/*) and the dashboard page.

No API Gateway authorizer: the session is a token this function signs and checks (services.auth_links).
Every route needs a session except the ones in ``PUBLIC_ROUTES`` (deny by default).

No ``from __future__ import annotations`` here: Powertools reads the route signatures at run time.
"""

import dataclasses
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from referral_core import api
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.mail import Email, send_email
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.secrets import secret_string
from referral_core.dal.sessions import SessionRepository
from referral_core.http import create_resolver, json_response
from referral_core.models.portal import (
    MagicLinkAccepted,
    MagicLinkRequest,
    NotificationsOptedOut,
    ReferralsPage,
    ReferralView,
    SessionRequest,
    SessionResponse,
)
from referral_core.observability import logger, tracer
from referral_core.origin import request_origin
from referral_core.pages.portal import (
    CONTENT_SECURITY_POLICY,
    dashboard_page,
    opt_out_confirm_page,
    opted_out_page,
)
from referral_core.services import auth_links, portal

PUBLIC_ROUTES = frozenset({
    "POST /auth/magic-link", "POST /auth/session", "GET /dashboard",
    "GET /me/notifications/opt-out", "POST /me/notifications/opt-out",
})
HTML_HEADERS = {
    "Cache-Control": "no-store", "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff",
    "X-Robots-Tag": "noindex, nofollow", "Content-Security-Policy": CONTENT_SECURITY_POLICY,
}


@dataclasses.dataclass(frozen=True, kw_only=True)
class PortalSettings(BaseSettings):
    sender_email: str
    session_secret_arn: str
    signin_window_seconds: int
    signin_max_per_email: int
    signin_max_per_ip: int
    signin_response_floor_ms: int


@cache
def settings() -> PortalSettings:
    return read_settings(PortalSettings)


def signing_key() -> str:
    return secret_string(settings().session_secret_arn)


app = create_resolver(title="Referrer portal")


def require_session(app_: Any, next_middleware: NextMiddleware) -> Response[Any]:
    """Deny by default: every route outside ``PUBLIC_ROUTES`` needs a valid bearer session."""
    event = app_.current_event
    if event.route_key not in PUBLIC_ROUTES:
        referrer_id = auth_links.session_referrer_id(event.headers.get("authorization"), signing_key=signing_key())
        app_.append_context(referrer_id=referrer_id)
    return next_middleware(app_)


app.use(middlewares=[require_session])


def referrer_id() -> str:
    return str(app.context["referrer_id"])


def origin() -> str:
    return request_origin(app.current_event.raw_event, settings().public_base_url)


def html(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=HTML_HEADERS)


def _send(email: Email) -> str:
    return send_email(settings().sender_email, email)


# -- sign-in --------------------------------------------------------------------------------------
@app.post("/auth/magic-link", responses={202: {"description": "Accepted, whether or not the email is known"}})
@tracer.capture_method
def post_magic_link(body: MagicLinkRequest) -> Response[str]:
    s = settings()
    limits = auth_links.SignInLimits(window_seconds=s.signin_window_seconds, max_per_email=s.signin_max_per_email,
                                     max_per_ip=s.signin_max_per_ip,
                                     response_floor_seconds=s.signin_response_floor_ms / 1000)
    auth_links.request_magic_link(SessionRepository(api.table()), body.email, pepper=api.pepper(),
                                  source_ip=app.current_event.request_context.http.source_ip, origin=origin(),
                                  limits=limits, send=_send)
    return json_response(202, MagicLinkAccepted().model_dump())


@app.post("/auth/session")
@tracer.capture_method
def post_session(body: SessionRequest) -> SessionResponse:
    session = auth_links.open_session(SessionRepository(api.table()), ReferrerRepository(api.table()), body.token,
                                      signing_key=signing_key())
    return SessionResponse(session_token=session.session_token, expires_at=session.expires_at)


# -- signed in ------------------------------------------------------------------------------------
@app.get("/me")
@tracer.capture_method
def get_me() -> Response[str]:
    referrer = portal.signed_in_referrer(ReferrerRepository(api.table()), referrer_id())
    referrals = portal.referrals_page(ReferralRepository(api.table()), referrer_id())
    return json_response(200, {"referrer": portal.profile_view(referrer).model_dump(),
                               "referrals": referrals.model_dump()})


@app.get("/me/referrals")
@tracer.capture_method
def get_referrals(cursor: Annotated[str | None, Query(max_length=512)] = None) -> ReferralsPage:
    portal.signed_in_referrer(ReferrerRepository(api.table()), referrer_id())
    return portal.referrals_page(ReferralRepository(api.table()), referrer_id(), cursor=cursor)


@app.get("/me/referrals/<referral_id>")
@tracer.capture_method
def get_referral(referral_id: str) -> ReferralView:
    portal.signed_in_referrer(ReferrerRepository(api.table()), referrer_id())
    return portal.referral_detail(ReferralRepository(api.table()), referrer_id(), referral_id)


# -- pages ----------------------------------------------------------------------------------------
HTML_PAGE = {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}


@app.get("/dashboard", responses={200: HTML_PAGE})
def get_dashboard() -> Response[str]:
    return html(200, dashboard_page())


@app.get("/me/notifications/opt-out", responses={200: HTML_PAGE})
def get_opt_out(token: Annotated[str, Query(min_length=16, max_length=1024)]) -> Response[str]:
    return html(200, opt_out_confirm_page(token))


@app.post("/me/notifications/opt-out", responses={200: {**HTML_PAGE, "description": "Stage emails stopped"}})
@tracer.capture_method
def post_opt_out(token: Annotated[str, Query(min_length=16, max_length=1024)]) -> Response[str]:
    auth_links.opt_out(ReferrerRepository(api.table()), token, signing_key=signing_key())
    if "application/json" in (app.current_event.headers.get("accept") or ""):
        return json_response(200, NotificationsOptedOut().model_dump())
    return html(200, opted_out_page())


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return app.resolve(event, context)
