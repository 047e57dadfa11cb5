"""Staff routes for referrers: creating one (``POST /admin/referrers``), the directory (list and search), one
referrer's page, manual ledger adjustments, their type (``PATCH``) and their status (suspend and reactivate).
Their share codes (``/admin/referrers/{id}/share-codes``) are in admin_share_codes.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path, Query
from staff_context import current_actor, settings

from referral_core import deps
from referral_core.dal.ledger import LedgerRepository
from referral_core.dal.links import LinkRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.sessions import SessionRepository
from referral_core.dal.withdrawals import WithdrawalRepository
from referral_core.http import json_answer, json_response
from referral_core.models.referrers import (
    AdjustmentRequest,
    AdjustmentResponse,
    CreateReferrerRequest,
    CreateReferrerResponse,
    ReferrerDetail,
    ReferrerDirectoryPage,
    ReferrerStatusRequest,
    ReferrerStatusView,
    ReferrerTypeView,
    UpdateReferrerRequest,
)
from referral_core.observability import tracer
from referral_core.origin import request_origin
from referral_core.services import referrer_directory
from referral_core.services.referrers import create_referrer, reactivate_referrer, set_referrer_type, suspend_referrer

router = Router()

_STATUS_ERRORS = {404: {"description": "No such referrer"},
                  409: {"description": "The referrer was erased, or their status changed meanwhile"}}


@router.get("/admin/referrers", responses={
    200: json_answer(ReferrerDirectoryPage, "Referrers by name; with `q`, those matching it")})
@tracer.capture_method
def get_referrers(
    q: Annotated[str | None, Query(max_length=254, description="email, share code, referrer id or the start "
                                                                "of a name")] = None,
    cursor: Annotated[str | None, Query()] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 25,
) -> Response[str]:
    table = deps.table()
    page = referrer_directory.directory(ReferrerRepository(table), SessionRepository(table), LinkRepository(table),
                                        q=q, cursor=cursor, limit=limit, pepper=deps.pepper())
    return json_response(200, page.model_dump(mode="json"))


@router.post("/admin/referrers", responses={
    201: {"description": "Referrer created", "content": {"application/json": {"model": CreateReferrerResponse}}},
    409: {"description": "A referrer with this email already exists"},
})
@tracer.capture_method
def post_referrer(body: CreateReferrerRequest) -> Response[str]:
    created: CreateReferrerResponse = create_referrer(
        ReferrerRepository(deps.table()), body, pepper=deps.pepper(),
        origin=request_origin(router.current_event.raw_event, settings().public_base_url),
        phone_region=settings().default_phone_region, actor=current_actor(router),
    )
    return json_response(201, created.model_dump())


@router.get("/admin/referrers/<referrer_id>", responses={
    200: json_answer(ReferrerDetail, "The referrer, balance, ledger, codes, recent referrals and withdrawals")})
@tracer.capture_method
def get_referrer(referrer_id: Annotated[str, Path(min_length=1, max_length=64)]) -> Response[str]:
    table = deps.table()
    found = referrer_directory.detail(ReferrerRepository(table), LinkRepository(table), ReferralRepository(table),
                                      LedgerRepository(table), WithdrawalRepository(table), referrer_id)
    return json_response(200, found.model_dump(mode="json"))


@router.patch("/admin/referrers/<referrer_id>", responses={
    200: json_answer(ReferrerTypeView, "The referrer's type: their next reward follows its rules"),
    404: {"description": "No such referrer"},
    409: {"description": "The referrer was erased, or their type changed meanwhile"}})
@tracer.capture_method
def patch_referrer(referrer_id: Annotated[str, Path(min_length=1, max_length=64)],
                   body: UpdateReferrerRequest) -> Response[str]:
    view = set_referrer_type(ReferrerRepository(deps.table()), referrer_id, body, actor=current_actor(router))
    return json_response(200, view.model_dump(mode="json"))


@router.post("/admin/referrers/<referrer_id>/adjustments", responses={
    201: json_answer(AdjustmentResponse, "Posted to the ledger: the available balance after it"),
    409: {"description": "A correction larger than the available balance (fields.amount_cents)"}})
@tracer.capture_method
def post_adjustment(referrer_id: Annotated[str, Path(min_length=1, max_length=64)],
                    body: AdjustmentRequest) -> Response[str]:
    posted = referrer_directory.adjust(LedgerRepository(deps.table()), referrer_id, body, actor=current_actor(router))
    return json_response(201, posted.model_dump(mode="json"))


@router.post("/admin/referrers/<referrer_id>/suspend", responses={
    200: json_answer(ReferrerStatusView, "Suspended: sessions revoked, codes no longer credit them"),
    **_STATUS_ERRORS})
@tracer.capture_method
def post_suspend(referrer_id: str, body: ReferrerStatusRequest) -> Response[str]:
    view = suspend_referrer(ReferrerRepository(deps.table()), referrer_id, note=body.note,
                            actor=current_actor(router))
    return json_response(200, view.model_dump(mode="json"))


@router.post("/admin/referrers/<referrer_id>/reactivate", responses={
    200: json_answer(ReferrerStatusView, "Active again: their codes credit them again"), **_STATUS_ERRORS})
@tracer.capture_method
def post_reactivate(referrer_id: str, body: ReferrerStatusRequest) -> Response[str]:
    view = reactivate_referrer(ReferrerRepository(deps.table()), referrer_id, note=body.note,
                               actor=current_actor(router))
    return json_response(200, view.model_dump(mode="json"))
