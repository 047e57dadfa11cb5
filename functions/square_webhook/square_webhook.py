"""POST /webhooks/square: Square's event notifications as job events (docs/integrations/square.md).

Order matters: the signature is checked on the raw body before anything parses it (401, nothing
written); then the notification is read (400/422), translated (services.providers.square) and recorded
once per Square ``event_id``. An event type the adapter does not use, or one that changes no job (a
pending refund, a deposit), is answered 200 and ignored, so Square does not retry it.
"""

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import base64
import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from referral_core import deps
from referral_core.bodies import request_headers
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.provider_secrets import ProviderSecret, strings, text, to_verify
from referral_core.http_errors import json_payload, raw_routes
from referral_core.observability import count_webhook_rejection, logger, publishes_metrics, tracer
from referral_core.security_headers import secured
from referral_core.services.providers import square
from referral_core.services.providers.ingest import ProviderIngest


@dataclasses.dataclass(frozen=True, kw_only=True)
class SquareSettings(BaseSettings):
    square_secret_arn: str
    default_phone_region: str


@cache
def settings() -> SquareSettings:
    return read_settings(SquareSettings)


@cache
def credentials() -> ProviderSecret:
    return ProviderSecret(settings().square_secret_arn)


def keys(value: dict[str, Any]) -> square.SquareKeys:
    secret_id = settings().square_secret_arn
    return square.SquareKeys(to_verify(text, value, "notification_url", secret_id),
                             to_verify(strings, value, "signature_keys", secret_id))


def fresh_keys() -> square.SquareKeys | None:
    """The keys read again (a key regenerated at Square), or None if they were read too recently."""
    value = credentials().refreshed()
    return None if value is None else keys(value)


@cache
def ingest() -> ProviderIngest:
    return ProviderIngest("square", deps.table(), deps.pepper, settings().default_phone_region)


@tracer.capture_method
def post_square_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    square.verify(request_headers(event), body, keys=keys(credentials().current()), refreshed=fresh_keys)
    notification = square.parse(body)
    logger.append_keys(provider="square", provider_event_id=notification.event_id)
    translated = square.translate(notification)
    if translated.ignored:
        logger.append_keys(ignored_because=translated.ignored)
    answer = ingest().record(translated.event_id, notification.type, translated.event, context=context)
    return json_payload(200, answer.model_dump(mode="json"))


@secured
@publishes_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@raw_routes(on_error=count_webhook_rejection)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return post_square_event(event, context)


init_complete()
