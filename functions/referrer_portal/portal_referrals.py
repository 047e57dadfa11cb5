"""The signed-in referrer's referrals: pass on a friend's job (refer-a-job), list them, and one in detail.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import referrer_id, settings, signed_in

from referral_core import deps
from referral_core.dal.leads import LeadRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.http import json_answer, json_response
from referral_core.models.leads import LeadCreated, ReferAJobRequest
from referral_core.models.portal import ReferralsPage, ReferralView
from referral_core.observability import tracer
from referral_core.services import portal
from referral_core.services.leads import CaptureRules, Requester, submit_refer_a_job

router = APIGatewayHttpRouter()


@router.post("/me/referrals", responses={201: json_answer(LeadCreated, "Referral passed on"),
                                         429: {"description": "Too many requests; retry after Retry-After"}})
@tracer.capture_method
def post_referral(body: ReferAJobRequest) -> Response[str]:
    created = submit_refer_a_job(signed_in(router), body, LeadRepository(deps.table()),
                                 CaptureRules.of(settings(), pepper=deps.pepper()),
                                 Requester(source_ip=router.current_event.request_context.http.source_ip,
                                           channel="portal"))
    return json_response(201, created.model_dump(mode="json"))


@router.get("/me/referrals")
@tracer.capture_method
def get_referrals(cursor: Annotated[str | None, Query()] = None) -> ReferralsPage:
    signed_in(router)
    return portal.referrals_page(ReferralRepository(deps.table()), referrer_id(router), cursor=cursor)


@router.get("/me/referrals/<referral_id>")
@tracer.capture_method
def get_referral(referral_id: str) -> ReferralView:
    signed_in(router)
    return portal.referral_detail(ReferralRepository(deps.table()), referrer_id(router), referral_id)
