"""DynamoDB stream consumer: counts leads, jobs, paid and rewarded per code as referrals progress
(``referral_core.services.funnel``). Each record is counted alone; a failing one is retried alone."""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table, plain
from referral_core.dal.links import LinkRepository
from referral_core.observability import logger, tracer
from referral_core.services.funnel import milestones_passed


@dataclasses.dataclass(frozen=True, kw_only=True)
class CountFunnelSettings(BaseSettings):
    pass


@cache
def _repo() -> LinkRepository:
    return LinkRepository(Table(read_settings(CountFunnelSettings).table_name))


def record_handler(record: DynamoDBRecord) -> None:
    stream = record.dynamodb
    new = plain(stream.new_image if stream else {}) or {}
    old = plain(stream.old_image if stream else {}) or None
    for counter in milestones_passed(old, new):
        counted = _repo().count_milestone(str(new["lead_id"]), counter, str(new["code"]),
                                          str(new.get("placement") or ""))
        logger.info("funnel milestone", extra={"counter": counter, "code": new["code"], "counted": counted})


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
