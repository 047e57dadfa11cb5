"""HTML pages: the dashboard, and the stage-email opt-out (confirm, then stop) reached from an email link.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import HTML_PAGE, html, signing_key

from referral_core import deps
from referral_core.dal.referrers import ReferrerRepository
from referral_core.http import json_response
from referral_core.models.portal import NotificationsOptedOut
from referral_core.observability import tracer
from referral_core.pages.portal import dashboard_page, opt_out_confirm_page, opted_out_page
from referral_core.services import auth_links

router = APIGatewayHttpRouter()


@router.get("/dashboard", responses={200: HTML_PAGE})
def get_dashboard() -> Response[str]:
    return html(200, dashboard_page())


@router.get("/me/notifications/opt-out", responses={200: HTML_PAGE})
def get_opt_out(token: Annotated[str, Query(min_length=16, max_length=1024)]) -> Response[str]:
    return html(200, opt_out_confirm_page(token))


@router.post("/me/notifications/opt-out", responses={200: {
    "description": "Stage emails stopped: an HTML page, or JSON with `Accept: application/json`",
    "content": {**HTML_PAGE["content"], "application/json": {"model": NotificationsOptedOut}}}})
@tracer.capture_method
def post_opt_out(token: Annotated[str, Query(min_length=16, max_length=1024)]) -> Response[str]:
    auth_links.opt_out(ReferrerRepository(deps.table()), token, signing_key=signing_key())
    if "application/json" in (router.current_event.headers.get("accept") or ""):
        return json_response(200, NotificationsOptedOut().model_dump())
    return html(200, opted_out_page())
