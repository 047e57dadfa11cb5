"""DynamoDB stream consumer: attributes new leads and links jobs to them (the template's FilterCriteria
deliver lead INSERTs and job INSERT/MODIFYs).

Partial batch responses: a failing record is reported alone and retried; the rest of the batch is kept.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.attribution import AttributionRepository
from referral_core.dal.dynamo import Table, plain
from referral_core.dal.referrals import ReferralRepository
from referral_core.observability import logger, tracer
from referral_core.services.attribution import attribute_lead, on_job_changed

#: A job change matters to attribution only if one of these changed (not our own linked_lead_id write,
#: and not the no-op MODIFYs a replayed write produces).
JOB_FIELDS = ("statuses", "lead_id", "contact_hashes")


@cache
def _deps() -> tuple[AttributionRepository, ReferralRepository]:
    table = Table(read_settings(BaseSettings).table_name)
    return AttributionRepository(table), ReferralRepository(table)


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    repo, referrals = _deps()
    new = plain(record.dynamodb.new_image if record.dynamodb else {}) or {}
    old = plain(record.dynamodb.old_image if record.dynamodb else {}) or {}
    name = record.raw_event.get("eventName")
    if new.get("type") == "lead" and name == "INSERT":
        decision = attribute_lead(repo, referrals, new)
        logger.info("lead attributed", extra={"lead_id": new.get("lead_id"), "outcome": decision.outcome,
                                              "source": decision.source, "reason": decision.reason})
    elif new.get("type") == "job" and any(new.get(f) != old.get(f) for f in JOB_FIELDS):
        lead_id = on_job_changed(repo, referrals, new)
        logger.info("job linked", extra={"job_id": new.get("job_id"), "lead_id": lead_id})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
