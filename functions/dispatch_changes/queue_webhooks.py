"""Stream consumer: turns the programme's events (a lead received, a referral accepted or dismissed, a
reward available, a withdrawal paid) into deliveries for the outbound webhook subscriptions that want them.

Its route delivers new leads and referral, reward and withdrawal changes; the images are compared
(``services.outbound_webhooks.event_of``), and each delivery is keyed by its event, so a replayed or no-op
record queues nothing twice. The POSTs themselves happen in DeliverWebhooksFunction, off the stream.
"""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from functools import cache

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.webhooks import DeliveryQueue, WebhookRepository
from referral_core.observability import logger
from referral_core.services.outbound_webhooks import event_of, fan_out
from referral_core.streams import Change


@dataclasses.dataclass(frozen=True, kw_only=True)
class QueueWebhookSettings(BaseSettings):
    webhook_queue_url: str


@cache
def _settings() -> QueueWebhookSettings:
    return read_settings(QueueWebhookSettings)


def record_handler(change: Change) -> None:
    event = event_of(change.event_name, change.new, change.old)
    if event is None:
        return
    made = change.raw.get("dynamodb", {}).get("ApproximateCreationDateTime")
    at = datetime.fromtimestamp(float(made), UTC) if made else datetime.now(UTC)
    queued = fan_out(event, at, WebhookRepository(Table(_settings().table_name)),
                     DeliveryQueue(_settings().webhook_queue_url))
    logger.info("webhook event", extra={"event_type": str(event.type), "deliveries": queued})
