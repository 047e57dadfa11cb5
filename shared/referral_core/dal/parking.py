"""Parked stream changes: a consumer's change that failed in the dispatcher waits in a FIFO queue.

A parked change is two things. An entry in the one ``STREAM#PARKED`` / ``WAITING`` item, a string set of
``{consumer}#{item}#{seq}#{epoch the change was made}`` (the same entry however often a replay parks it):
with one consistent GetItem per batch the dispatcher sees which items a consumer is waiting on and keeps
that item's later changes behind it. And a message in the FIFO queue (group = consumer + item: the queue
keeps one item's changes in order, and a failing item holds up only its own group). The entry is added
first, so a message is never handled before its entry exists, and handling it deletes exactly that entry
(the message carries it). An entry for a change older than the queue's retention (14 days) is ignored: a
parked change is given up within minutes, and an entry outlives its message only if the send was lost
after the entry was added, so no item stays parked for good.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from referral_core.clock import epoch, iso, now
from referral_core.dal.aws import client
from referral_core.dal.dynamo import Table, translate
from referral_core.errors import Unavailable

PARKED_KEY = ("STREAM#PARKED", "WAITING")
#: The parked-changes queue keeps a message 14 days (MessageRetentionPeriod): no older change can still wait.
ENTRY_TTL = timedelta(days=14)
_SEND_BATCH = 10  # SQS SendMessageBatch limit


def item_key(record: Mapping[str, Any]) -> str:
    """A short stable id of the item a stream record changed (its key attributes)."""
    keys = record.get("dynamodb", {}).get("Keys", {})
    text = json.dumps(keys, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def sequence(record: Mapping[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


@dataclass(frozen=True)
class ParkedChange:
    consumer: str
    record: dict[str, Any]
    reason: str
    #: Its entry in the WAITING set (set when parked; a message from the queue carries it back).
    entry: str = field(default="")

    @property
    def key(self) -> str:
        return item_key(self.record)

    def with_entry(self) -> ParkedChange:
        made = int(self.record["dynamodb"].get("ApproximateCreationDateTime") or epoch())
        entry = f"{self.consumer}#{self.key}#{sequence(self.record)}#{made}"
        return ParkedChange(self.consumer, self.record, self.reason, entry)

    def message(self) -> dict[str, Any]:
        return {"consumer": self.consumer, "record": self.record, "entry": self.entry, "reason": self.reason}

    @classmethod
    def of_message(cls, body: Mapping[str, Any]) -> ParkedChange:
        return cls(str(body["consumer"]), dict(body["record"]), str(body.get("reason", "")), str(body["entry"]))


class ParkedChanges:
    """The WAITING set and the FIFO queue of parked changes, and the on-failure queue for given-up ones."""

    def __init__(self, table: Table, queue_url: str, failure_queue_url: str) -> None:
        self.table = table
        self.queue_url = queue_url
        self.failure_queue_url = failure_queue_url

    def waiting(self) -> set[tuple[str, str]]:
        """(consumer, item key) of every parked change (a consistent read: the last batch's parking counts)."""
        item = self.table.get(*PARKED_KEY, consistent=True) or {}
        oldest = epoch(now() - ENTRY_TTL)
        out: set[tuple[str, str]] = set()
        for entry in item.get("changes", ()):
            consumer, key, _, made = str(entry).rsplit("#", 3)
            if int(made) >= oldest:
                out.add((consumer, key))
        return out

    def park(self, changes: Sequence[ParkedChange]) -> list[ParkedChange]:
        """Entries first, then the messages (in the order given: per item, the order of the stream)."""
        parked = [c.with_entry() for c in changes]
        self.table.update(*PARKED_KEY, "ADD changes :entries SET #type = :type",
                          names={"#type": "type"},
                          values={":entries": {c.entry for c in parked}, ":type": "parked_changes"})
        for start in range(0, len(parked), _SEND_BATCH):
            chunk = parked[start:start + _SEND_BATCH]
            entries = [{
                "Id": str(n),
                "MessageBody": json.dumps(c.message()),
                "MessageGroupId": f"{c.consumer}-{c.key}",
                "MessageDeduplicationId": f"{c.consumer}-{sequence(c.record)}",
            } for n, c in enumerate(chunk)]
            try:
                out = client("sqs").send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:
                raise translate(exc) from exc
            if out.get("Failed"):
                raise Unavailable(f"SQS refused {len(out['Failed'])} parked change(s)", retry_after=1)
        return parked

    def release(self, change: ParkedChange) -> None:
        """The change was handled (or given up): its item is no longer waiting on it."""
        self.table.update(*PARKED_KEY, "DELETE changes :entry SET #type = :type", names={"#type": "type"},
                          values={":entry": {change.entry}, ":type": "parked_changes"})

    def give_up(self, change: ParkedChange, attempts: int) -> None:
        """Send the change to the on-failure queue (what the stream's OnFailure gets, plus the record itself)."""
        body = {
            "requestContext": {"condition": "RetryAttemptsExhausted", "approximateInvokeCount": attempts,
                               "consumer": change.consumer},
            "version": "1.0",
            "timestamp": iso(),
            "DDBStreamBatchInfo": {"startSequenceNumber": sequence(change.record),
                                   "endSequenceNumber": sequence(change.record), "batchSize": 1,
                                   "streamArn": change.record.get("eventSourceARN")},
            "record": change.record,
            "reason": change.reason,
        }
        try:
            client("sqs").send_message(QueueUrl=self.failure_queue_url, MessageBody=json.dumps(body))
        except Exception as exc:
            raise translate(exc) from exc
        self.release(change)
