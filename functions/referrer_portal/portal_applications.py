"""Becoming a referrer: the page, the programme terms, applying and the emailed links (no session: these are
``PUBLIC_ROUTES``). The rules live in ``referral_core.services.applications``.

No ``from __future__ import annotations``: Powertools reads the route signatures at run time.
"""

import re
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Path
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import HTML_PAGE, html, origin, send, settings

from referral_core import deps
from referral_core.dal.applications import ApplicationRepository
from referral_core.dal.program import ProgramRepository
from referral_core.http import json_answer, json_response
from referral_core.models.applications import (
    ApplicationAccepted,
    ApplicationProgress,
    ApplicationRequest,
    GuardianConsentRequest,
    Terms,
    TokenRequest,
)
from referral_core.observability import logger, tracer
from referral_core.pages.applications import apply_csp, apply_page
from referral_core.policy import terms_document
from referral_core.services import applications
from referral_core.services.program import application_rules

router = APIGatewayHttpRouter()

ApplicationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_LINK_ERRORS = {401: {"description": "The link is invalid, used or expired"},
                404: {"description": "No such application"}}


@router.get("/become-a-referrer", responses={200: HTML_PAGE})
def get_apply_page() -> Response[str]:
    return html(200, apply_page(), csp=apply_csp())


@router.get("/applications/terms", responses={200: json_answer(Terms, "The programme terms in force")})
def get_terms() -> Response[str]:
    return json_response(200, Terms.model_validate(terms_document()).model_dump(mode="json"),
                         headers={"Cache-Control": "public, max-age=300"})


@router.post("/applications", responses={
    202: json_answer(ApplicationAccepted, "Accepted: the verification link is emailed"),
    409: {"description": "An application with this email exists (fields.email)"},
    429: {"description": "Too many applications from this address or for this email; retry after Retry-After"}})
@tracer.capture_method
def post_application(body: ApplicationRequest) -> Response[str]:
    s = settings()
    table = deps.table()
    rules = applications.ApplyRules(
        pepper=deps.pepper(), phone_region=s.default_phone_region, postcode_pattern=re.compile(s.postcode_pattern),
        window_seconds=s.apply_window_seconds, max_per_ip=s.apply_max_per_ip, max_per_email=s.apply_max_per_email,
        minimum_age=application_rules(ProgramRepository(table)).minimum_age)
    accepted = applications.apply(ApplicationRepository(table), body, rules,
                                  source_ip=router.current_event.request_context.http.source_ip,
                                  origin=origin(router), send=send)
    logger.info("application received", extra={"application_id": accepted.application_id})
    return json_response(202, accepted.model_dump(mode="json"))


@router.post("/applications/<application_id>/verification", responses={
    200: json_answer(ApplicationProgress, "Email confirmed: the application goes to staff"), **_LINK_ERRORS})
@tracer.capture_method
def post_verification(application_id: ApplicationId, body: TokenRequest) -> Response[str]:
    done = applications.verify_email(ApplicationRepository(deps.table()), application_id, body.token,
                                     pepper=deps.pepper(), origin=origin(router), send=send)
    return json_response(200, done.model_dump(mode="json"))


@router.post("/applications/<application_id>/guardian-consent", responses={
    200: json_answer(ApplicationProgress, "The guardian's consent is recorded"), **_LINK_ERRORS})
@tracer.capture_method
def post_guardian_consent(application_id: ApplicationId, body: GuardianConsentRequest) -> Response[str]:
    done = applications.guardian_consent(ApplicationRepository(deps.table()), application_id, body,
                                         pepper=deps.pepper())
    return json_response(200, done.model_dump(mode="json"))
