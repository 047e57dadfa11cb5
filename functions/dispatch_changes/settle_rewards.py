"""Stream consumer: settles rewards when a referral's job is completed and paid, or refunded, when staff
accept a referral, and marks the rewards a payout covers as paid.

Its route passes referral and job MODIFY/INSERT records and withdrawals recorded paid; the service
compares old and new images, so replays and no-op writes do nothing, and every ledger write happens once
per job.
"""

from __future__ import annotations

from functools import cache

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.rewards import RewardRepos
from referral_core.observability import logger
from referral_core.services.rewards import on_change
from referral_core.streams import Change


@cache
def _repos() -> RewardRepos:
    settings = read_settings(BaseSettings)
    return RewardRepos.on(Table(settings.table_name), currency=settings.currency)


def record_handler(change: Change) -> None:
    done = on_change(_repos(), change.old or {}, change.new)
    if done:
        logger.info("rewards settled", extra={"event": change.event_name, "pk": change.new.get("pk"),
                                              "result": done})
