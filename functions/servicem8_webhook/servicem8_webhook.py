"""POST /webhooks/servicem8: ServiceM8's event webhooks, acknowledged at once and processed from a queue
(docs/integrations/servicem8.md).

The callback URL's token is checked first (401, nothing queued: ServiceM8 signs no webhook), then the
subscription check is answered with its challenge, or the event's job uuids are queued for
ProcessProviderEventsFunction (202), which reads the job through ServiceM8's REST API. An event the
adapter does not use is answered 200 and ignored.
"""

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import base64
import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from referral_core.bodies import media_type
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.provider_queue import ProviderQueue
from referral_core.dal.provider_secrets import ProviderSecret, text
from referral_core.errors import Unauthorized
from referral_core.http_errors import json_payload, raw_routes
from referral_core.models.jobs import ProviderWebhookResponse
from referral_core.observability import count, count_webhook_rejection, logger, publishes_metrics, tracer
from referral_core.security_headers import secured
from referral_core.services.providers import servicem8


@dataclasses.dataclass(frozen=True, kw_only=True)
class ServiceM8Settings(BaseSettings):
    servicem8_secret_arn: str
    provider_queue_url: str


@cache
def settings() -> ServiceM8Settings:
    return read_settings(ServiceM8Settings)


@cache
def credentials() -> ProviderSecret:
    return ProviderSecret(settings().servicem8_secret_arn)


def verify(query: dict[str, str]) -> str:
    """The account, checked against the webhook token (re-read once, at most once a minute, on a miss)."""
    try:
        return servicem8.verify(query, token=text(credentials().current(), "webhook_token",
                                                  settings().servicem8_secret_arn))
    except Unauthorized:
        fresh = credentials().refreshed()
        if fresh is None:
            raise
        return servicem8.verify(query, token=text(fresh, "webhook_token", settings().servicem8_secret_arn))


@tracer.capture_method
def post_servicem8_event(event: dict[str, Any]) -> dict[str, Any]:
    account = verify(dict(event.get("queryStringParameters") or {}))
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    challenge = servicem8.challenge(body, media_type(event))
    if challenge is not None:
        logger.info("servicem8 subscription check answered")
        return {"statusCode": 200, "headers": {"Content-Type": "text/plain", "Cache-Control": "no-store"},
                "body": challenge}
    webhook = servicem8.parse(body)
    event_id = servicem8.event_id(webhook)
    logger.append_keys(provider="servicem8", provider_event_id=event_id)
    messages = servicem8.messages(webhook, account)
    if not messages:
        logger.info("provider event ignored", extra={"provider": "servicem8", "provider_type": webhook.event})
        count("ProviderEventsIgnored")
        answer = ProviderWebhookResponse(provider="servicem8", event_id=event_id, ignored=True, applied=False)
        return json_payload(200, answer.model_dump(mode="json"))
    queue = ProviderQueue(settings().provider_queue_url)
    for message in messages:
        queue.send(message)
    count("ProviderEventsQueued", len(messages))
    answer = ProviderWebhookResponse(provider="servicem8", event_id=event_id, ignored=False, applied=False)
    return json_payload(202, answer.model_dump(mode="json"))


@secured
@publishes_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@raw_routes(on_error=count_webhook_rejection)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return post_servicem8_event(event)


init_complete()
