"""Once-only markers for outgoing notifications (a stream replay must never email twice)."""

from __future__ import annotations

from contextlib import suppress
from datetime import UTC, datetime

from referral_core.clock import epoch, iso
from referral_core.dal.dynamo import ConditionFailed, Delete, Item, Put, Table, Update
from referral_core.dal.rates import Window, count_hit

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


# -- stage digests (docs/portal.md, "Stage email digest") ---------------------------------------------
DIGEST_QUEUE = "DIGEST#DUE"
ENTRY_PREFIX = "STAGE#"
ENTRY_DAYS = 30
MAX_PER_DIGEST = 99  # entries per digest and transaction (DynamoDB: 100 operations, one is the head)


def digest_pk(referrer_id: str) -> str:
    return f"DIGEST#{referrer_id}"


class StageEmailLimit:
    """Stage emails of a referrer per clock hour (a ``rate`` item) and the programme's limit for it."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def max_per_hour(self, default: int) -> int:
        """``rules.notifications.max_stage_emails_per_hour`` of the saved programme, else ``default``."""
        program = self.table.get("PROGRAM", "CURRENT", consistent=True) or {}
        value = ((program.get("rules") or {}).get("notifications") or {}).get("max_stage_emails_per_hour")
        return int(value) if value else default

    def count(self, referrer_id: str) -> tuple[int, str]:
        """Count one stage email in this hour's window; returns the count and when the window ends (ISO)."""
        window = Window.current("stage-email", referrer_id, 3600)
        return count_hit(self.table, window), iso(datetime.fromtimestamp(window.expires_epoch, UTC))


class DigestQueue:
    """Stage changes waiting for a referrer's digest: ``DIGEST#{referrer_id}`` / ``STAGE#{lead_id}#{stage}``
    entries beside a ``DUE`` head on the sparse gsi2 ``DIGEST#DUE`` (sk ``{due_at}#{referrer_id}``)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, referrer_id: str, entry: Item, *, due_at: str) -> None:
        """Queue ``entry`` (``lead_id``, ``stage``...) once; the head keeps the first ``due_at``."""
        pk = digest_pk(referrer_id)
        sk = f"{ENTRY_PREFIX}{entry['lead_id']}#{entry['stage']}"
        try:
            self.table.transact([
                Put({"pk": pk, "sk": sk, "type": "digest_entry", "referrer_id": referrer_id, **entry,
                     "expiration": epoch() + ENTRY_DAYS * 86400}, condition="attribute_not_exists(pk)"),
                Update(key={"pk": pk, "sk": "DUE"},
                       expression=("SET #type = :type, referrer_id = :referrer, gsi2pk = :queue, "
                                   "gsi2sk = if_not_exists(gsi2sk, :order), due_at = if_not_exists(due_at, :due) "
                                   "ADD pending :one"),
                       names={"#type": "type"},
                       values={":type": "digest", ":referrer": referrer_id, ":queue": DIGEST_QUEUE,
                               ":order": f"{due_at}#{referrer_id}", ":due": due_at, ":one": 1}),
            ])
        except ConditionFailed as exc:
            if exc.failed_index() != 0:
                raise  # the entry exists already: a replay, nothing to add

    def due(self, now: str, *, limit: int = 100) -> list[Item]:
        """Heads of digests due by ``now``, oldest first."""
        return self.table.query("gsi2pk = :queue AND gsi2sk <= :now",
                                {":queue": DIGEST_QUEUE, ":now": f"{now}#\uffff"}, index="gsi2",
                                limit=limit).items

    def entries(self, referrer_id: str) -> list[Item]:
        return self.table.partition(digest_pk(referrer_id), sk_prefix=ENTRY_PREFIX, consistent=True)[:MAX_PER_DIGEST]

    def claim(self, entries: list[Item], digest_id: str, *, at: str) -> bool:
        """Mark ``entries`` as going out in ``digest_id``, all or none (False: another run has them)."""
        try:
            self.table.transact([
                Update(key={"pk": e["pk"], "sk": e["sk"]}, expression="SET digest_id = :id, claimed_at = :at",
                       condition="attribute_exists(pk) AND attribute_not_exists(digest_id)",
                       values={":id": digest_id, ":at": at}) for e in entries])
        except ConditionFailed:
            return False
        return True

    def unclaim(self, entries: list[Item]) -> None:
        """Give entries back after a failed send, for the next run."""
        self.table.transact([Update(key={"pk": e["pk"], "sk": e["sk"]},
                                    expression="REMOVE digest_id, claimed_at") for e in entries])

    def finish(self, referrer_id: str, entries: list[Item]) -> None:
        """Delete sent entries; the head goes too unless entries arrived meanwhile (then the next run)."""
        pk = digest_pk(referrer_id)
        if entries:
            self.table.transact([
                *(Delete(key={"pk": e["pk"], "sk": e["sk"]}) for e in entries),
                Update(key={"pk": pk, "sk": "DUE"}, expression="ADD pending :minus",
                       values={":minus": -len(entries)}),
            ])
        with suppress(ConditionFailed):
            self.table.transact([Delete(key={"pk": pk, "sk": "DUE"}, condition="pending <= :zero",
                                        values={":zero": 0})])
