"""Stream consumer: attributes new leads and links jobs to them (its route delivers lead INSERTs and job
INSERT/MODIFYs). A failing record is retried alone; the rest of the batch is kept.
"""

from __future__ import annotations

from referral_core import deps
from referral_core.dal.attribution import AttributionRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.observability import logger
from referral_core.services.attribution import attribute_lead, on_job_changed
from referral_core.streams import Change

#: A job change matters to attribution only if one of these changed (not our own linked_lead_id write,
#: and not the no-op MODIFYs a replayed write produces).
JOB_FIELDS = ("statuses", "lead_id", "contact_hashes", "referral_code")


def record_handler(change: Change) -> None:
    repo, referrals = AttributionRepository(deps.table()), ReferralRepository(deps.table())
    new, old = change.new, change.old or {}
    if new.get("type") == "lead" and change.event_name == "INSERT":
        decision = attribute_lead(repo, referrals, new)
        logger.info("lead attributed", extra={"lead_id": new.get("lead_id"), "outcome": decision.outcome,
                                              "source": decision.source, "reason": decision.reason})
    elif new.get("type") == "job" and any(new.get(f) != old.get(f) for f in JOB_FIELDS):
        lead_id = on_job_changed(repo, referrals, new)
        logger.info("job linked", extra={"job_id": new.get("job_id"), "lead_id": lead_id})
