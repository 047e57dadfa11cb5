"""Stream consumer: counts leads, jobs, paid and rewarded per code as referrals progress
(``referral_core.services.funnel``). Each record is counted alone; a failing one is retried alone."""

from __future__ import annotations

from functools import cache

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.links import LinkRepository
from referral_core.observability import logger
from referral_core.services.funnel import milestones_passed
from referral_core.streams import Change


@cache
def _repo() -> LinkRepository:
    return LinkRepository(Table(read_settings(BaseSettings).table_name))


def record_handler(change: Change) -> None:
    new = change.new
    for counter in milestones_passed(change.old, new):
        counted = _repo().count_milestone(str(new["lead_id"]), counter, str(new["code"]),
                                          str(new.get("placement") or ""))
        logger.info("funnel milestone", extra={"counter": counter, "code": new["code"], "counted": counted})
