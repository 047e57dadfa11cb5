"""Staff dispute routes: list by status, open, resolve with an outcome and a note."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from staff_context import current_actor

from referral_core import deps
from referral_core.dal.disputes import DisputeRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.http import json_answer, json_response
from referral_core.models.review import (
    Dispute,
    DisputesPage,
    DisputeStatus,
    OpenDisputeRequest,
    ResolveDisputeRequest,
)
from referral_core.services import disputes

router = Router()


@router.get("/admin/disputes", responses={200: json_answer(DisputesPage, "Disputes with that status, newest first")})
def get_disputes(
    status: Annotated[DisputeStatus, Query()] = DisputeStatus.OPEN,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response[str]:
    page = disputes.list_disputes(DisputeRepository(deps.table()), status=status, limit=limit, cursor=cursor)
    return json_response(200, page.model_dump(mode="json", exclude_unset=True))


@router.post("/admin/disputes", responses={201: json_answer(Dispute, "Dispute recorded"),
                                           404: {"description": "No such referral or referrer"}})
def post_dispute(body: OpenDisputeRequest) -> Response[str]:
    table = deps.table()
    dispute = disputes.open_dispute(DisputeRepository(table), ReferralRepository(table),
                                    ReferrerRepository(table), body, actor=current_actor(router))
    return json_response(201, dispute.model_dump(mode="json", exclude_unset=True))


@router.post("/admin/disputes/<dispute_id>/resolve", responses={200: json_answer(Dispute, "Dispute resolved"),
                                                                409: {"description": "Already resolved"}})
def post_resolution(dispute_id: Annotated[str, Path(min_length=1, max_length=64)],
                    body: ResolveDisputeRequest) -> Response[str]:
    resolved = disputes.resolve_dispute(DisputeRepository(deps.table()), dispute_id, body,
                                        actor=current_actor(router))
    return json_response(200, resolved.model_dump(mode="json", exclude_unset=True))
