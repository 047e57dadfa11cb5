"""POST /webhooks/jobs: the job system's signed events (Standard Webhooks).

Order matters: the signature is checked on the raw body before anything parses it (401, nothing
written); then the delivery runs once per ``webhook-id`` (Powertools Idempotency on the table): a
redelivery gets the first answer, the same id with a different body is 409.

No ``from __future__ import annotations`` here: Powertools reads the route signatures at run time.
"""

import base64
import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.idempotency import IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyValidationError,
)

from referral_core import api
from referral_core.clock import epoch
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.idempotency import persistence_layer
from referral_core.dal.jobs import JobRepository
from referral_core.dal.signing_secrets import SigningSecrets
from referral_core.http import create_resolver, error_response, json_response
from referral_core.observability import logger, tracer
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


idempotency = IdempotencyConfig(event_key_jmespath="webhook_id", payload_validation_jmespath="body",
                                expires_after_seconds=REPLAY_WINDOW_S, raise_on_no_idempotency_key=True)
app = create_resolver(title="Job webhook")


@app.exception_handler(IdempotencyValidationError)
def _different_body(_: IdempotencyValidationError) -> Response[str]:
    return error_response(409, "conflict", "this webhook-id was delivered before with a different body")


@app.exception_handler(IdempotencyAlreadyInProgressError)
def _in_progress(_: IdempotencyAlreadyInProgressError) -> Response[str]:
    return error_response(409, "in_progress", "this webhook-id is being processed, retry shortly",
                          headers={"Retry-After": "1"})


@idempotent_function(data_keyword_argument="delivery", config=idempotency,
                     persistence_store=persistence_layer(settings().table_name))
def apply_delivery(*, delivery: dict[str, str]) -> dict[str, Any]:
    event = parse_event(delivery["body"].encode())
    answer = record_job_event(JobRepository(api.table()), event, webhook_id=delivery["webhook_id"],
                              pepper=api.pepper(), phone_region=settings().default_phone_region)
    logger.info("job event", extra={"job_id": answer.job_id, "type": answer.type, "applied": answer.applied})
    return answer.model_dump(mode="json")


@app.post("/webhooks/jobs")
@tracer.capture_method
def post_job_event() -> Response[str]:
    event = app.current_event
    body = base64.b64decode(event.body or "") if event.is_base64_encoded else (event.body or "").encode()
    secrets = signing_secrets()
    delivery = verify(event.headers, body, now=epoch(), secrets=secrets.current(),
                      refreshed=secrets.refreshed)
    logger.append_keys(webhook_id=delivery.webhook_id)
    answer = apply_delivery(delivery={"webhook_id": delivery.webhook_id,
                                      "body": body.decode("utf-8", errors="replace")})
    return json_response(200, answer)


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    idempotency.register_lambda_context(context)
    return app.resolve(event, context)
