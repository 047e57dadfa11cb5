"""Quick Help: ``GET /quick-help`` (form), ``POST /leads`` (JSON or form post), ``GET /policy``.

Wiring only: settings, the Idempotency-Key (Powertools Idempotency on the single table) and HTML/JSON
rendering; the rules live in ``referral_core.services.leads``.

A raw handler, like the redirect and the job webhook (why: docs/quality.md, "What keeps cold starts
short"): API Gateway sends only these routes (``routeKey`` picks one), and each reads its own body (a form
or JSON, checked for size before parsing, ``referral_core.bodies``). Errors are the API's one error body
(``referral_core.http_errors``); a form post gets its form back instead.
"""

from referral_core.init_phase import init_complete

import base64
import dataclasses
from collections.abc import Callable
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)
from aws_lambda_powertools.utilities.idempotency.serialization.pydantic import PydanticSerializer

from referral_core import deps
from referral_core.bodies import Submission, read_submission, request_headers, validate
from referral_core.config import LeadCaptureSettings, read_settings
from referral_core.dal.branding import BrandingRepository
from referral_core.dal.idempotency import persistence_layer
from referral_core.dal.leads import LeadRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.errors import Conflict, InvalidInput, NotFound, Unavailable
from referral_core.http_errors import json_payload, raw_routes
from referral_core.models.leads import LeadCreated, LeadRequest, lead_fields_from_form
from referral_core.observability import logger, tracer
from referral_core.origin import request_origin
from referral_core.pages.leads import lead_received_page, policy_page, quick_help_csp, quick_help_page
from referral_core.policy import policy_document
from referral_core.security_headers import secured
from referral_core.services import branding
from referral_core.services.leads import CaptureRules, Requester, capture_lead, carried_params

#: With the pages' own CSP (quick_help_csp); the other security headers are added to every answer
#: (referral_core.security_headers).
HTML_HEADERS = {"Cache-Control": "no-store"}
HTML = "text/html; charset=utf-8"
IDEMPOTENCY_PARTITION = "idempotency#capture_lead"


@dataclasses.dataclass(frozen=True, kw_only=True)
class CaptureSettings(LeadCaptureSettings):
    max_body_bytes: int
    idempotency_ttl_seconds: int


@cache
def settings() -> CaptureSettings:
    return read_settings(CaptureSettings)


def rules() -> CaptureRules:
    return CaptureRules.of(settings(), pepper=deps.pepper())


@cache
def idempotency_config() -> IdempotencyConfig:
    # The key is the client's Idempotency-Key; the same key with a different body is refused (422).
    return IdempotencyConfig(event_key_jmespath="key", payload_validation_jmespath="request",
                             expires_after_seconds=settings().idempotency_ttl_seconds)


@cache
def idempotent_capture() -> Callable[..., LeadCreated]:
    # One static partition (``idempotency#capture_lead``) with the key hash as sort key: simple and
    # queryable, at the price of one partition's write limit (~1,000 writes/s), far above lead volume.
    store = persistence_layer(settings().table_name, partition=IDEMPOTENCY_PARTITION)

    @idempotent_function(data_keyword_argument="submission", persistence_store=store,
                         config=idempotency_config(), output_serializer=PydanticSerializer(LeadCreated))
    def capture(*, submission: dict[str, Any], requester: Requester) -> LeadCreated:
        request = LeadRequest.model_validate(submission["request"])
        return capture_lead(LeadRepository(deps.table()), request, rules(), requester)

    return capture


Event = dict[str, Any]  # API Gateway HTTP API (payload 2.0)
Answer = dict[str, Any]  # its proxy result


def html(status: int, body: str) -> Answer:
    return {"statusCode": status, "body": body,
            "headers": {"Content-Type": HTML, **HTML_HEADERS, "Content-Security-Policy": quick_help_csp()}}


def _quick_help(event: Event, ref: str | None, **form: Any) -> str:
    """The form with the business's branding, its link-preview tags and, when the referrer chose it, their
    first name and initial (services.quick_help)."""
    from referral_core.services.quick_help import landing

    table = deps.table()
    extras = landing(BrandingRepository(table), LeadRepository(table), ReferrerRepository(table), ref)
    return quick_help_page(ref=ref, brand=extras.brand, recommended_by=extras.recommended_by,
                           origin=request_origin(event, settings().public_base_url), **form)


