"""Stream consumer: tells referrers what changed (its route picks the records).

- a new ``referrer`` (INSERT): the welcome email;
- a ``referral`` whose visible ``stage`` changed (INSERT/MODIFY; the images are compared, since moto and
  retried writers emit MODIFY for no-op writes): a ``ReferralStageChanged`` event on EventBridge and,
  unless the referrer opted out, a short email (or, past the hourly limit, an entry for the digest that
  ``send_stage_digests`` sends).

A failing record is retried alone; the rest of the batch is kept.
"""

from __future__ import annotations

from functools import cache

from referral_core import referrer_mail
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.events import put_event
from referral_core.dal.notifications import DigestQueue, NotificationLog, StageEmailLimit
from referral_core.dal.referrers import ReferrerRepository
from referral_core.observability import logger
from referral_core.services.notifications import (
    StageNotifier,
    on_referral_changed,
    on_referrer_created,
)
from referral_core.streams import Change


@cache
def _table() -> Table:
    return Table(read_settings(BaseSettings).table_name)


@cache
def _stage_notifier() -> StageNotifier:
    return StageNotifier(referrers=ReferrerRepository(_table()), log=NotificationLog(_table()), send=referrer_mail.send,
                         publish=put_event, opt_out_url=referrer_mail.opt_out_url, limit=StageEmailLimit(_table()),
                         digests=DigestQueue(_table()))


def record_handler(change: Change) -> None:
    new = change.new
    if change.event_name == "INSERT" and new.get("type") == "referrer":
        sent = on_referrer_created(new, NotificationLog(_table()), referrer_mail.send)
        logger.info("welcome notification", extra={"referrer_id": new.get("referrer_id"), "sent": sent})
    elif change.event_name in ("INSERT", "MODIFY") and new.get("type") == "referral":
        outcome = on_referral_changed(change.old, new, _stage_notifier())
        logger.info("stage notification", extra={"referral_id": new.get("lead_id"), "stage": new.get("stage"),
                                                  "outcome": outcome})
