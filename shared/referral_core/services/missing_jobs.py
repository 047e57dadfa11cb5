"""The daily check for referred leads that never got a job (the job system may not have sent a lead id
and the customer's contact details may not match): staff get a ``missing_job_link`` flag to link by hand.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from referral_core.clock import iso
from referral_core.dal.attribution import AttributionRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.services.program_defaults import attribution_rules
from referral_core.stages import FlagType, Severity


def flag_missing_job_links(repo: AttributionRepository, referrals: ReferralRepository, *,
                           now: datetime) -> list[str]:
    """Flag every referred lead older than the programme's ``missing_job_days`` that has no job, and
    take it off the awaiting list (one flag per lead). Returns the flagged lead ids."""
    rules = attribution_rules(repo.program())
    cutoff = iso(now - timedelta(days=rules.missing_job_days))
    flagged = []
    for entry in repo.awaiting_before(cutoff):
        lead_id = entry["lead_id"]
        if not repo.linked_job_ids(lead_id):
            referrals.raise_flag(lead_id, FlagType.MISSING_JOB_LINK, Severity.LOW,
                                 {"received_at": entry["created_at"],
                                  "days_without_job": rules.missing_job_days})
            flagged.append(lead_id)
        repo.stop_awaiting(lead_id)
    return flagged
