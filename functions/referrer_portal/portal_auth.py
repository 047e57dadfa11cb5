"""Magic-link sign-in: ask for a link by email, then trade its token for a session.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import origin, send, settings, signing_key

from referral_core import deps
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.sessions import SessionRepository
from referral_core.http import json_answer, json_response
from referral_core.models.portal import (
    MagicLinkAccepted,
    MagicLinkRequest,
    SessionRequest,
    SessionResponse,
    SignInPreview,
)
from referral_core.observability import tracer
from referral_core.services import auth_links

router = APIGatewayHttpRouter()


@router.post("/auth/magic-link",
             responses={202: json_answer(MagicLinkAccepted, "Accepted, whether or not the email is known"),
                        429: {"description": "Too many sign-in requests; retry after Retry-After"}})
@tracer.capture_method
def post_magic_link(body: MagicLinkRequest) -> Response[str]:
    s = settings()
    limits = auth_links.SignInLimits(window_seconds=s.signin_window_seconds, max_per_email=s.signin_max_per_email,
                                     max_per_ip=s.signin_max_per_ip,
                                     response_floor_seconds=s.signin_response_floor_ms / 1000)
    auth_links.request_magic_link(SessionRepository(deps.table()), body.email, pepper=deps.pepper(),
                                  source_ip=router.current_event.request_context.http.source_ip,
                                  origin=origin(router), limits=limits, send=send)
    return json_response(202, MagicLinkAccepted().model_dump(mode="json"))


@router.post("/auth/session")
@tracer.capture_method
def post_session(body: SessionRequest) -> SessionResponse:
    session = auth_links.open_session(SessionRepository(deps.table()), ReferrerRepository(deps.table()), body.token,
                                      signing_key=signing_key())
    return SessionResponse(session_token=session.session_token, expires_at=session.expires_at,
                           masked_name=session.masked_name)


@router.post("/auth/session/preview", responses={
    200: json_answer(SignInPreview, "Whom the link signs in; the link is not used"),
    401: {"description": "The link is invalid, used or expired"}})
@tracer.capture_method
def post_session_preview(body: SessionRequest) -> Response[str]:
    preview = auth_links.preview_sign_in(SessionRepository(deps.table()), ReferrerRepository(deps.table()),
                                         body.token)
    return json_response(200, SignInPreview(masked_name=preview.masked_name).model_dump(mode="json"))
