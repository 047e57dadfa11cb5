"""Domain events on the account's default EventBridge bus, for anything outside that wants to react."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from referral_core.dal.aws import client
from referral_core.dal.dynamo import translate
from referral_core.errors import Unavailable

SOURCE = "referrals"


def put_event(detail_type: str, detail: Mapping[str, Any]) -> str:
    """Publish one event (source ``referrals``) on the default bus; returns its event id.

    A rejected entry raises :class:`Unavailable`, so a stream consumer reports the record and retries it.
    """
    try:
        out = client("events").put_events(Entries=[{
            "Source": SOURCE, "DetailType": detail_type, "Detail": json.dumps(dict(detail), default=str),
        }])
    except Exception as exc:
        raise translate(exc) from exc
    entry = out["Entries"][0]
    if out.get("FailedEntryCount") or "EventId" not in entry:
        raise Unavailable(f"EventBridge refused the event: {entry.get('ErrorCode')}", retry_after=1)
    return str(entry["EventId"])
