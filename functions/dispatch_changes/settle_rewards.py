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
from referral_core.observability import count, logger
from referral_core.services.rewards import on_change
from referral_core.streams import Change

#: What settling did -> the business metric it counts (docs/operations.md).
_METRIC = {"credited": "RewardsCredited", "reversed": "RewardsReversed", "clawed_back": "RewardsClawedBack"}


@cache
def _repos() -> RewardRepos:
    settings = read_settings(BaseSettings)
    return RewardRepos.on(Table(settings.table_name), currency=settings.currency)


def record_handler(change: Change) -> None:
    done = on_change(_repos(), change.old or {}, change.new)
    if done in _METRIC:
        count(_METRIC[done])
    if done:
        logger.info("rewards settled", extra={"event": change.event_name, "pk": change.new.get("pk"),
                                              "result": done})
