"""Staff routes for applications to become a referrer: the queue (verified applications, with their flags),
approve (the referrer is created), decline with a reason and ask for more information (both emailed).
Each decision is audited in the application's partition. The rules live in
``referral_core.services.applications``.

No ``from __future__ import annotations`` here: Powertools reads the route signatures at run time.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from staff_context import current_actor, settings

from referral_core import deps, referrer_mail
from referral_core.dal.applications import ApplicationRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.http import json_answer, json_response
from referral_core.models.applications import (
    ApplicationDecision,
    ApplicationQueue,
    ApproveRequest,
    DeclineRequest,
    RequestInfoRequest,
)
from referral_core.observability import tracer
from referral_core.origin import request_origin
from referral_core.services import applications

router = Router()

ApplicationId = Annotated[str, Path(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_-]+$")]
_DECISION_ERRORS = {404: {"description": "No such application"},
                    409: {"description": "Already decided, not verified yet, or (approve) waiting for a "
                                         "guardian's consent or a referrer with this email exists"}}


@router.get("/admin/applications", responses={
    200: json_answer(ApplicationQueue, "Verified applications to decide, oldest first, with their flags")})
@tracer.capture_method
def get_applications(cursor: Annotated[str | None, Query()] = None,
                     limit: Annotated[int, Query(ge=1, le=100)] = 25) -> Response[str]:
    page = applications.queue(ApplicationRepository(deps.table()), cursor=cursor, limit=limit)
    return json_response(200, page.model_dump(mode="json", exclude_unset=True))


@router.post("/admin/applications/<application_id>/approve", responses={
    200: json_answer(ApplicationDecision, "Approved: the referrer, their first code and link"), **_DECISION_ERRORS})
@tracer.capture_method
def post_approve(application_id: ApplicationId, body: ApproveRequest) -> Response[str]:
    table = deps.table()
    decided = applications.approve(
        ApplicationRepository(table), ReferrerRepository(table), application_id, note=body.note,
        pepper=deps.pepper(), origin=request_origin(router.current_event.raw_event, settings().public_base_url),
        phone_region=settings().default_phone_region, actor=current_actor(router))
    return json_response(200, decided.model_dump(mode="json", exclude_none=True))


@router.post("/admin/applications/<application_id>/decline", responses={
    200: json_answer(ApplicationDecision, "Declined: the reason is emailed"), **_DECISION_ERRORS})
@tracer.capture_method
def post_decline(application_id: ApplicationId, body: DeclineRequest) -> Response[str]:
    decided = applications.decline(ApplicationRepository(deps.table()), application_id, reason=body.reason,
                                   actor=current_actor(router), send=referrer_mail.send)
    return json_response(200, decided.model_dump(mode="json", exclude_none=True))


@router.post("/admin/applications/<application_id>/request-info", responses={
    200: json_answer(ApplicationDecision, "The question is emailed; the application stays in the queue"),
    **_DECISION_ERRORS})
@tracer.capture_method
def post_request_info(application_id: ApplicationId, body: RequestInfoRequest) -> Response[str]:
    decided = applications.request_info(ApplicationRepository(deps.table()), application_id, message=body.message,
                                        actor=current_actor(router), send=referrer_mail.send)
    return json_response(200, decided.model_dump(mode="json", exclude_none=True))
