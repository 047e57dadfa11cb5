"""Scheduled (daily): flag referred leads still without a job after the programme's missing_job_days."""

from __future__ import annotations

from referral_core.init_phase import init_complete

from typing import Any

from referral_core import deps
from referral_core.clock import now
from referral_core.dal.attribution import AttributionRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.observability import logger, tracer
from referral_core.services.missing_jobs import flag_missing_job_links


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    table = deps.table()
    flagged = flag_missing_job_links(AttributionRepository(table), ReferralRepository(table), now=now())
    logger.info("missing job links flagged", extra={"count": len(flagged)})
    return {"flagged": flagged}


init_complete()
