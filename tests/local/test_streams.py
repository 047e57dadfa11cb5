"""Event source mapping semantics of the stream consumer, with a scripted function (no moto)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import pytest

from local.runtime import InvokeResult
from local.streams import StreamConsumer, _Item, lambda_record
from local.template import Function, StreamTrigger

pytestmark = pytest.mark.unit

STREAM = "arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/1"


def trigger(**overrides: Any) -> StreamTrigger:
    base: dict[str, Any] = {
        "function_id": "Fn",
        "event_id": "Stream",
        "stream_arn": STREAM,
        "batch_size": 10,
        "on_failure_arn": "arn:aws:sqs:us-east-1:123456789012:dlq",
    }
    return StreamTrigger(**{**base, **overrides})


FUNCTION = Function("Fn", "fn", "arn:aws:lambda:us-east-1:123456789012:function:fn", None, "m.h", {}, 3, 128, ())  # type: ignore[arg-type]


def item(seq: int, value: str, kind: str = "job", shard: str = "shard-1") -> _Item:
    record = {
        "eventID": str(seq),
        "eventName": "INSERT",
        "dynamodb": {
            "Keys": {"pk": {"S": f"K{seq}"}},
            "NewImage": {"value": {"S": value}, "kind": {"S": kind}},
            "SequenceNumber": str(100 + seq),
            "ApproximateCreationDateTime": int(time.time()),
        },
    }
    return _Item(shard, lambda_record(record, STREAM))


def values(event: dict[str, Any]) -> list[str]:
    return [r["dynamodb"]["NewImage"]["value"]["S"] for r in event["Records"]]


class Harness:
    """Runs a consumer with a scripted handler; records invocations and failure records."""

    def __init__(self, trig: StreamTrigger, handler: Callable[[dict[str, Any]], Any]) -> None:
        self.calls: list[list[str]] = []
        self.failures: list[dict[str, Any]] = []
        self._handler = handler

        def invoke(function_id: str, event: Any) -> InvokeResult:
            self.calls.append(values(event))
            result = InvokeResult(function_id, f"req-{len(self.calls)}")
            try:
                result.payload = self._handler(event)
            except Exception as exc:
                result.error = {"errorType": type(exc).__name__, "errorMessage": str(exc)}
            return result

        self.consumer = StreamConsumer(
            trig,
            FUNCTION,
            invoke,
            lambda dest, rec: self.failures.append({"destination": dest, **rec}),
            retry_base_delay_s=0.001,
        )

    def run(self, items: list[_Item], timeout: float = 5.0) -> None:
        self.consumer.start()
        self.consumer.offer(items)
        deadline = time.monotonic() + timeout
        while not self.consumer.idle and time.monotonic() < deadline:
            time.sleep(0.01)
        self.consumer.stop()
        assert self.consumer.idle


def report_poison(event: dict[str, Any]) -> dict[str, Any]:
    failures = [
        {"itemIdentifier": r["dynamodb"]["SequenceNumber"]}
        for r in event["Records"]
        if r["dynamodb"]["NewImage"]["value"]["S"] == "poison"
    ]
    return {"batchItemFailures": failures}


def test_partial_failure_retries_from_the_failed_record_then_goes_to_on_failure() -> None:
    harness = Harness(trigger(report_batch_item_failures=True, maximum_retry_attempts=2), report_poison)
    harness.run([item(1, "a"), item(2, "b"), item(3, "poison"), item(4, "c")])
    # first delivery has everything; each retry starts at the poison record (checkpoint)
    assert harness.calls == [["a", "b", "poison", "c"], ["poison", "c"], ["poison", "c"]]
    [failure] = harness.failures
    assert failure["destination"] == "arn:aws:sqs:us-east-1:123456789012:dlq"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert failure["requestContext"]["functionArn"] == FUNCTION.arn
    info = failure["DDBStreamBatchInfo"]
    assert (info["startSequenceNumber"], info["endSequenceNumber"], info["batchSize"]) == ("103", "104", 2)
    assert info["streamArn"] == STREAM
    assert info["shardId"] == "shard-1"
    assert harness.consumer.stats.sent_to_on_failure == 2


def test_partial_response_is_ignored_without_report_batch_item_failures() -> None:
    harness = Harness(trigger(maximum_retry_attempts=0), report_poison)
    harness.run([item(1, "a"), item(2, "poison")])
    assert harness.calls == [["a", "poison"]]
    assert harness.failures == []


def test_error_with_bisect_isolates_the_bad_record() -> None:
    def crash_on_boom(event: dict[str, Any]) -> None:
        if "boom" in values(event):
            raise ValueError("boom")

    harness = Harness(trigger(bisect_on_error=True, maximum_retry_attempts=1), crash_on_boom)
    harness.run([item(1, "a"), item(2, "b"), item(3, "boom"), item(4, "c")])
    assert harness.calls[0] == ["a", "b", "boom", "c"]
    assert ["a", "b"] in harness.calls
    assert ["c"] in harness.calls
    assert harness.calls.count(["boom"]) == 2  # first try + one retry
    [failure] = harness.failures
    assert failure["DDBStreamBatchInfo"]["batchSize"] == 1
    assert failure["DDBStreamBatchInfo"]["startSequenceNumber"] == "103"
    assert failure["responseContext"]["functionError"] == "Unhandled"


def test_error_without_bisect_retries_the_whole_batch() -> None:
    def always_fail(event: dict[str, Any]) -> None:
        raise RuntimeError("down")

    harness = Harness(trigger(maximum_retry_attempts=2), always_fail)
    harness.run([item(1, "a"), item(2, "b")])
    assert harness.calls == [["a", "b"]] * 3
    assert harness.failures[0]["DDBStreamBatchInfo"]["batchSize"] == 2


def test_filters_drop_records_and_batch_size_splits() -> None:
    pattern = {"dynamodb": {"NewImage": {"kind": {"S": ["job"]}}}}
    harness = Harness(trigger(batch_size=2, filter_patterns=(pattern,)), lambda event: None)
    harness.run([item(1, "a"), item(2, "x", kind="lead"), item(3, "b"), item(4, "c")])
    assert harness.calls == [["a", "b"], ["c"]]
    assert harness.consumer.stats.filtered_out == 1
    assert harness.consumer.stats.delivered == 3


def test_batches_never_mix_shards() -> None:
    harness = Harness(trigger(), lambda event: None)
    harness.run([item(1, "a", shard="s1"), item(2, "b", shard="s2"), item(3, "c", shard="s2")])
    assert harness.calls == [["a"], ["b", "c"]]


def test_a_failing_consumer_does_not_block_another() -> None:
    def stuck(event: dict[str, Any]) -> None:
        raise RuntimeError("always")

    failing = Harness(trigger(maximum_retry_attempts=-1), stuck)
    healthy = Harness(trigger(function_id="Other"), lambda event: None)
    failing.consumer.start()
    failing.consumer.offer([item(1, "a")])
    healthy.run([item(1, "a"), item(2, "b")])
    assert healthy.calls == [["a", "b"]]
    assert not failing.consumer.idle  # still retrying forever (MaximumRetryAttempts -1)
    failing.consumer.stop()


def test_record_age_limit_sends_old_records_to_on_failure() -> None:
    old = item(1, "old")
    old.record["dynamodb"]["ApproximateCreationDateTime"] = int(time.time()) - 100
    harness = Harness(trigger(maximum_record_age_s=60), lambda event: None)
    harness.run([old, item(2, "new")])
    assert harness.calls == [["new"]]
    assert harness.failures[0]["requestContext"]["condition"] == "RecordAgeExceeded"


def test_lambda_record_shape() -> None:
    import datetime as dt

    raw = {
        "eventID": "e1",
        "eventName": "MODIFY",
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": "us-east-1",
        "dynamodb": {
            "ApproximateCreationDateTime": dt.datetime(2024, 1, 1, tzinfo=dt.UTC),
            "Keys": {"pk": {"S": "a"}},
            "NewImage": {"pk": {"S": "a"}, "blob": {"B": b"\x00\x01"}, "set": {"BS": [b"\x02"]}},
            "SequenceNumber": "1",
            "SizeBytes": 10,
            "StreamViewType": "NEW_AND_OLD_IMAGES",
        },
    }
    record = lambda_record(raw, STREAM)
    assert record["eventSourceARN"] == STREAM
    assert record["dynamodb"]["ApproximateCreationDateTime"] == 1704067200
    assert record["dynamodb"]["NewImage"]["blob"] == {"B": "AAE="}
    assert record["dynamodb"]["NewImage"]["set"] == {"BS": ["Ag=="]}
