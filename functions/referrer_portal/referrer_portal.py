"""Referrer portal: magic-link sign-in (/auth/*), the signed-in API (/me/*) and the dashboard page.

No API Gateway authorizer: the session is a token this function signs and checks (services.auth_links).
Every route needs a session except the ones in ``PUBLIC_ROUTES`` (deny by default).

No ``from __future__ import annotations`` here: Powertools reads the route signatures at run time.
"""

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import dataclasses
import re
from functools import cache
from typing import Annotated, Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.logging import correlation_paths

from referral_core import api
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.leads import LeadRepository
from referral_core.dal.links import LinkRepository
from referral_core.dal.mail import Email, send_email
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.rewards import RewardRepos
from referral_core.dal.secrets import secret_string
from referral_core.dal.sessions import SessionRepository
from referral_core.http import create_resolver, json_answer, json_response
from referral_core.models.leads import LeadCreated, ReferAJobRequest
from referral_core.models.portal import (
    MagicLinkAccepted,
    MagicLinkRequest,
    Me,
    NotificationsOptedOut,
    ReferralsPage,
    ReferralView,
    SessionRequest,
    SessionResponse,
)
from referral_core.models.rewards import Withdrawal, WithdrawalRequest
from referral_core.models.share_codes import CreateShareCodeRequest, ShareCodeView
from referral_core.observability import logger, tracer
from referral_core.origin import request_origin
from referral_core.pages.portal import (
    CONTENT_SECURITY_POLICY,
    dashboard_page,
    opt_out_confirm_page,
    opted_out_page,
)
from referral_core.placements import Placement
from referral_core.services import auth_links, portal, qr
from referral_core.services.leads import CaptureRules, Requester, submit_refer_a_job
from referral_core.services.share_codes import create_share_code
from referral_core.services.withdrawals import request_withdrawal

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
    allowed_redirect_hosts: tuple[str, ...] = ()
    default_phone_region: str
    postcode_pattern: str
    rate_window_seconds: int
    max_leads_per_ip: int
    max_leads_per_code: int


@cache
def settings() -> PortalSettings:
    return read_settings(PortalSettings)


def signing_key() -> str:
    return secret_string(settings().session_secret_arn)


app = create_resolver(title="Referrer portal")


def require_session(app_: Any, next_middleware: NextMiddleware) -> Response[Any]:
    """Deny by default: every route outside ``PUBLIC_ROUTES`` needs a valid bearer session; what it
    answers is personal, so never cached unless the route says otherwise."""
    event = app_.current_event
    if event.route_key in PUBLIC_ROUTES:
        return next_middleware(app_)
    referrer_id = auth_links.session_referrer_id(event.headers.get("authorization"), signing_key=signing_key())
    app_.append_context(referrer_id=referrer_id)
    response = next_middleware(app_)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


app.use(middlewares=[require_session])


def referrer_id() -> str:
    return str(app.context["referrer_id"])


def origin() -> str:
    return request_origin(app.current_event.raw_event, settings().public_base_url)


def html(status: int, body: str) -> Response[str]:
    return Response(status_code=status, content_type="text/html; charset=utf-8", body=body, headers=HTML_HEADERS)


def _send(email: Email) -> str:
    return send_email(settings().sender_email, email)


def actor() -> str:
    return f"referrer:{referrer_id()}"


def signed_in() -> dict[str, Any]:
    """The session's referrer profile (401 once the account is no longer active)."""
    return portal.signed_in_referrer(ReferrerRepository(api.table()), referrer_id())


def capture_rules() -> CaptureRules:
    s = settings()
    return CaptureRules(pepper=api.pepper(), phone_region=s.default_phone_region,
                        postcode_pattern=re.compile(s.postcode_pattern), rate_window_seconds=s.rate_window_seconds,
                        max_leads_per_ip=s.max_leads_per_ip, max_leads_per_code=s.max_leads_per_code)


# -- sign-in --------------------------------------------------------------------------------------
@app.post("/auth/magic-link",
          responses={202: json_answer(MagicLinkAccepted, "Accepted, whether or not the email is known"),
                     429: {"description": "Too many sign-in requests; retry after Retry-After"}})
@tracer.capture_method
def post_magic_link(body: MagicLinkRequest) -> Response[str]:
    s = settings()
    limits = auth_links.SignInLimits(window_seconds=s.signin_window_seconds, max_per_email=s.signin_max_per_email,
                                     max_per_ip=s.signin_max_per_ip,
                                     response_floor_seconds=s.signin_response_floor_ms / 1000)
    auth_links.request_magic_link(SessionRepository(api.table()), body.email, pepper=api.pepper(),
                                  source_ip=app.current_event.request_context.http.source_ip, origin=origin(),
                                  limits=limits, send=_send)
    return json_response(202, MagicLinkAccepted().model_dump(mode="json"))


