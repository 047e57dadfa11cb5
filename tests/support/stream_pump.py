"""The table's real DynamoDB stream (moto, in-process) delivered to the stream's consumers.

Like the event source mapping: the stream reader's FilterCriteria (referral_core.event_filters) and
BatchSize apply, then each consumer's route (its patterns and batch size), and records arrive in the Lambda
shape (local.streams.lambda_record). Used to measure and replay what real flows produce, instead of
hand-written records.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from dataclasses import dataclass, field
from functools import cache
from typing import Any

import boto3

from local.streams import lambda_record
from local.template import StreamTrigger
from referral_core.event_filters import matches_any
from referral_core.streams import Route
from tests.support.aws import REGION, STREAM_READER, Stack, template


@cache
def consumers() -> tuple[Route, ...]:
    """Every consumer (route) of the stream's reader, in its order."""
    fn = template().functions[STREAM_READER]
    spec = importlib.util.spec_from_file_location("_stream_routes", fn.code_uri / f"{fn.module}.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return tuple(module.ROUTES)


def readers() -> list[StreamTrigger]:
    """The template's event source mappings on the table's stream."""
    return list(template().stream_triggers())


def batches(route: Route, records: list[dict[str, Any]]) -> list[list[dict[str, Any]]]:
    """The records this consumer's route keeps (after the reader's filters), cut into its batch size."""
    (reader,) = readers()
    kept = [r for r in records if matches_any(reader.filter_patterns, r) and route.wants(r)]
    return [kept[i:i + route.batch_size] for i in range(0, len(kept), route.batch_size)]


@dataclass
class StreamPump:
    stack: Stack
    _seen: set[str] = field(default_factory=set)
    _last: dict[str, str] = field(default_factory=dict)  # shard id -> sequence number of the last record read

    def __post_init__(self) -> None:
        self._streams = boto3.client("dynamodbstreams", region_name=REGION)
        self._sqs = boto3.client("sqs", region_name=REGION)
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

    def deliver(self, records: list[dict[str, Any]], route: Route) -> list[Any]:
        """Run one consumer on each of its batches; returns the responses."""
        return [self.stack.consume(route.name, {"Records": batch}) for batch in batches(route, records)]

    def dispatch(self, records: list[dict[str, Any]]) -> list[Any]:
        """What the stream's reader gets: its filters and BatchSize, every consumer in one invocation."""
        (reader,) = readers()
        kept = [r for r in records if matches_any(reader.filter_patterns, r)]
        size = reader.batch_size
        return [self.stack.invoke(STREAM_READER, {"Records": kept[i:i + size]}) for i in range(0, len(kept), size)]

    def parked_queue_url(self) -> str:
        return str(self.stack.env["PARKED_QUEUE_URL"])

    def redeliver_parked(self) -> list[Any]:
        """Give the reader what waits in the parked-changes queue (as its SQS event source would); the
        messages it reports failed become visible again at once, the others are deleted."""
        url = self.parked_queue_url()
        out = self._sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["All"])
        messages = out.get("Messages", [])
        if not messages:
            return []
        event = {"Records": [{"messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
                              "attributes": m.get("Attributes", {}), "eventSource": "aws:sqs",
                              "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:parked.fifo"}
                             for m in messages]}
        response = self.stack.invoke(STREAM_READER, event)
        failed = {f["itemIdentifier"] for f in response["batchItemFailures"]}
        for m in messages:
            if m["MessageId"] in failed:
                self._sqs.change_message_visibility(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"],
                                                    VisibilityTimeout=0)
            else:
                self._sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])
        return [response]

    def parked(self) -> list[dict[str, Any]]:
        """The bodies waiting in the parked-changes queue (left there)."""
        out = self._sqs.receive_message(QueueUrl=self.parked_queue_url(), MaxNumberOfMessages=10,
                                        VisibilityTimeout=0)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]

    def drain(self, rounds: int = 5) -> int:
        """Deliver new records through the stream's reader until no consumer writes more (cascades)."""
        total = 0
        for _ in range(rounds):
            records = self.new_records()
            if not records:
                return total
            total += len(records)
            self.dispatch(records)
        return total
