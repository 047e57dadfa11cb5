"""DynamoDB stream consumer: settles rewards when a referral's job is completed and paid, or refunded, when
staff accept a referral, and marks the rewards a payout covers as paid.

The template's FilterCriteria pass referral and job MODIFY/INSERT records and withdrawals recorded paid; the
service compares old and new images, so replays and no-op writes do nothing, and every ledger write happens
once per job.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table, plain
from referral_core.dal.rewards import RewardRepos
from referral_core.observability import logger, tracer
from referral_core.services.rewards import on_change


@cache
def _repos() -> RewardRepos:
    settings = read_settings(BaseSettings)
    return RewardRepos.on(Table(settings.table_name), currency=settings.currency)


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    images = record.dynamodb
    new = plain(images.new_image if images else {}) or {}
    old = plain(images.old_image if images else {}) or {}
    done = on_change(_repos(), old, new)
    if done:
        logger.info("rewards settled", extra={"event": record.raw_event.get("eventName"), "pk": new.get("pk"),
                                              "result": done})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