@app.post("/auth/session")
@tracer.capture_method
def post_session(body: SessionRequest) -> SessionResponse:
    session = auth_links.open_session(SessionRepository(api.table()), ReferrerRepository(api.table()), body.token,
                                      signing_key=signing_key())
    return SessionResponse(session_token=session.session_token, expires_at=session.expires_at)


# -- signed in ------------------------------------------------------------------------------------
@app.get("/me")
@tracer.capture_method
def get_me() -> Me:
    table = api.table()
    return portal.dashboard(signed_in(), links=LinkRepository(table), referrals=ReferralRepository(table),
                            rewards=RewardRepos.on(table), origin=origin(), currency=settings().currency)


@app.post("/me/share-codes", responses={201: json_answer(ShareCodeView, "Code created"),
                                        409: {"description": "That code is taken"}})
@tracer.capture_method
def post_share_code(body: CreateShareCodeRequest) -> Response[str]:
    signed_in()
    view = create_share_code(LinkRepository(api.table()), referrer_id(), body, origin=origin(), actor=actor(),
                             allowed_hosts=settings().allowed_redirect_hosts, qr_prefix=portal.QR_PREFIX)
    return json_response(201, view.model_dump(mode="json"))


Size = Annotated[int, Query(ge=qr.BOX_SIZE[0], le=qr.BOX_SIZE[1], description="Pixels per module")]
Border = Annotated[int, Query(ge=qr.BORDER[0], le=qr.BORDER[1], description="Quiet zone, in modules")]
QR_HEADERS = {"Cache-Control": "private, max-age=86400"}


def _qr_target(code: str, placement: Placement | None) -> str:
    return portal.my_qr_target(LinkRepository(api.table()), referrer_id(), code,
                               placement=placement.value if placement else None, origin=origin())


# No return annotations on the image routes: Powertools would validate the body against it as UTF-8 text.
@app.get("/me/share-codes/<code>/qr.png")
@tracer.capture_method
def get_qr_png(code: str, size: Size = qr.BOX_SIZE[2], border: Border = qr.BORDER[2],
               placement: Annotated[Placement | None, Query()] = None):
    png = qr.qr_png(_qr_target(code, placement), box_size=size, border=border)
    return Response(status_code=200, content_type="image/png", body=png, headers=QR_HEADERS)


@app.get("/me/share-codes/<code>/qr.svg")
@tracer.capture_method
def get_qr_svg(code: str, size: Size = qr.BOX_SIZE[2], border: Border = qr.BORDER[2],
               placement: Annotated[Placement | None, Query()] = None):
    svg = qr.qr_svg(_qr_target(code, placement), box_size=size, border=border)
    return Response(status_code=200, content_type="image/svg+xml", body=svg, headers=QR_HEADERS)


@app.post("/me/referrals", responses={201: json_answer(LeadCreated, "Referral passed on"),
                                      429: {"description": "Too many requests; retry after Retry-After"}})
@tracer.capture_method
def post_referral(body: ReferAJobRequest) -> Response[str]:
    created = submit_refer_a_job(signed_in(), body, LeadRepository(api.table()), capture_rules(),
                                 Requester(source_ip=app.current_event.request_context.http.source_ip,
                                           channel="portal"))
    return json_response(201, created.model_dump(mode="json"))


@app.post("/me/withdrawals", responses={201: json_answer(Withdrawal, "Withdrawal requested"),
                                        409: {"description": "More than the available balance"}})
@tracer.capture_method
def post_withdrawal(body: WithdrawalRequest) -> Response[str]:
    signed_in()
    withdrawal = request_withdrawal(RewardRepos.on(api.table()), referrer_id(), body.amount_cents,
                                    currency=settings().currency)
    return json_response(201, withdrawal.model_dump(mode="json"))


@app.get("/me/referrals")
@tracer.capture_method
def get_referrals(cursor: Annotated[str | None, Query(max_length=512)] = None) -> ReferralsPage:
    signed_in()
    return portal.referrals_page(ReferralRepository(api.table()), referrer_id(), cursor=cursor)


@app.get("/me/referrals/<referral_id>")
@tracer.capture_method
def get_referral(referral_id: str) -> ReferralView:
    signed_in()
    return portal.referral_detail(ReferralRepository(api.table()), referrer_id(), referral_id)


# -- pages ----------------------------------------------------------------------------------------
HTML_PAGE = {"description": "HTML page", "content": {"text/html": {"schema": {"type": "string"}}}}


@app.get("/dashboard", responses={200: HTML_PAGE})
def get_dashboard() -> Response[str]:
    return html(200, dashboard_page())


@app.get("/me/notifications/opt-out", responses={200: HTML_PAGE})
def get_opt_out(token: Annotated[str, Query(min_length=16, max_length=1024)]) -> Response[str]:
    return html(200, opt_out_confirm_page(token))


@app.post("/me/notifications/opt-out", responses={200: {
    "description": "Stage emails stopped: an HTML page, or JSON with `Accept: application/json`",
    "content": {**HTML_PAGE["content"], "application/json": {"model": NotificationsOptedOut}}}})
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


init_complete()
