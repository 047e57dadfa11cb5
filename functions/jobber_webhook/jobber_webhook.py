"""POST /webhooks/jobber: Jobber's id-only webhooks, acknowledged at once and processed from a queue
(docs/integrations/jobber.md).

Jobber wants an answer within a second: the signature is checked on the raw body (401, nothing written
or queued), the body read (400/422), and an invoice or job topic queued for ProcessProviderEventsFunction,
which reads the record through Jobber's API; any other topic is answered 200 and ignored.
"""

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import base64
import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from referral_core.bodies import request_headers
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.provider_queue import ProviderQueue
from referral_core.dal.provider_secrets import ProviderSecret, text, to_verify
from referral_core.http_errors import json_payload, raw_routes
from referral_core.models.jobs import ProviderWebhookResponse
from referral_core.observability import count, count_webhook_rejection, logger, publishes_metrics, tracer
from referral_core.security_headers import secured
from referral_core.services.providers import jobber


@dataclasses.dataclass(frozen=True, kw_only=True)
class JobberSettings(BaseSettings):
    jobber_secret_arn: str
    provider_queue_url: str


@cache
def settings() -> JobberSettings:
    return read_settings(JobberSettings)


@cache
def credentials() -> ProviderSecret:
    return ProviderSecret(settings().jobber_secret_arn)


def client_secrets(value: dict[str, Any] | None) -> tuple[str, ...] | None:
    return None if value is None else (to_verify(text, value, "client_secret", settings().jobber_secret_arn),)


@tracer.capture_method
def post_jobber_event(event: dict[str, Any]) -> dict[str, Any]:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    jobber.verify(request_headers(event), body, secrets=client_secrets(credentials().current()) or (),
                  refreshed=lambda: client_secrets(credentials().refreshed()))
    webhook = jobber.parse(body)
    event_id = jobber.event_id(webhook)
    logger.append_keys(provider="jobber", provider_event_id=event_id)
    if not jobber.used(webhook):
        logger.info("provider event ignored", extra={"provider": "jobber", "provider_type": webhook.topic})
        count("ProviderEventsIgnored")
        answer = ProviderWebhookResponse(provider="jobber", event_id=event_id, ignored=True, applied=False)
        return json_payload(200, answer.model_dump(mode="json"))
    ProviderQueue(settings().provider_queue_url).send(jobber.queue_message(webhook))
    count("ProviderEventsQueued")
    answer = ProviderWebhookResponse(provider="jobber", event_id=event_id, ignored=False, applied=False)
    return json_payload(202, answer.model_dump(mode="json"))


@secured
@publishes_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@raw_routes(on_error=count_webhook_rejection)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return post_jobber_event(event)


init_complete()
