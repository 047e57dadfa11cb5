"""The table stream's one reader: every change goes to the consumers whose patterns match it, in process.

The routes below are the consumers' event source mappings as they were: FilterCriteria patterns (Lambda's
syntax, matched by ``referral_core.event_filters``), batch size and retry cap. Each consumer's code is
the module of the same name beside this one, imported on its first record. Failures stay with their
consumer (``referral_core.streams``: parked in a FIFO queue, retried there, then the on-failure queue).
"""

from __future__ import annotations

from referral_core.init_phase import init_complete

import dataclasses
from typing import Any

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.parking import ParkedChanges
from referral_core.streams import Route, stream_handler


def _new(kind: str, *events: str, **fields: Any) -> dict[str, Any]:
    """A pattern: these event names, a NewImage of this ``type`` (and these other string attributes)."""
    image = {"type": {"S": [kind]}, **{name: {"S": values} for name, values in fields.items()}}
    return {"eventName": list(events), "dynamodb": {"NewImage": image}}


ROUTES = (
    # New clicks: INSERT, or MODIFY when a visitor came back after the hour (the handler compares
    # clicked_epoch in the old and new images; filters cannot compare two fields).
    # 98 clicks + the stats item + the code item = 100, the TransactWriteItems limit (the reader's BatchSize).
    Route("count_clicks", (_new("click", "INSERT", "MODIFY"),), batch_size=98, max_retries=3),
    # Referrals with a code; the handler compares stage_rank in the old and new images.
    Route("count_funnel", (_new("referral", "INSERT", "MODIFY", code=[{"exists": True}]),), batch_size=50),
    Route("check_duplicates", (_new("lead", "INSERT"),)),
    Route("attribute_referral", (_new("lead", "INSERT"), _new("job", "INSERT", "MODIFY")), max_retries=5),
    # Referral changes are compared old/new in code (stage_rank crossing customer_paid, a staff accept);
    # a withdrawal only once staff record it paid (the rewards it covers become paid).
    Route("settle_rewards", (_new("referral", "MODIFY"), _new("job", "INSERT", "MODIFY"),
                             _new("withdrawal", "MODIFY", status=["paid"])), max_retries=5),
    # Any write to a referral: filters cannot compare old and new stage, the handler does.
    Route("notify_status", (_new("referrer", "INSERT"), _new("referral", "INSERT", "MODIFY"))),
    # Outbound webhooks: new leads, review decisions (compared old/new in code), rewards once available and
    # withdrawals once paid; the deliveries themselves go through WebhookDeliveryQueue.
    Route("queue_webhooks", (_new("lead", "INSERT"), _new("referral", "MODIFY"),
                             _new("reward", "MODIFY", state=["available"]),
                             _new("withdrawal", "MODIFY", status=["paid"]))),
)


@dataclasses.dataclass(frozen=True, kw_only=True)
class DispatchSettings(BaseSettings):
    parked_queue_url: str
    failure_queue_url: str


def _parking() -> ParkedChanges:
    settings = read_settings(DispatchSettings)
    return ParkedChanges(Table(settings.table_name), settings.parked_queue_url, settings.failure_queue_url)


handler = stream_handler(ROUTES, _parking)


init_complete()