def get_quick_help(event: Event) -> Answer:
    query = event.get("queryStringParameters") or {}
    ref, cid = carried_params(query.get("ref"), query.get("cid"))
    return html(200, _quick_help(event, ref, cid=cid))


def get_logo(event: Event) -> Answer:
    """The business's logo (``PUT /admin/branding``), or the default image: for the pages and link previews.
    Served with its own type, nosniff and the default CSP (``default-src 'none'``, every answer): an SVG
    opened from here runs nothing."""
    content_type, data = branding.logo(BrandingRepository(deps.table()))
    return {"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(data).decode(),
            "headers": {"Content-Type": content_type, "Cache-Control": "public, max-age=300"}}


@tracer.capture_method
def post_lead(event: Event) -> Answer:
    submission = read_submission(event, max_bytes=settings().max_body_bytes)
    try:
        return _capture(event, submission)
    except InvalidInput as exc:
        if not submission.is_form:
            raise
        # A form post gets the form back, filled in, with each problem by its field.
        ref, _ = carried_params(submission.data.get("ref"), None)
        return html(422, _quick_help(event, ref, values=submission.data,
                                     errors=exc.fields or {"body": exc.message}))


def _capture(event: Event, submission: Submission) -> Answer:
    data = lead_fields_from_form(submission.data) if submission.is_form else submission.data
    request = validate(LeadRequest, data)
    requester = Requester(source_ip=event["requestContext"]["http"].get("sourceIp", ""),
                          channel="form" if submission.is_form else "api")
    key = request_headers(event).get("idempotency-key")
    if key:
        try:
            created = idempotent_capture()(submission={"key": key, "request": request.model_dump(mode="json")},
                                           requester=requester)
        except IdempotencyValidationError:
            raise InvalidInput("this Idempotency-Key was used with a different body",
                               fields={"idempotency-key": "already used with a different body"}) from None
        except IdempotencyAlreadyInProgressError:
            raise Conflict("a request with this Idempotency-Key is in progress",
                           fields={"idempotency-key": "in progress"}, retry_after=1) from None
        except IdempotencyPersistenceLayerError:
            # The key's record could not be read or written (throttling, timeout): the client retries
            # with the same key; the lead's own conditional writes keep the effect single.
            raise Unavailable("the database is busy, please retry") from None
    else:
        created = capture_lead(LeadRepository(deps.table()), request, rules(), requester)
    logger.info("lead captured", extra={"lead_id": created.lead_id, "channel": requester.channel,
                                        "with_ref": bool(request.ref)})
    if submission.is_form:
        return html(201, lead_received_page(name=request.name, lead_id=created.lead_id))
    return json_payload(201, created.model_dump(mode="json"))


def get_policy(event: Event) -> Answer:
    if prefers_html(request_headers(event).get("accept", "")):
        return html(200, policy_page())
    return json_payload(200, policy_document(), headers={"Cache-Control": "public, max-age=300"})


def prefers_html(accept: str) -> bool:
    """``text/html`` listed before any JSON type (browsers); JSON otherwise (API clients, ``*/*``)."""
    kinds = [part.split(";", 1)[0].strip().lower() for part in accept.split(",")]
    if "text/html" not in kinds:
        return False
    json_at = [i for i, kind in enumerate(kinds) if kind in ("application/json", "application/*")]
    return not json_at or kinds.index("text/html") < json_at[0]


ROUTES: dict[str, Callable[[Event], Answer]] = {
    "GET /quick-help": get_quick_help,
    "POST /leads": post_lead,
    "GET /policy": get_policy,
    "GET /branding/logo": get_logo,
}


@secured
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@raw_routes()
def handler(event: Event, context: Any) -> Answer:
    idempotency_config().register_lambda_context(context)
    route = ROUTES.get(event.get("routeKey", ""))
    if route is None:
        raise NotFound("no such resource")
    return route(event)


init_complete()
