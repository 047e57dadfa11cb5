"""Delivers outbound webhooks: one attempt per WebhookDeliveryQueue message (services.outbound_webhooks).

A failed attempt schedules the next as a delayed message; an error of ours (DynamoDB, Secrets Manager)
fails that message alone (partial batch response), and the queue's redrive policy gives it to the
dead-letter queue after a few receives.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete

import dataclasses
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal import outbound_http
from referral_core.dal.dynamo import Table
from referral_core.dal.webhooks import DeliveryQueue, WebhookRepository, WebhookSecrets
from referral_core.observability import logger, tracer
from referral_core.services.outbound_webhooks import attempt


@dataclasses.dataclass(frozen=True, kw_only=True)
class DeliverySettings(BaseSettings):
    webhook_queue_url: str
    webhook_secret_prefix: str
    webhook_allow_private_targets: bool = False
    webhook_timeout_s: float = 5.0


@cache
def _settings() -> DeliverySettings:
    return read_settings(DeliverySettings)


def _post(url: str, body: bytes, headers: dict[str, str]) -> outbound_http.Answer:
    settings = _settings()
    return outbound_http.post(url, body, headers, timeout_s=settings.webhook_timeout_s,
                              allow_private=settings.webhook_allow_private_targets)


# A batch that fails whole is reported like any other (each message then retried alone, then redriven).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    settings = _settings()
    outcome = attempt(str(message["webhook_id"]), str(message["delivery_id"]),
                      repo=WebhookRepository(Table(settings.table_name)),
                      secrets=WebhookSecrets(settings.webhook_secret_prefix),
                      queue=DeliveryQueue(settings.webhook_queue_url), post=_post)
    logger.info("webhook attempt", extra={"webhook_id": message["webhook_id"],
                                          "delivery_id": message["delivery_id"], "outcome": outcome})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
