"""POST /webhooks/jobs: the job system's signed events (Standard Webhooks).

Order matters: the signature is checked on the raw body before anything parses it (401, nothing
written); then the delivery runs once per ``webhook-id`` (Powertools Idempotency on the table): a
redelivery gets the first answer, the same id with a different body is 409.

A raw handler, like the redirect (why: docs/quality.md, "What keeps cold starts short"): API Gateway
routes one route here and the body is read as bytes (the signature covers them). Errors are the API's one
error body (``referral_core.http_errors``).
"""

from referral_core.init_phase import init_complete

import base64
import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from referral_core import deps
from referral_core.bodies import request_headers
from referral_core.clock import epoch
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.idempotency import Once
from referral_core.dal.jobs import JobRepository
from referral_core.dal.signing_secrets import SigningSecrets
from referral_core.http_errors import json_payload, raw_routes
from referral_core.observability import count, count_webhook_rejection, logger, publishes_metrics, tracer
from referral_core.security_headers import secured
from referral_core.services.jobs import parse_event, record_job_event
from referral_core.services.webhook_signature import verify

#: Standard Webhooks senders retry for about a day; keep the first answer a little longer.
REPLAY_WINDOW_S = 3 * 24 * 3600


@dataclasses.dataclass(frozen=True, kw_only=True)
class WebhookSettings(BaseSettings):
    webhook_secret_arn: str
    default_phone_region: str


@cache
def settings() -> WebhookSettings:
    return read_settings(WebhookSettings)


@cache
def signing_secrets() -> SigningSecrets:
    return SigningSecrets(settings().webhook_secret_arn)


def apply_delivery(*, delivery: dict[str, str]) -> dict[str, Any]:
    event = parse_event(delivery["body"].encode())
    answer = record_job_event(JobRepository(deps.table()), event, webhook_id=delivery["webhook_id"],
                              pepper=deps.pepper(), phone_region=settings().default_phone_region)
    logger.info("job event", extra={"job_id": answer.job_id, "type": answer.type, "applied": answer.applied})
    return answer.model_dump(mode="json")


@cache
def apply_once() -> Once:
    """``apply_delivery`` once per webhook-id, the same id with another body 409 (built on first use: the
    store needs the table's client)."""
    return Once(apply_delivery, table_name=settings().table_name, key="webhook_id",
                payload_validation_jmespath="body", expires_after_seconds=REPLAY_WINDOW_S)


@tracer.capture_method
def post_job_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    secrets = signing_secrets()
    delivery = verify(request_headers(event), body, now=epoch(), secrets=secrets.current(), refreshed=secrets.refreshed)
    logger.append_keys(webhook_id=delivery.webhook_id)
    parse_event(body)  # a body that cannot be read or validated is refused before anything is written
    once = apply_once()
    once.config.register_lambda_context(context)
    answer = once({"webhook_id": delivery.webhook_id, "body": body.decode("utf-8", errors="replace")})
    count("JobEventsReceived")
    return json_payload(200, answer)


@secured
@publishes_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@raw_routes(on_error=count_webhook_rejection)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return post_job_event(event, context)


init_complete()
