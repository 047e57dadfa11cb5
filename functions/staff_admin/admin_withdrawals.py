"""Staff routes for manual payouts: list withdrawals by status (payout methods masked), reveal one's payout
details at pay time (audited), record a payout, reject.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from staff_context import current_actor, settings

from referral_core import deps
from referral_core.dal.payout_methods import PayoutMethodRepository, PayoutVault
from referral_core.dal.rewards import RewardRepos
from referral_core.dal.withdrawals import WithdrawalStatus
from referral_core.http import json_answer, json_response
from referral_core.models.payouts import RevealedPayoutDetails
from referral_core.models.rewards import MarkPaidRequest, RejectRequest, StaffWithdrawal, WithdrawalPage
from referral_core.observability import logger
from referral_core.services.payout_methods import reveal_payout_details
from referral_core.services.withdrawals import list_withdrawals, mark_withdrawal_paid, reject_withdrawal

router = APIGatewayHttpRouter()


def _repos() -> RewardRepos:
    return RewardRepos.on(deps.table(), currency=settings().currency)


@router.get("/admin/withdrawals", responses={200: json_answer(WithdrawalPage, "Withdrawals, newest first")})
def get_withdrawals(status: Annotated[WithdrawalStatus, Query()] = WithdrawalStatus.REQUESTED,
                    cursor: Annotated[str | None, Query()] = None,
                    limit: Annotated[int, Query(ge=1, le=100)] = 50) -> Response[str]:
    page = list_withdrawals(_repos(), status, cursor=cursor, limit=limit)
    return json_response(200, page.model_dump(mode="json"))


@router.post("/admin/withdrawals/<withdrawal_id>/paid",
             responses={200: json_answer(StaffWithdrawal, "The withdrawal, now paid"),
                        409: {"description": "Already decided, or on hold (a clawback reached it) without "
                                             "override_hold"}})
def post_paid(withdrawal_id: str, body: MarkPaidRequest) -> Response[str]:
    paid = mark_withdrawal_paid(_repos(), withdrawal_id, body, actor=current_actor(router))
    return json_response(200, paid.model_dump(mode="json"))


@router.post("/admin/withdrawals/<withdrawal_id>/rejected",
             responses={200: json_answer(StaffWithdrawal, "The withdrawal, now rejected (its amount is available "
                                                          "again, less any clawback still outstanding)"),
                        409: {"description": "Already decided"}})
def post_rejected(withdrawal_id: str, body: RejectRequest) -> Response[str]:
    rejected = reject_withdrawal(_repos(), withdrawal_id, body, actor=current_actor(router))
    return json_response(200, rejected.model_dump(mode="json"))


@router.post("/admin/withdrawals/<withdrawal_id>/payout-details/reveal", responses={
    200: json_answer(RevealedPayoutDetails, "The full payout details the withdrawal was requested with (audited)"),
    404: {"description": "No such withdrawal, or it was requested with no payout method on file"},
    409: {"description": "Already paid or rejected: the details are shown only while it is open"}})
def post_reveal_payout_details(withdrawal_id: str) -> Response[str]:
    table = deps.table()
    revealed = reveal_payout_details(_repos().withdrawals, PayoutMethodRepository(table),
                                     PayoutVault(settings().payout_key_arn), withdrawal_id,
                                     actor=current_actor(router))
    logger.info("payout details revealed", extra={"withdrawal_id": withdrawal_id, "actor": revealed.revealed_by})
    return json_response(200, revealed.model_dump(mode="json"))
