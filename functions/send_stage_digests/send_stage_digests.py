"""Scheduled: sends each referrer the digest of stage changes held back by the hourly email limit
(docs/portal.md, "Stage email digest"), once its hour has ended (gsi2 ``DIGEST#DUE``)."""

from __future__ import annotations

from referral_core.init_phase import init_complete

from functools import cache
from typing import Any

from referral_core import referrer_mail
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.notifications import DigestQueue
from referral_core.dal.referrers import ReferrerRepository
from referral_core.observability import logger, tracer
from referral_core.services.notifications import send_due_digests


@cache
def _table() -> Table:
    return Table(read_settings(BaseSettings).table_name)


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    counts = send_due_digests(DigestQueue(_table()), ReferrerRepository(_table()), referrer_mail.send,
                              opt_out_url=referrer_mail.opt_out_url)
    logger.info("stage digests", extra=counts)
    return counts


init_complete()
