"""Staff endpoint (/admin/*). API Gateway's JWT authorizer admits Cognito users; the handler checks the
caller's role for the route (``referral_core.auth.authorize``: viewer reads, staff changes, admin the
programme rules and privacy erasure) and the middleware puts the identity in the router context for the
audit trail.
"""


from referral_core.init_phase import init_complete

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from aws_lambda_powertools.logging import correlation_paths

from referral_core.auth import authorize, staff_from_event
from referral_core.errors import Forbidden, Unauthorized
from referral_core.http import LazyRouters, create_resolver
from referral_core.http_errors import error_payload
from referral_core.observability import logger, tracer
from referral_core.security_headers import secured

app = create_resolver()


def require_staff(app_: Any, next_middleware: NextMiddleware) -> Response[Any]:
    app_.append_context(staff=staff_from_event(app_.current_event.raw_event))
    return next_middleware(app_)


app.use(middlewares=[require_staff])

# The route modules, by the path segment after /admin/, each loaded by the first request it serves: a cold
# container answering the review queue does not load the CSV exports, the privacy tools or the QR library.
routers = LazyRouters(app, prefix="/admin/", modules={
    "reviews": "admin_reviews", "referrals": "admin_reviews",
    "disputes": "admin_disputes",
    "reports": "admin_reports",
    "people": "admin_privacy",
    "referrers": "admin_referrers",
    "referrers/*/share-codes": "admin_share_codes", "referrers/*/statements": "admin_statements",
    "share-codes": "admin_share_codes",
    "program": "admin_program",
    "withdrawals": "admin_withdrawals",
    "payout-batches": "admin_payout_batches",
    "exports": "admin_exports",
    "staff": "admin_staff",
    "webhooks": "admin_webhooks",
    "branding": "admin_branding",
    "applications": "admin_applications",
})


@secured
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    # Who is calling, and whether their role may call this route, is settled before anything reads the
    # request: Powertools validates the body before route middlewares run, and a caller without the role
    # must get 401/403, never a 422.
    try:
        authorize(event)
    except (Unauthorized, Forbidden) as exc:
        return error_payload(exc)
    routers.load_for(event)
    return app.resolve(event, context)


init_complete()
