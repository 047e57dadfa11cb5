"""The signed-in referrer asks to withdraw part of the available balance (staff pay it by hand, to the payout
method on file when it was asked for).
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import referrer_id, settings, signed_in

from referral_core import deps
from referral_core.dal.payout_methods import PayoutMethodRepository
from referral_core.dal.rewards import RewardRepos
from referral_core.http import json_answer, json_response
from referral_core.models.rewards import Withdrawal, WithdrawalRequest
from referral_core.observability import tracer
from referral_core.services.payout_methods import withdrawal_snapshot
from referral_core.services.withdrawals import request_withdrawal

router = APIGatewayHttpRouter()


@router.post("/me/withdrawals", responses={201: json_answer(Withdrawal, "Withdrawal requested"),
                                           409: {"description": "More than the available balance"}})
@tracer.capture_method
def post_withdrawal(body: WithdrawalRequest) -> Response[str]:
    signed_in(router)
    currency, table = settings().currency, deps.table()
    # The payout method on file now is the one this withdrawal is paid to (encrypted copy + masked form).
    payout = withdrawal_snapshot(PayoutMethodRepository(table), referrer_id(router))
    withdrawal = request_withdrawal(RewardRepos.on(table, currency=currency), referrer_id(router),
                                    body.amount_cents, currency=currency, payout=payout)
    return json_response(201, withdrawal.model_dump(mode="json"))
