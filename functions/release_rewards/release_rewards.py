"""Scheduled: makes rewards available once their holding period has ended (gsi2 ``RELEASE#PENDING``)."""

from __future__ import annotations

from referral_core.init_phase import init_complete

from functools import cache
from typing import Any

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.rewards import RewardRepos
from referral_core.observability import logger, tracer
from referral_core.services.rewards import release_due


@cache
def _repos() -> RewardRepos:
    settings = read_settings(BaseSettings)
    return RewardRepos.on(Table(settings.table_name), currency=settings.currency)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    released = release_due(_repos())
    logger.info("rewards released", extra={"released": released})
    return {"released": released}


init_complete()
