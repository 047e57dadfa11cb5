"""The SQS event source mapping of the local stack (local.streams.QueueConsumer) on moto's SQS, with a
scripted function: the Lambda SQS event shape, partial batch failures, FIFO order per message group."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from moto import mock_aws

from local.runtime import InvokeResult
from local.streams import QueueConsumer
from local.template import QueueTrigger

pytestmark = pytest.mark.unit

REGION = "us-east-1"


@pytest.fixture
def sqs(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for key in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(key, "testing")
    monkeypatch.delenv("AWS_ENDPOINT_URL", raising=False)
    with mock_aws():
        yield boto3.client("sqs", region_name=REGION)


def _fifo(sqs: Any) -> tuple[str, QueueTrigger]:
    url = sqs.create_queue(QueueName="parked.fifo", Attributes={"FifoQueue": "true"})["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, QueueTrigger("Fn", "Parked", arn, batch_size=10, report_batch_item_failures=True)


def _send(sqs: Any, url: str, body: str, group: str) -> None:
    sqs.send_message(QueueUrl=url, MessageBody=body, MessageGroupId=group, MessageDeduplicationId=body)


def test_failed_messages_come_back_and_succeeded_ones_are_deleted(sqs: Any) -> None:
    url, trigger = _fifo(sqs)
    _send(sqs, url, "a1", "a")
    _send(sqs, url, "b1", "b")
    seen: list[tuple[str, str]] = []
    failing = {"a1"}

    def invoke(function_id: str, event: Any) -> InvokeResult:
        failures = []
        for record in event["Records"]:
            assert record["eventSource"] == "aws:sqs" and record["eventSourceARN"] == trigger.queue_arn
            seen.append((record["body"], record["attributes"]["ApproximateReceiveCount"]))
            if record["body"] in failing:
                failing.discard(record["body"])  # fails once, then succeeds
                failures.append({"itemIdentifier": record["messageId"]})
        return InvokeResult(function_id, "r", payload={"batchItemFailures": failures})

    consumer = QueueConsumer(trigger, invoke, sqs)
    assert consumer.poll_once()
    assert not consumer.idle  # a1 is back in the queue
    assert consumer.poll_once()
    assert not consumer.poll_once()
    assert consumer.idle
    assert seen == [("a1", "1"), ("b1", "1"), ("a1", "2")]
    assert consumer.status()["retries"] == 1 and consumer.status()["delivered"] == 2


def test_a_group_comes_back_in_order(sqs: Any) -> None:
    """FIFO: the function fails a1 and the a2 behind it (what SqsFifoPartialProcessor does); both come back,
    in order, while b1 (another group) is done."""
    url, trigger = _fifo(sqs)
    for body, group in (("a1", "a"), ("a2", "a"), ("b1", "b")):
        _send(sqs, url, body, group)
    batches: list[list[str]] = []

    def invoke(function_id: str, event: Any) -> InvokeResult:
        batches.append([r["body"] for r in event["Records"]])
        failed = [r["messageId"] for r in event["Records"] if r["body"] in ("a1", "a2") and len(batches) == 1]
        return InvokeResult(function_id, "r", payload={"batchItemFailures": [{"itemIdentifier": m} for m in failed]})

    consumer = QueueConsumer(trigger, invoke, sqs)
    while consumer.poll_once():
        pass
    assert batches[0] == ["a1", "a2", "b1"]
    assert [body for batch in batches[1:] for body in batch] == ["a1", "a2"]
    assert consumer.idle


def test_an_invocation_error_leaves_every_message_for_a_retry(sqs: Any) -> None:
    url, trigger = _fifo(sqs)
    _send(sqs, url, "a1", "a")
    calls: list[int] = []

    def invoke(function_id: str, event: Any) -> InvokeResult:
        calls.append(len(event["Records"]))
        if len(calls) == 1:
            return InvokeResult(function_id, "r", error={"errorMessage": "boom"})
        return InvokeResult(function_id, "r", payload={"batchItemFailures": []})

    consumer = QueueConsumer(trigger, invoke, sqs)
    while consumer.poll_once():
        pass
    assert calls == [1, 1]
    assert consumer.status()["errors"] == 1 and consumer.idle
