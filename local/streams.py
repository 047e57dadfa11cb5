"""DynamoDB Streams and SQS -> Lambda event source mappings, emulated on moto.

One reader thread polls every stream that has consumers (iterators taken at LATEST when it starts; shards
that appear later are read from TRIM_HORIZON). Each record is turned into the Lambda event shape and
handed to every consumer (one per DynamoDB event in the template) whose FilterCriteria match it. Each
consumer has its own queue and thread, so one consumer's failures never hold up another, and records of
a shard are delivered in order. Batches honour BatchSize, MaximumBatchingWindowInSeconds (capped),
ReportBatchItemFailures, BisectBatchOnFunctionError, MaximumRetryAttempts, MaximumRecordAgeInSeconds and
an SQS OnFailure destination, like the Lambda service.

An SQS event (:class:`QueueConsumer`) polls its queue (FIFO queues keep a message group in order: moto
holds back a group while one of its messages is in flight), invokes the function with the Lambda SQS
event and deletes what succeeded (ReportBatchItemFailures); a failed message comes back after a short
delay instead of the queue's visibility timeout, as retry delays are capped here.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import threading
import time
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from local.runtime import InvokeResult
from local.template import REGION, Function, QueueTrigger, StreamTrigger
from referral_core.event_filters import matches_any

log = logging.getLogger("local.streams")

MAX_BATCHING_WINDOW_S = 1.0
POLL_INTERVAL_S = 0.1
SHARD_REFRESH_S = 2.0

Invoke = Callable[[str, Any], InvokeResult]


def _jsonable(value: Any) -> Any:
    """boto3's stream record -> the JSON Lambda receives (binary as base64, times as epoch seconds)."""
    if isinstance(value, bytes | bytearray):
        return base64.b64encode(bytes(value)).decode()
    if isinstance(value, dt.datetime):
        return int(value.timestamp())
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | set | tuple):
        return [_jsonable(v) for v in value]
    return value


def lambda_record(record: Mapping[str, Any], stream_arn: str) -> dict[str, Any]:
    """One DynamoDB stream record in the shape of a Lambda DynamoDB event record."""
    out = _jsonable(dict(record))
    out.setdefault("eventSource", "aws:dynamodb")
    out.setdefault("eventVersion", "1.1")
    out.setdefault("awsRegion", REGION)
    out["eventSourceARN"] = stream_arn
    return out  # type: ignore[no-any-return]


@dataclass
class _Item:
    shard_id: str
    record: dict[str, Any]
    arrived: float = field(default_factory=time.time)

    @property
    def sequence(self) -> str:
        return str(self.record["dynamodb"]["SequenceNumber"])


@dataclass
class ConsumerStats:
    delivered: int = 0
    filtered_out: int = 0
    invocations: int = 0
    errors: int = 0
    retries: int = 0
    sent_to_on_failure: int = 0


