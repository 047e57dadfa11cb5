"""DynamoDB stream consumer: turns click items into per-(code, placement) counters, a batch at a time.

Each record is read alone (a poison record fails alone); then the whole batch is aggregated in memory and
written with one transaction per (code, placement): click markers + one ``ADD`` on ``STATS#{CODE}`` + the
code's ``uses``. A failed write fails exactly the records of its group. Replays never double count
(markers; docs/links.md).
"""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import dataclasses
import sys
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table, plain
from referral_core.dal.links import LinkRepository
from referral_core.observability import logger, tracer
from referral_core.services.click_counts import ClickEvent, click_event, group_by_stats_key


@dataclasses.dataclass(frozen=True, kw_only=True)
class CountClicksSettings(BaseSettings):
    pass


@cache
def _repo() -> LinkRepository:
    return LinkRepository(Table(read_settings(CountClicksSettings).table_name))


def record_handler(record: DynamoDBRecord) -> ClickEvent | None:
    stream = record.dynamodb
    new = plain(stream.new_image if stream else {}) or {}
    old = plain(stream.old_image if stream else {}) or None
    return click_event(record.raw_event["eventName"], new, old)


class ClickBatchProcessor(BatchProcessor):
    """BatchProcessor that, after reading every record, writes the batch's counters per group."""

    def process(self) -> list[tuple[Any, ...]]:
        results = super().process()
        readable = [(event, raw) for status, event, raw in results if status == "success" and event]
        for (code, placement), entries in group_by_stats_key(readable).items():
            try:
                counted = _repo().count_clicks(code, placement, [event.click for event, _ in entries])
            except Exception:
                failure = sys.exc_info()
                for _, raw in entries:
                    self.success_messages.remove(raw)
                    self.failure_handler(DynamoDBRecord(raw), failure)
                continue
            logger.info("clicks counted", extra={"code": code, "placement": placement,
                                                 "records": len(entries), "counted": counted})
        return results


processor = ClickBatchProcessor(event_type=EventType.DynamoDBStreams)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
