"""Once-only markers for outgoing notifications (a stream replay must never email twice)."""

from __future__ import annotations

from referral_core.clock import epoch, iso
from referral_core.dal.dynamo import ConditionFailed, Table

MARKER_DAYS = 400


class NotificationLog:
    def __init__(self, table: Table) -> None:
        self.table = table

    def claim(self, key: str) -> bool:
        """Reserve notification ``key``; False when it was already sent (or is being sent)."""
        try:
            self.table.put(
                {"pk": f"NOTIFIED#{key}", "sk": "NOTIFIED", "type": "notification", "at": iso(),
                 "expiration": epoch() + MARKER_DAYS * 86400},
                condition="attribute_not_exists(pk)",
            )
        except ConditionFailed:
            return False
        return True

    def release(self, key: str) -> None:
        """Give the reservation back after a failed send, so the stream retry can try again."""
        self.table.delete(f"NOTIFIED#{key}", "NOTIFIED")
