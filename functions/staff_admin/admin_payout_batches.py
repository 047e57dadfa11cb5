"""Staff routes for payout batches (staff role): create one from requested withdrawals, list and read them,
download the ABA (Cemtex) bank file or the CSV with the full payout details (each download audited like a
reveal), and mark the whole batch paid with the bank's reference.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from staff_context import current_actor, settings

from referral_core import deps
from referral_core.dal.payout_batches import PayoutBatchRepository
from referral_core.dal.payout_methods import PayoutMethodRepository, PayoutVault
from referral_core.dal.rewards import RewardRepos
from referral_core.http import json_answer, json_response
from referral_core.models.payout_batches import (
    CreatePayoutBatchRequest,
    PayoutBatch,
    PayoutBatchPage,
    PayoutBatchPaidRequest,
)
from referral_core.observability import logger
from referral_core.services.payout_batches import (
    BatchFile,
    batch_aba,
    batch_csv,
    create_batch,
    get_batch,
    list_batches,
    mark_batch_paid,
)

router = APIGatewayHttpRouter()


def _repos() -> RewardRepos:
    return RewardRepos.on(deps.table(), currency=settings().currency)


def _file(out: BatchFile, content_type: str) -> Response[str]:
    return Response(status_code=200, content_type=content_type, body=out.body,
                    headers={"Content-Disposition": f'attachment; filename="{out.filename}"',
                             "Cache-Control": "no-store"})


@router.post("/admin/payout-batches", responses={
    201: json_answer(PayoutBatch, "The batch, open (payout methods masked)"),
    409: {"description": "A withdrawal is already in a batch, or changed meanwhile (the field names it)"}})
def post_payout_batch(body: CreatePayoutBatchRequest) -> Response[str]:
    batch = create_batch(_repos(), PayoutBatchRepository(deps.table()), body, actor=current_actor(router))
    return json_response(201, batch.model_dump(mode="json"))


@router.get("/admin/payout-batches", responses={200: json_answer(PayoutBatchPage, "Payout batches, newest first")})
def get_payout_batches(cursor: Annotated[str | None, Query()] = None,
                       limit: Annotated[int, Query(ge=1, le=100)] = 20) -> Response[str]:
    page = list_batches(PayoutBatchRepository(deps.table()), cursor=cursor, limit=limit)
    return json_response(200, page.model_dump(mode="json"))


@router.get("/admin/payout-batches/<batch_id>", responses={
    200: json_answer(PayoutBatch, "The batch (payout methods masked)"), 404: {"description": "No such batch"}})
def get_payout_batch(batch_id: str) -> Response[str]:
    return json_response(200, get_batch(PayoutBatchRepository(deps.table()), batch_id).model_dump(mode="json"))


@router.get("/admin/payout-batches/<batch_id>/file.aba", responses={
    200: {"description": "The ABA (Cemtex) direct-entry file (text/plain, 120-character records, CR LF); "
                         "audited like a reveal", "content": {"text/plain": {"schema": {"type": "string"}}}},
    404: {"description": "No such batch"},
    409: {"description": "The batch is paid, or the programme's bank file settings (payout_file) are not set"}})
def get_payout_batch_aba(batch_id: str) -> Response[str]:
    table = deps.table()
    out = batch_aba(_repos(), PayoutBatchRepository(table), PayoutMethodRepository(table),
                    PayoutVault(settings().payout_key_arn), batch_id, actor=current_actor(router))
    logger.info("payout batch file downloaded", extra={"batch_id": batch_id, "format": "aba"})
    return _file(out, "text/plain; charset=us-ascii")


@router.get("/admin/payout-batches/<batch_id>/file.csv", responses={
    200: {"description": "CSV (text/csv) of the batch's payments with the full payout details; audited like "
                         "a reveal", "content": {"text/csv": {"schema": {"type": "string"}}}},
    404: {"description": "No such batch"}, 409: {"description": "The batch is paid"}})
def get_payout_batch_csv(batch_id: str) -> Response[str]:
    table = deps.table()
    out = batch_csv(_repos(), PayoutBatchRepository(table), PayoutMethodRepository(table),
                    PayoutVault(settings().payout_key_arn), batch_id, actor=current_actor(router))
    logger.info("payout batch file downloaded", extra={"batch_id": batch_id, "format": "csv"})
    return _file(out, "text/csv; charset=utf-8")


@router.post("/admin/payout-batches/<batch_id>/paid", responses={
    200: json_answer(PayoutBatch, "The batch, paid: every withdrawal in it recorded as paid"),
    404: {"description": "No such batch"},
    409: {"description": "A withdrawal in it was put on hold or rejected since, or the batch was paid with "
                         "another reference"}})
def post_payout_batch_paid(batch_id: str, body: PayoutBatchPaidRequest) -> Response[str]:
    paid = mark_batch_paid(_repos(), PayoutBatchRepository(deps.table()), batch_id, body,
                           actor=current_actor(router))
    return json_response(200, paid.model_dump(mode="json"))
