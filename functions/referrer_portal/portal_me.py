"""The signed-in referrer's dashboard data (profile, codes with their usage, referrals, money, withdrawals)
and their preferences.
"""

from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import origin, referrer_id, settings, signed_in

from referral_core import deps
from referral_core.dal.links import LinkRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.rewards import RewardRepos
from referral_core.models.portal import Me, Preferences
from referral_core.observability import tracer
from referral_core.services import portal

router = APIGatewayHttpRouter()


@router.get("/me")
@tracer.capture_method
def get_me() -> Me:
    table, currency = deps.table(), settings().currency
    return portal.dashboard(signed_in(router), links=LinkRepository(table), referrals=ReferralRepository(table),
                            rewards=RewardRepos.on(table, currency=currency), origin=origin(router),
                            currency=currency)


@router.put("/me/preferences")
@tracer.capture_method
def put_preferences(body: Preferences) -> Preferences:
    signed_in(router)
    return portal.set_preferences(ReferrerRepository(deps.table()), referrer_id(router), body)
