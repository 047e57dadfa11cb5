"""Parked stream changes: a consumer's change that failed in the dispatcher waits in a FIFO queue.

A parked change is two things: a marker item in the table (``STREAM#PARKED`` / ``{consumer}#{item}#{seq}``,
so the dispatcher can see, with one consistent Query per batch, which items a consumer is waiting on and
keep that item's later changes behind it) and a message in the FIFO queue (group = consumer + item, so
the queue keeps one item's changes in order and a failing item holds up only its own group). The marker
is written first: a message is never processed before its marker exists, so no marker outlives its
message (except when SQS' five-minute deduplication drops a re-sent message; markers expire after two
days, the table's TTL, so an item never stays parked for good).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from referral_core.clock import epoch, iso, now
from referral_core.dal.aws import client
from referral_core.dal.dynamo import ConditionFailed, Table, translate
from referral_core.errors import Unavailable

PARKED_PK = "STREAM#PARKED"
MARKER_TTL = timedelta(days=2)
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

    @property
    def key(self) -> str:
        return item_key(self.record)

    @property
    def sk(self) -> str:
        return f"{self.consumer}#{self.key}#{sequence(self.record)}"


class ParkedChanges:
    """The marker items and the FIFO queue of parked changes, and the on-failure queue for given-up ones."""

    def __init__(self, table: Table, queue_url: str, failure_queue_url: str) -> None:
        self.table = table
        self.queue_url = queue_url
        self.failure_queue_url = failure_queue_url

    def waiting(self) -> set[tuple[str, str]]:
        """(consumer, item key) of every parked change (a consistent read: the last batch's parking counts)."""
        return {(str(i["consumer"]), str(i["item_key"])) for i in self.table.partition(PARKED_PK, consistent=True)}

    def park(self, changes: Sequence[ParkedChange]) -> None:
        """Marker first, then the message (in the order given: per item, the order of the stream)."""
        expires = epoch(now() + MARKER_TTL)
        for change in changes:
            # A replayed batch parks the same change again: the first marker stays as it was.
            with suppress(ConditionFailed):
                self.table.put({"pk": PARKED_PK, "sk": change.sk, "type": "parked_change",
                                "consumer": change.consumer, "item_key": change.key,
                                "sequence": sequence(change.record), "reason": change.reason, "parked_at": iso(),
                                "expiration": expires}, condition="attribute_not_exists(pk)")
        for start in range(0, len(changes), _SEND_BATCH):
            chunk = changes[start:start + _SEND_BATCH]
            entries = [{
                "Id": str(n),
                "MessageBody": json.dumps({"consumer": c.consumer, "record": c.record}),
                "MessageGroupId": f"{c.consumer}-{c.key}",
                "MessageDeduplicationId": f"{c.consumer}-{sequence(c.record)}",
            } for n, c in enumerate(chunk)]
            try:
                out = client("sqs").send_message_batch(QueueUrl=self.queue_url, Entries=entries)
            except Exception as exc:
                raise translate(exc) from exc
            if out.get("Failed"):
                raise Unavailable(f"SQS refused {len(out['Failed'])} parked change(s)", retry_after=1)

    def release(self, change: ParkedChange) -> None:
        """The change was handled (or given up): its item is no longer waiting on it."""
        self.table.delete(PARKED_PK, change.sk)

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
