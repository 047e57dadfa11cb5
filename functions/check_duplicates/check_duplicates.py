"""DynamoDB stream consumer: checks each new lead (duplicates, existing customer, self-referral,
velocity, zone, unclear source) and raises flags for staff review.

The template's FilterCriteria deliver only INSERTs of ``type = lead``. Partial batch responses: a failing
record is reported alone; flags are raised once per type, so retries and replays add nothing.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import dataclasses
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table, plain
from referral_core.dal.leads import LeadRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.observability import logger, tracer
from referral_core.services.lead_checks import CheckRules, check_lead


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckSettings(BaseSettings):
    duplicate_window_days: int
    velocity_window_hours: int
    velocity_max_leads_per_code: int
    velocity_max_leads_per_ip: int


@cache
def _deps() -> tuple[CheckRules, LeadRepository, ReferralRepository]:
    settings = read_settings(CheckSettings)
    table = Table(settings.table_name)
    rules = CheckRules(duplicate_window_days=settings.duplicate_window_days,
                       velocity_window_hours=settings.velocity_window_hours,
                       max_leads_per_code=settings.velocity_max_leads_per_code,
                       max_leads_per_ip=settings.velocity_max_leads_per_ip)
    return rules, LeadRepository(table), ReferralRepository(table)


processor = BatchProcessor(event_type=EventType.DynamoDBStreams)


def record_handler(record: DynamoDBRecord) -> None:
    rules, leads, referrals = _deps()
    lead = plain(record.dynamodb.new_image if record.dynamodb else {}) or {}
    if record.raw_event.get("eventName") != "INSERT" or lead.get("type") != "lead":
        return
    raised = check_lead(lead, leads, referrals, rules)
    logger.info("lead checked", extra={"lead_id": lead["lead_id"], "flags_raised": raised})


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
