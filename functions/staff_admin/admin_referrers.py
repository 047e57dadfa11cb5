"""Staff routes for referrers' status: suspend and reactivate (the staff console's list and detail of
referrers belong here too). Creating a referrer (``POST /admin/referrers``) is on the resolver itself.

No ``from __future__ import annotations`` here: Powertools reads the route signatures at run time.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from staff_context import current_actor

from referral_core import api
from referral_core.dal.referrers import ReferrerRepository
from referral_core.http import json_answer, json_response
from referral_core.models.referrers import ReferrerStatusRequest, ReferrerStatusView
from referral_core.observability import tracer
from referral_core.services.referrers import reactivate_referrer, suspend_referrer

router = Router()

_ERRORS = {404: {"description": "No such referrer"},
           409: {"description": "The referrer was erased, or their status changed meanwhile"}}


@router.post("/admin/referrers/<referrer_id>/suspend", responses={
    200: json_answer(ReferrerStatusView, "Suspended: sessions revoked, codes no longer credit them"), **_ERRORS})
@tracer.capture_method
def post_suspend(referrer_id: str, body: ReferrerStatusRequest) -> Response[str]:
    view = suspend_referrer(ReferrerRepository(api.table()), referrer_id, note=body.note,
                            actor=current_actor(router))
    return json_response(200, view.model_dump(mode="json"))


@router.post("/admin/referrers/<referrer_id>/reactivate", responses={
    200: json_answer(ReferrerStatusView, "Active again: their codes credit them again"), **_ERRORS})
@tracer.capture_method
def post_reactivate(referrer_id: str, body: ReferrerStatusRequest) -> Response[str]:
    view = reactivate_referrer(ReferrerRepository(api.table()), referrer_id, note=body.note,
                               actor=current_actor(router))
    return json_response(200, view.model_dump(mode="json"))
