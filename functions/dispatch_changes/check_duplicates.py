"""Stream consumer: checks each new lead (duplicates, existing customer, self-referral, velocity, zone,
unclear source) and raises flags for staff review.

Its route delivers only INSERTs of ``type = lead``. A failing record is retried alone; flags are raised
once per type, so retries and replays add nothing.
"""

from __future__ import annotations

import dataclasses
from functools import cache

from referral_core import deps
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.leads import LeadRepository
from referral_core.dal.referrals import ReferralRepository
from referral_core.observability import count, logger
from referral_core.services.lead_checks import CheckRules, check_lead
from referral_core.streams import Change


@dataclasses.dataclass(frozen=True, kw_only=True)
class CheckSettings(BaseSettings):
    duplicate_window_days: int
    velocity_window_hours: int
    velocity_max_leads_per_code: int
    velocity_max_leads_per_ip: int


@cache
def check_rules() -> CheckRules:
    settings = read_settings(CheckSettings)
    return CheckRules(duplicate_window_days=settings.duplicate_window_days,
                      velocity_window_hours=settings.velocity_window_hours,
                      max_leads_per_code=settings.velocity_max_leads_per_code,
                      max_leads_per_ip=settings.velocity_max_leads_per_ip)


def record_handler(change: Change) -> None:
    lead = change.new
    if change.event_name != "INSERT" or lead.get("type") != "lead":
        return
    table = deps.table()
    raised = check_lead(lead, LeadRepository(table), ReferralRepository(table), check_rules())
    count("LeadsReceived")
    count("FlagsRaised", len(raised))
    logger.info("lead checked", extra={"lead_id": lead["lead_id"], "flags_raised": raised})
