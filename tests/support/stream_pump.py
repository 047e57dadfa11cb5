"""The table's real DynamoDB stream (moto, in-process) delivered to the template's stream consumers.

Like the event source mapping: each trigger's FilterCriteria (local.filtering) and BatchSize apply, and
records arrive in the Lambda shape (local.streams.lambda_record). Used to measure and replay what real
flows produce, instead of hand-written records.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import boto3

from local.filtering import matches_any
from local.streams import lambda_record
from local.template import StreamTrigger
from tests.support.aws import REGION, Stack, template


def consumers() -> list[StreamTrigger]:
    """Every enabled stream trigger of the template."""
    return [t for t in template().stream_triggers() if t.enabled]


def batches(trigger: StreamTrigger, records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The records this trigger's filters keep, cut into its BatchSize."""
    kept = [r for r in records if matches_any(trigger.filter_patterns, r)]
    return [kept[i:i + trigger.batch_size] for i in range(0, len(kept), trigger.batch_size)]


@dataclass
class StreamPump:
    stack: Stack
    _seen: set[str] = field(default_factory=set)
    _last: dict[str, str] = field(default_factory=dict)  # shard id -> sequence number of the last record read

    def __post_init__(self) -> None:
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self.stream_arn = self.stack.dynamodb.describe_table(TableName=self.stack.table_name)["Table"][
            "LatestStreamArn"]

    def new_records(self) -> list[dict[str, Any]]:
        """Records written since the last call: each shard read after the last record read from it, as a
        poller does (from the start the first time), minus any already seen."""
        out: list[dict[str, Any]] = []
        shards = self._streams.describe_stream(StreamArn=self.stream_arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            position: dict[str, str] = (
                {"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": self._last[shard_id]}
                if shard_id in self._last else {"ShardIteratorType": "TRIM_HORIZON"})
            iterator = self._streams.get_shard_iterator(StreamArn=self.stream_arn, ShardId=shard_id,
                                                        **position)["ShardIterator"]
            while iterator:
                page = self._streams.get_records(ShardIterator=iterator, Limit=1000)
                if page["Records"]:
                    self._last[shard_id] = page["Records"][-1]["dynamodb"]["SequenceNumber"]
                fresh = [r for r in page["Records"] if r["dynamodb"]["SequenceNumber"] not in self._seen]
                self._seen.update(r["dynamodb"]["SequenceNumber"] for r in fresh)
                out += [lambda_record(r, self.stream_arn) for r in fresh]
                iterator = page.get("NextShardIterator") if page["Records"] else None
        return out

    def deliver(self, records: list[dict[str, Any]], trigger: StreamTrigger) -> list[Any]:
        """Invoke the trigger's function with each batch; returns the responses."""
        return [self.stack.invoke(trigger.function_id, {"Records": batch}) for batch in batches(trigger, records)]

    def drain(self, rounds: int = 5) -> int:
        """Deliver new records to every consumer until no consumer writes more (cascades); returns records."""
        total = 0
        for _ in range(rounds):
            records = self.new_records()
            if not records:
                return total
            total += len(records)
            for trigger in consumers():
                self.deliver(records, trigger)
        return total
