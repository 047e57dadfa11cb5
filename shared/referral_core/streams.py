"""The table's stream, read once: ``stream_handler()`` routes each change to the consumers that want it.

DynamoDB Streams allows two readers per shard, so one function reads the stream (docs/architecture.md,
"One reader on the stream") and runs every consumer in process. Each consumer is a :class:`Route`: its
FilterCriteria patterns (matched with the same engine the local stack uses, ``referral_core.event_filters``),
its batch size and its retry cap, and a module with ``record_handler(change)`` (plus, optionally,
``after_batch(entries)``), imported on the first record it gets so a cold start loads none of them.

Isolation: a consumer's failed change is *parked* (``referral_core.dal.parking``): it and that item's
later changes for that consumer go to a FIFO queue, the batch succeeds for the stream, and the other
consumers neither wait nor see anything again. The queue delivers each parked change back to the same
function (an SQS event), which retries it for that consumer alone, up to the route's ``max_retries``, then
sends it to the on-failure queue. Only if parking itself fails (SQS or DynamoDB refusing) does the
invocation fail, and the stream's retry gives every consumer the batch again, which their idempotency
absorbs (tests/integration/test_stream_replay.py).
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cache, cached_property
from types import ModuleType
from typing import Any

from aws_lambda_powertools.utilities.batch import BasePartialProcessor
from aws_lambda_powertools.utilities.data_classes.dynamo_db_stream_event import DynamoDBRecord

from referral_core.dal.dynamo import plain
from referral_core.dal.parking import ParkedChange, ParkedChanges, item_key, sequence
from referral_core.event_filters import matches_any
from referral_core.observability import logger, tracer

#: Below this much time left in the invocation, the consumers not yet run park their changes instead.
TIME_RESERVE_MS = 5_000


@dataclass(frozen=True)
class Change:
    """One stream record as a consumer reads it: the event name and the images as plain Python."""

    event_name: str
    new: dict[str, Any]
    old: dict[str, Any] | None
    raw: dict[str, Any]

    @classmethod
    def of(cls, raw: dict[str, Any]) -> Change:
        images = DynamoDBRecord(raw).dynamodb
        return cls(event_name=str(raw.get("eventName", "")), new=plain(images.new_image if images else {}) or {},
                   old=plain(images.old_image if images else {}) or None, raw=raw)


class SkippedAfterFailure(Exception):
    """An earlier change of the same item failed in this batch: this one waits behind it (order per item)."""


class ConsumerProcessor(BasePartialProcessor):
    """Powertools' custom partial processor (the documented way to extend batch processing) for one consumer.

    Runs ``record_handler`` on each change in order; once a change of an item fails, the item's later
    changes in the batch fail unread, so a retry sees them in order. After the records, ``after_batch``
    (when the consumer has one) gets the successes and returns those it could not complete (count_clicks
    writes the batch's counters per group there). :attr:`failed` is the raw records to retry, in order.
    """

    def __init__(self, module: ModuleType) -> None:
        super().__init__()  # no traceback logging: an exception's message may quote a record (PII)
        self._after: Callable[[list[tuple[Any, Change]]], Iterable[Change]] | None = getattr(
            module, "after_batch", None)
        self.failed: list[dict[str, Any]] = []
        #: Why each failed record failed: the exception's type (never its message).
        self.errors: dict[int, str] = {}
        self._entries: list[tuple[str, Any, Change]] = []
        self._failed_items: set[str] = set()

    def _prepare(self) -> None:
        self.success_messages.clear()
        self.fail_messages.clear()
        self.exceptions.clear()
        self.failed = []
        self.errors = {}
        self._entries = []
        self._failed_items = set()

    def _process_record(self, record: dict[str, Any]) -> tuple[Any, ...]:
        change = Change.of(record)
        key = item_key(record)
        try:
            if key in self._failed_items:
                raise SkippedAfterFailure(sequence(record))
            result = self.handler(change)
        except Exception as exc:
            self.errors[id(record)] = type(exc).__name__
            self._failed_items.add(key)
            entry: tuple[Any, ...] = self.failure_handler(record, sys.exc_info())
            self._entries.append(("fail", None, change))
            return entry
        self._entries.append(("success", result, change))
        return self.success_handler(record, result)

    async def _async_process_record(self, record: dict[str, Any]) -> Any:
        raise NotImplementedError

    def _clean(self) -> None:
        succeeded = [(result, change) for status, result, change in self._entries if status == "success"]
        not_done = {id(c.raw) for c in self._after(succeeded)} if self._after and succeeded else set()
        self.failed = [c.raw for status, _, c in self._entries if status == "fail" or id(c.raw) in not_done]
        for raw in self.failed:
            self.errors.setdefault(id(raw), "after_batch")


@dataclass(frozen=True)
class Route:
    """One consumer of the stream: what it reads (FilterCriteria patterns), how many at a time, how often retried."""

    name: str
    filters: tuple[Mapping[str, Any], ...]
    batch_size: int = 25
    max_retries: int = 3

    def wants(self, record: Mapping[str, Any]) -> bool:
        return matches_any(self.filters, record)

    @cached_property
    def handlers(self) -> ModuleType:
        """The consumer's code: the module named after it, beside the reader's handler module."""
        return importlib.import_module(self.name)

    def process(self, records: Sequence[dict[str, Any]]) -> list[tuple[dict[str, Any], str]]:
        """Run the consumer on its records, ``batch_size`` at a time; returns the failed ones, in order, each
        with the type of the exception it raised."""
        failed: list[tuple[dict[str, Any], str]] = []
        for start in range(0, len(records), self.batch_size):
            processor = ConsumerProcessor(self.handlers)
            with processor(list(records[start:start + self.batch_size]), self.handlers.record_handler):
                processor.process()
            failed += [(raw, processor.errors[id(raw)]) for raw in processor.failed]
        return failed

    def handler(self, event: dict[str, Any], context: Any = None) -> dict[str, list[dict[str, str]]]:
        """This consumer alone on a stream event, as its own event source mapping would run it (tests, replays)."""
        failed = self.process([r for r in event.get("Records", []) if self.wants(r)])
        return {"batchItemFailures": [{"itemIdentifier": sequence(r)} for r, _ in failed]}


@dataclass
class Dispatcher:
    """Runs every route on a stream batch, and a parked change again when the queue brings it back."""

    routes: tuple[Route, ...]
    parking: Callable[[], ParkedChanges]
    by_name: dict[str, Route] = field(init=False)

    def __post_init__(self) -> None:
        self.by_name = {route.name: route for route in self.routes}

    def stream(self, records: Sequence[dict[str, Any]], remaining_ms: Callable[[], int]) -> None:
        wanted = [(route, [r for r in records if route.wants(r)]) for route in self.routes]
        wanted = [(route, recs) for route, recs in wanted if recs]
        if not wanted:
            return
        waiting = self.parking().waiting()
        to_park: list[ParkedChange] = []
        for route, recs in wanted:
            if remaining_ms() < TIME_RESERVE_MS:
                to_park += [ParkedChange(route.name, r, "out of time") for r in recs]
                continue
            behind = [r for r in recs if (route.name, item_key(r)) in waiting]
            to_park += [ParkedChange(route.name, r, "behind a parked change") for r in behind]
            inline = [r for r in recs if (route.name, item_key(r)) not in waiting]
            to_park += [ParkedChange(route.name, r, f"failed: {error}") for r, error in route.process(inline)]
        if to_park:
            logger.warning("changes parked", extra={"parked": [(c.consumer, sequence(c.record), c.reason)
                                                               for c in to_park]})
            self.parking().park(to_park)

    def retry(self, message: dict[str, Any]) -> None:
        """One parked change from the queue: handled → released; failing → retried, then given up."""
        parked = ParkedChange.of_message(json.loads(message["body"]))
        route = self.by_name[parked.consumer]
        failed = route.process([parked.record])
        if not failed:
            self.parking().release(parked)
            return
        change = ParkedChange(route.name, parked.record, f"failed: {failed[0][1]}", parked.entry)
        attempts = int(message.get("attributes", {}).get("ApproximateReceiveCount", "1"))
        if attempts >= route.max_retries:
            logger.error("parked change given up", extra={"consumer": route.name, "attempts": attempts,
                                                          "sequence": sequence(change.record)})
            self.parking().give_up(change, attempts + 1)
            return
        raise RuntimeError(f"{route.name} failed again on {sequence(change.record)} (attempt {attempts})")


def stream_handler(routes: Sequence[Route], parking: Callable[[], ParkedChanges]) -> Callable[..., Any]:
    """The Lambda handler of the stream's one reader: stream batches and parked changes (SQS FIFO)."""
    from aws_lambda_powertools.utilities.batch import SqsFifoPartialProcessor, process_partial_response

    dispatcher = Dispatcher(tuple(routes), cache(parking))
    fifo = SqsFifoPartialProcessor(skip_group_on_error=True)
    fifo.raise_on_entire_batch_failure = False  # report every failed message; the queue redelivers them

    def retry(record: Any) -> None:  # Powertools passes the record by this keyword
        dispatcher.retry(record.raw_event)

    @logger.inject_lambda_context(clear_state=True)
    @tracer.capture_lambda_handler
    def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
        records = event.get("Records", [])
        if records and records[0].get("eventSource") == "aws:sqs":
            return dict(process_partial_response(event=event, record_handler=retry, processor=fifo, context=context))
        dispatcher.stream(records, context.get_remaining_time_in_millis)
        return {"batchItemFailures": []}

    handler.dispatcher = dispatcher  # type: ignore[attr-defined]
    return handler  # type: ignore[no-any-return]
