"""Referrer portal: magic-link sign-in (/auth/*), the signed-in API (/me/*) and the dashboard page.

No API Gateway authorizer: the session is a token this function signs and checks (services.auth_links).
Every route needs a session except the ones in ``PUBLIC_ROUTES`` (deny by default). The routes live in
``portal_*.py`` modules, each loaded by the first request it serves.
"""

from referral_core.init_phase import init_complete

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths
from portal_context import signing_key

from referral_core import deps
from referral_core.dal.referrers import ReferrerRepository
from referral_core.http import LazyRouters, create_resolver
from referral_core.observability import logger, tracer
from referral_core.security_headers import secured
from referral_core.services import auth_links

PUBLIC_ROUTES = frozenset({
    "POST /auth/magic-link", "POST /auth/session", "POST /auth/session/preview", "GET /dashboard",
    "GET /me/notifications/opt-out", "POST /me/notifications/opt-out",
})

app = create_resolver()


def require_session(app_: Any, next_middleware: NextMiddleware) -> Response[Any]:
    """Deny by default: every route outside ``PUBLIC_ROUTES`` needs a valid, unrevoked bearer session of an
    active referrer; what it answers is personal, so never cached unless the route says otherwise."""
    event = app_.current_event
    if event.route_key in PUBLIC_ROUTES:
        return next_middleware(app_)
    claims = auth_links.session_claims(event.headers.get("authorization"), signing_key=signing_key())
    # The profile on every request (one GetItem): a suspended or erased referrer, or a revoked session,
    # is refused here, before any route runs (image routes included).
    referrer = auth_links.signed_in_referrer(ReferrerRepository(deps.table()), claims.referrer_id,
                                             generation=claims.generation)
    app_.append_context(referrer_id=claims.referrer_id, referrer=referrer, session_issued_at=claims.issued_at)
    response = next_middleware(app_)
    response.headers.setdefault("Cache-Control", "no-store")
    return response


app.use(middlewares=[require_session])

# The route modules, by their first path segments, each loaded by the first request it serves: a cold
# container answering a sign-in does not load the dashboard's models, refer-a-job's lead capture or the QR
# library.
routers = LazyRouters(app, prefix="/", modules={
    "auth": "portal_auth",
    "me": "portal_me", "me/preferences": "portal_me",
    "me/share-codes": "portal_share_codes",
    "me/referrals": "portal_referrals",
    "me/withdrawals": "portal_withdrawals",
    "me/statements": "portal_statements",
    "me/payout-method": "portal_payout",
    "me/notifications": "portal_pages", "dashboard": "portal_pages",
})


@secured
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    routers.load_for(event)
    return app.resolve(event, context)


init_complete()
