"""Staff review routes: the queue, a referral's evidence chain, decisions and attribution fixes."""

from datetime import date
from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from staff_context import current_actor

from referral_core import deps
from referral_core.dal.review import ReviewRepository
from referral_core.http import json_answer, json_response
from referral_core.models.review import (
    AttributionRequest,
    DecisionRequest,
    ReferralEvidence,
    ReviewQueueCounts,
    ReviewQueuePage,
    StaffChangeResponse,
)
from referral_core.services import review
from referral_core.stages import FlagType, ReviewStatus, Severity

router = Router()

LeadId = Annotated[str, Path(min_length=1, max_length=64)]


def _repo() -> ReviewRepository:
    return ReviewRepository(deps.table())



@router.get("/admin/reviews", responses={200: json_answer(ReviewQueuePage, "Referrals in that queue, newest first")})
def get_reviews(
    status: Annotated[ReviewStatus, Query()] = ReviewStatus.OPEN,
    flag_type: Annotated[FlagType | None, Query()] = None,
    severity: Annotated[Severity | None, Query()] = None,
    source: Annotated[str | None, Query(pattern=r"^[a-z_]{1,32}$", description="the referral's source: link, "
                                        "code, referral_form, referred_by, staff, none")] = None,
    updated_from: Annotated[date | None, Query(alias="from", description="first day (yyyy-mm-dd) of its last "
                                                                         "change, UTC")] = None,
    updated_to: Annotated[date | None, Query(alias="to", description="last day, included")] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response[str]:
    page = review.review_queue(_repo(), status=status, flag_type=flag_type, severity=severity, source=source,
                               updated_from=updated_from, updated_to=updated_to, cursor=cursor, limit=limit)
    return json_response(200, page.model_dump(mode="json", exclude_unset=True))


@router.get("/admin/reviews/counts",
            responses={200: json_answer(ReviewQueueCounts, "How many referrals each review status holds")})
def get_review_counts() -> Response[str]:
    return json_response(200, review.queue_counts(_repo()).model_dump(mode="json"))


@router.get("/admin/referrals/<lead_id>", responses={200: json_answer(ReferralEvidence, "The evidence chain")})
def get_referral(lead_id: LeadId) -> Response[str]:
    evidence = review.referral_evidence(_repo(), lead_id)
    return json_response(200, evidence.model_dump(mode="json", exclude_unset=True))


@router.post("/admin/referrals/<lead_id>/decisions",
             responses={200: json_answer(StaffChangeResponse, "Decision recorded: the referral now"),
                        409: {"description": "expected_version is stale"}})
def post_decision(lead_id: LeadId, body: DecisionRequest) -> Response[str]:
    result = review.decide(_repo(), lead_id, body, actor=current_actor(router))
    return json_response(200, result.model_dump(mode="json"))


@router.post("/admin/referrals/<lead_id>/attribution",
             responses={200: json_answer(StaffChangeResponse, "Attribution recorded: the referral now"),
                        409: {"description": "expected_version is stale"}})
def post_attribution(lead_id: LeadId, body: AttributionRequest) -> Response[str]:
    result = review.attribute(_repo(), lead_id, body, actor=current_actor(router))
    return json_response(200, result.model_dump(mode="json"))

