"""Staff review routes: the queue, a referral's evidence chain, decisions and attribution fixes."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from staff_context import current_actor

from referral_core import api
from referral_core.dal.review import ReviewRepository
from referral_core.dal.rewards import RewardRepos
from referral_core.http import json_response
from referral_core.models.review import AttributionRequest, DecisionRequest
from referral_core.services import review
from referral_core.services.rewards import on_staff_accept
from referral_core.stages import FlagType, ReviewStatus, Severity

router = Router()

LeadId = Annotated[str, Path(min_length=1, max_length=64)]


def _repo() -> ReviewRepository:
    return ReviewRepository(api.table())



def _credit_if_eligible(lead_id: str) -> None:
    """After an accept: credit the reward now if the job already qualifies (once; safe to repeat)."""
    on_staff_accept(RewardRepos.on(api.table()), lead_id)


@router.get("/admin/reviews")
def get_reviews(
    status: Annotated[ReviewStatus, Query()] = ReviewStatus.OPEN,
    flag_type: Annotated[FlagType | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    cursor: Annotated[str | None, Query(max_length=2048)] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response[str]:
    page = review.review_queue(_repo(), status=status, flag_type=flag_type, severity=severity,
                               cursor=cursor, limit=limit)
    return json_response(200, page)


@router.get("/admin/referrals/<lead_id>")
def get_referral(lead_id: LeadId) -> Response[str]:
    return json_response(200, review.referral_evidence(_repo(), lead_id))


@router.post("/admin/referrals/<lead_id>/decisions", responses={200: {"description": "Decision recorded"},
                                                          409: {"description": "expected_version is stale"}})
def post_decision(lead_id: LeadId, body: DecisionRequest) -> Response[str]:
    result = review.decide(_repo(), lead_id, body, actor=current_actor(router),
                           on_accept=_credit_if_eligible)
    return json_response(200, result.model_dump())


@router.post("/admin/referrals/<lead_id>/attribution", responses={200: {"description": "Attribution recorded"},
                                                            409: {"description": "expected_version is stale"}})
def post_attribution(lead_id: LeadId, body: AttributionRequest) -> Response[str]:
    result = review.attribute(_repo(), lead_id, body, actor=current_actor(router))
    return json_response(200, result.model_dump())

