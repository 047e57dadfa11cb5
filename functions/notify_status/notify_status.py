"""DynamoDB stream consumer: emails referrers about changes (the template's FilterCriteria pick records).

Partial batch responses: a failing record is reported alone and retried; the rest of the batch is kept.
"""

from __future__ import annotations

import dataclasses
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table, plain
from referral_core.dal.mail import Email, send_email
from referral_core.dal.notifications import NotificationLog
from referral_core.observability import logger, tracer
from referral_core.services.notifications import on_referrer_created


@dataclasses.dataclass(frozen=True, kw_only=True)
class NotifySettings(BaseSettings):
    sender_email: str


@cache
def _deps() -> tuple[NotifySettings, NotificationLog]:
    settings = read_settings(NotifySettings)
    return settings, NotificationLog(Table(settings.table_name))


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    settings, log = _deps()
    image = plain(record.dynamodb.new_image if record.dynamodb else {}) or {}
    send = partial(_send, settings.sender_email)
    if record.raw_event.get("eventName") == "INSERT" and image.get("type") == "referrer":
        sent = on_referrer_created(image, log, send)
        logger.info("welcome notification", extra={"referrer_id": image.get("referrer_id"), "sent": sent})


def _send(sender: str, email: Email) -> str:
    return send_email(sender, email)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)