class StreamConsumer:
    """The event source mapping of one function event on one stream."""

    def __init__(
        self,
        trigger: StreamTrigger,
        function: Function,
        invoke: Invoke,
        send_failure: Callable[[str, dict[str, Any]], None],
        *,
        retry_base_delay_s: float = 0.05,
    ) -> None:
        self.trigger = trigger
        self.function = function
        self._invoke = invoke
        self._send_failure = send_failure
        self._retry_base_delay_s = retry_base_delay_s
        self._pending: deque[_Item] = deque()
        self._in_flight = 0
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self.stats = ConsumerStats()
        self._thread = threading.Thread(
            target=self._run, daemon=True, name=f"consumer-{trigger.function_id}-{trigger.event_id}"
        )

    @property
    def name(self) -> str:
        return f"{self.trigger.function_id}.{self.trigger.event_id}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        self._thread.join(timeout=5)

    def offer(self, items: Iterable[_Item]) -> None:
        """Queue the records that pass this consumer's FilterCriteria (the others are dropped)."""
        kept = []
        for item in items:
            if matches_any(self.trigger.filter_patterns, item.record):
                kept.append(item)
            else:
                self.stats.filtered_out += 1
        if kept:
            with self._cond:
                self._pending.extend(kept)
                self._cond.notify_all()

    @property
    def idle(self) -> bool:
        with self._cond:
            return not self._pending and self._in_flight == 0

    def status(self) -> dict[str, Any]:
        with self._cond:
            pending, in_flight = len(self._pending), self._in_flight
        return {
            "function": self.trigger.function_id,
            "event": self.trigger.event_id,
            "stream_arn": self.trigger.stream_arn,
            "batch_size": self.trigger.batch_size,
            "filters": list(self.trigger.filter_patterns),
            "pending": pending,
            "in_flight": in_flight,
            **vars(self.stats),
        }

    # ------------------------------------------------------------------ delivery

    def _next_batch(self) -> list[_Item] | None:
        size = self.trigger.batch_size
        window = min(self.trigger.batching_window_s, MAX_BATCHING_WINDOW_S)
        with self._cond:
            while not self._pending and not self._stop.is_set():
                self._cond.wait(timeout=0.5)
            if self._stop.is_set():
                return None
            deadline = time.monotonic() + window
            while len(self._pending) < size and not self._stop.is_set():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self._cond.wait(timeout=remaining)
            shard = self._pending[0].shard_id
            batch: list[_Item] = []
            while self._pending and len(batch) < size and self._pending[0].shard_id == shard:
                batch.append(self._pending.popleft())
            self._in_flight = len(batch)
            return batch

    def _run(self) -> None:
        while not self._stop.is_set():
            batch = self._next_batch()
            if batch is None:
                return
            try:
                self._process(batch)
            except Exception:  # the mapping must survive anything (e.g. a bad destination)
                log.exception("%s: batch processing failed", self.name)
            finally:
                with self._cond:
                    self._in_flight = 0
                    self._cond.notify_all()

    def _process(self, batch: list[_Item]) -> None:
        """Deliver one batch until it succeeds, is split, or runs out of retries."""
        attempts = 0
        while batch and not self._stop.is_set():
            batch = self._drop_expired(batch)
            if not batch:
                return
            with self._cond:
                self._in_flight = len(batch)
            event = {"Records": [item.record for item in batch]}
            result = self._invoke(self.trigger.function_id, event)
            attempts += 1
            self.stats.invocations += 1
            if result.ok:
                failed_at = self._first_failure(batch, result.payload)
                if failed_at is None:
                    self.stats.delivered += len(batch)
                    return
                self.stats.delivered += failed_at
                batch = batch[failed_at:]
            else:
                self.stats.errors += 1
                log.warning("%s: invocation failed: %s", self.name, (result.error or {}).get("errorMessage"))
                if self.trigger.bisect_on_error and len(batch) > 1:
                    middle = len(batch) // 2
                    self._process(batch[:middle])
                    self._process(batch[middle:])
                    return
            retries_done = attempts - 1
            if 0 <= self.trigger.maximum_retry_attempts <= retries_done:
                self._give_up(batch, result, attempts, "RetryAttemptsExhausted")
                return
            self.stats.retries += 1
            self._stop.wait(min(1.0, self._retry_base_delay_s * 2 ** min(retries_done, 5)))

    def _first_failure(self, batch: list[_Item], payload: Any) -> int | None:
        """Index of the first failed record per ReportBatchItemFailures (None: all succeeded)."""
        if not self.trigger.report_batch_item_failures or not isinstance(payload, dict):
            return None
        failures = payload.get("batchItemFailures")
        if not failures:
            return None
        sequences = [item.sequence for item in batch]
        indexes = []
        for failure in failures:
            identifier = failure.get("itemIdentifier") if isinstance(failure, dict) else None
            if not identifier or identifier not in sequences:
                return 0  # an invalid identifier fails the whole batch, as on Lambda
            indexes.append(sequences.index(identifier))
        return min(indexes)

    def _drop_expired(self, batch: list[_Item]) -> list[_Item]:
        max_age = self.trigger.maximum_record_age_s
        if max_age < 0:
            return batch
        now = time.time()
        expired = [i for i in batch if now - i.record["dynamodb"].get("ApproximateCreationDateTime", now) > max_age]
        if expired:
            self._give_up(expired, None, 0, "RecordAgeExceeded")
        return [i for i in batch if i not in expired]

    def _give_up(self, batch: list[_Item], result: InvokeResult | None, attempts: int, condition: str) -> None:
        log.warning("%s: %s for %d record(s)", self.name, condition, len(batch))
        destination = self.trigger.on_failure_arn
        if not destination:
            return
        first, last = batch[0], batch[-1]
        record = {
            "requestContext": {
                "requestId": result.request_id if result else str(uuid.uuid4()),
                "functionArn": self.function.arn,
                "condition": condition,
                "approximateInvokeCount": attempts,
            },
            "responseContext": {
                "statusCode": 200,
                "executedVersion": "$LATEST",
                "functionError": "Unhandled" if result is not None and not result.ok else None,
            },
            "version": "1.0",
            "timestamp": dt.datetime.now(dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "DDBStreamBatchInfo": {
                "shardId": first.shard_id,
                "startSequenceNumber": first.sequence,
                "endSequenceNumber": last.sequence,
                "approximateArrivalOfFirstRecord": _iso(first.arrived),
                "approximateArrivalOfLastRecord": _iso(last.arrived),
                "batchSize": len(batch),
                "streamArn": self.trigger.stream_arn,
            },
        }
        self._send_failure(destination, record)
        self.stats.sent_to_on_failure += len(batch)


def _iso(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class QueueConsumer:
    """The event source mapping of one SQS event: poll, invoke, delete what succeeded."""

    RETRY_DELAY_S = 0  # a failed message is visible again at once (Lambda waits the visibility timeout)

    def __init__(self, trigger: QueueTrigger, invoke: Invoke, sqs_client: Any) -> None:
        self.trigger = trigger
        self._invoke = invoke
        self._sqs = sqs_client
        self._url = sqs_client.get_queue_url(QueueName=trigger.queue_arn.rsplit(":", 1)[1])["QueueUrl"]
        self._busy = False
        self._stop = threading.Event()
        self.stats = ConsumerStats()
        self._thread = threading.Thread(target=self._run, daemon=True,
                                        name=f"queue-{trigger.function_id}-{trigger.event_id}")

    @property
    def name(self) -> str:
        return f"{self.trigger.function_id}.{self.trigger.event_id}"

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    @property
    def idle(self) -> bool:
        if self._busy:
            return False
        attrs = self._sqs.get_queue_attributes(
            QueueUrl=self._url, AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
        )["Attributes"]
        return all(int(v) == 0 for v in attrs.values())

    def status(self) -> dict[str, Any]:
        return {"function": self.trigger.function_id, "event": self.trigger.event_id,
                "queue_arn": self.trigger.queue_arn, "batch_size": self.trigger.batch_size, "busy": self._busy,
                **vars(self.stats)}

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self.poll_once():
                    self._stop.wait(POLL_INTERVAL_S)
            except Exception:  # the mapping must survive anything
                log.exception("%s: queue poll failed", self.name)
                self._stop.wait(1.0)

    def poll_once(self) -> bool:
        """One receive and invocation; False when the queue had nothing visible."""
        self._busy = True
        try:
            messages = self._sqs.receive_message(
                QueueUrl=self._url, MaxNumberOfMessages=min(self.trigger.batch_size, 10),
                AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
            if not messages:
                return False
            event = {"Records": [self._record(m) for m in messages]}
            result = self._invoke(self.trigger.function_id, event)
            self.stats.invocations += 1
            failed = {m["MessageId"] for m in messages}
            if result.ok:
                failures = (result.payload or {}).get("batchItemFailures") if isinstance(result.payload, dict) else []
                reported = {f.get("itemIdentifier") for f in failures or [] if isinstance(f, dict)}
                failed = reported if self.trigger.report_batch_item_failures else set()
            else:
                self.stats.errors += 1
                log.warning("%s: invocation failed: %s", self.name, (result.error or {}).get("errorMessage"))
            for message in messages:
                if message["MessageId"] in failed:
                    self.stats.retries += 1
                    self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                        VisibilityTimeout=self.RETRY_DELAY_S)
                else:
                    self.stats.delivered += 1
                    self._sqs.delete_message(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"])
            return True
        finally:
            self._busy = False

    def _record(self, message: Mapping[str, Any]) -> dict[str, Any]:
        return {
            "messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"], "body": message["Body"],
            "attributes": dict(message.get("Attributes", {})),
            "messageAttributes": dict(message.get("MessageAttributes", {})),
            "md5OfBody": message.get("MD5OfBody"), "eventSource": "aws:sqs",
            "eventSourceARN": self.trigger.queue_arn, "awsRegion": REGION,
        }


class StreamPoller:
    """Reads every consumed stream and fans records out to the consumers; runs the queue consumers too."""

    def __init__(self, streams_client: Any, consumers: Iterable[StreamConsumer],
                 queue_consumers: Iterable[QueueConsumer] = ()) -> None:
        self._client = streams_client
        self.consumers = list(consumers)
        self.queue_consumers = list(queue_consumers)
        self._by_stream: dict[str, list[StreamConsumer]] = {}
        for consumer in self.consumers:
            self._by_stream.setdefault(consumer.trigger.stream_arn, []).append(consumer)
        self._iterators: dict[tuple[str, str], str | None] = {}
        self._passes = 0
        self._pass_cond = threading.Condition()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True, name="stream-poller")
        self._last_refresh = 0.0

    def start(self) -> None:
        """Take LATEST iterators now (so earlier writes are not delivered), then start polling."""
        self._refresh_shards(initial=True)
        for consumer in [*self.consumers, *self.queue_consumers]:
            consumer.start()
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        for consumer in [*self.consumers, *self.queue_consumers]:
            consumer.stop()

    def _refresh_shards(self, initial: bool = False) -> None:
        self._last_refresh = time.monotonic()
        for stream_arn in list(self._by_stream):
            try:
                description = self._client.describe_stream(StreamArn=stream_arn)["StreamDescription"]
            except self._client.exceptions.ResourceNotFoundException:
                names = ", ".join(c.name for c in self._by_stream.pop(stream_arn))
                log.error("no stream %s (a StreamSpecification missing on the table?); %s disabled", stream_arn, names)
                continue
            for shard in description.get("Shards", []):
                key = (stream_arn, shard["ShardId"])
                if key in self._iterators:
                    continue
                closed = "EndingSequenceNumber" in shard.get("SequenceNumberRange", {})
                if initial and closed:
                    self._iterators[key] = None
                    continue
                self._iterators[key] = self._client.get_shard_iterator(
                    StreamArn=stream_arn,
                    ShardId=shard["ShardId"],
                    ShardIteratorType="LATEST" if initial else "TRIM_HORIZON",
                )["ShardIterator"]

    def _run(self) -> None:
        while not self._stop.is_set():
            got_any = False
            try:
                if time.monotonic() - self._last_refresh > SHARD_REFRESH_S:
                    self._refresh_shards()
                for key, iterator in list(self._iterators.items()):
                    if iterator is None:
                        continue
                    got_any |= self._poll_shard(key, iterator)
            except Exception:  # keep polling whatever moto says
                log.exception("stream poll failed")
                self._stop.wait(1.0)
            with self._pass_cond:
                self._passes += 1
                self._pass_cond.notify_all()
            if not got_any:
                self._stop.wait(POLL_INTERVAL_S)

    def _poll_shard(self, key: tuple[str, str], iterator: str) -> bool:
        stream_arn, shard_id = key
        response = self._client.get_records(ShardIterator=iterator, Limit=1000)  # moto's iterators never expire
        self._iterators[key] = response.get("NextShardIterator")
        records = response.get("Records", [])
        if not records:
            return False
        items = [_Item(shard_id, lambda_record(r, stream_arn)) for r in records]
        for consumer in self._by_stream[stream_arn]:
            consumer.offer(items)
        return True

    def _wait_passes(self, count: int, deadline: float) -> bool:
        with self._pass_cond:
            target = self._passes + count
            while self._passes < target:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._thread.is_alive():
                    return False
                self._pass_cond.wait(timeout=min(remaining, 0.5))
        return True

    def drain(self, timeout_s: float = 30.0) -> bool:
        """Block until every record written before the call (and their knock-on writes) is processed."""
        deadline = time.monotonic() + timeout_s
        quiet_rounds = 0
        while time.monotonic() < deadline:
            if not self._wait_passes(2, deadline):
                return False
            if all(c.idle for c in [*self.consumers, *self.queue_consumers]):
                quiet_rounds += 1
                if quiet_rounds >= 2:
                    return True
            else:
                quiet_rounds = 0
                time.sleep(0.02)
        return False

    def status(self) -> list[dict[str, Any]]:
        return [c.status() for c in [*self.consumers, *self.queue_consumers]]


def build_consumers(
    triggers: Iterable[StreamTrigger],
    functions: Mapping[str, Function],
    invoke: Invoke,
    send_failure: Callable[[str, dict[str, Any]], None],
) -> list[StreamConsumer]:
    return [StreamConsumer(t, functions[t.function_id], invoke, send_failure) for t in triggers]


def build_queue_consumers(triggers: Iterable[QueueTrigger], invoke: Invoke, sqs_client: Any) -> list[QueueConsumer]:
    return [QueueConsumer(t, invoke, sqs_client) for t in triggers]


def sqs_failure_sender(sqs_client: Any) -> Callable[[str, dict[str, Any]], None]:
    """Send a failure record to an SQS OnFailure destination given by ARN (the template's are queues)."""
    urls: dict[str, str] = {}

    def send(destination_arn: str, record: dict[str, Any]) -> None:
        if destination_arn not in urls:
            urls[destination_arn] = sqs_client.get_queue_url(QueueName=destination_arn.rsplit(":", 1)[1])["QueueUrl"]
        sqs_client.send_message(QueueUrl=urls[destination_arn], MessageBody=json.dumps(record))

    return send
