"""The signed-in referrer's payout method: set it (a fresh sign-in, then an email saying it changed) and read
it back, masked. The details are encrypted before they are stored (services.payout_methods).

No ``from __future__ import annotations``: Powertools reads the route signatures at run time.
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import referrer_id, send, session_issued_at, settings, signed_in

from referral_core import deps
from referral_core.dal.payout_methods import PayoutMethodRepository, PayoutVault
from referral_core.http import json_answer, json_response
from referral_core.models.payouts import PayoutMethodRequest, PayoutMethodView
from referral_core.observability import logger, tracer
from referral_core.services import payout_methods

router = APIGatewayHttpRouter()


@router.get("/me/payout-method", responses={200: json_answer(PayoutMethodView, "The payout method on file, masked"),
                                            404: {"description": "No payout method on file yet"}})
@tracer.capture_method
def get_payout_method() -> Response[str]:
    signed_in(router)
    view = payout_methods.payout_method(PayoutMethodRepository(deps.table()), referrer_id(router))
    return json_response(200, view.model_dump(mode="json"))


@router.put("/me/payout-method", responses={
    200: json_answer(PayoutMethodView, "Saved (encrypted); the referrer is emailed that it changed"),
    403: {"description": "fresh_sign_in_required: the session is older than the fresh sign-in window"}})
@tracer.capture_method
def put_payout_method(body: PayoutMethodRequest) -> Response[str]:
    view = payout_methods.set_payout_method(
        PayoutMethodRepository(deps.table()), PayoutVault(settings().payout_key_arn), signed_in(router), body,
        session_issued_at=session_issued_at(router), fresh_minutes=settings().payout_fresh_signin_minutes,
        send=send)
    logger.info("payout method changed", extra={"referrer_id": referrer_id(router), "payout_type": view.type})
    return json_response(200, view.model_dump(mode="json"))
