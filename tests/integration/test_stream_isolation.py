"""One reader, six consumers: a consumer's poison record neither blocks the others nor makes them run
anything again (referral_core.streams). The failed change is parked in the FIFO queue with a marker;
the queue brings it back to that consumer alone; after its retry cap it goes to the on-failure queue.
"""

from __future__ import annotations

import copy
import json
import time
from collections import Counter
from typing import Any

import boto3
import pytest

from local._worker import LambdaContext
from referral_core.dal.parking import PARKED_KEY, item_key
from tests.support.aws import REGION, STREAM_READER, Stack
from tests.support.events import load_event
from tests.support.stream_pump import StreamPump, consumers

pytestmark = pytest.mark.integration

def _sample() -> dict[str, Any]:
    """A click, a lead, a referrer and a job change, made now."""
    event = load_event("dispatch_changes/mixed_changes.json")
    for record in event["Records"]:
        record["dynamodb"]["ApproximateCreationDateTime"] = int(time.time())
    return event


def _mixed() -> dict[str, Any]:
    """The sample's lead, referrer and job change (its click names a share code nobody created)."""
    return {"Records": _sample()["Records"][1:]}


class Spy:
    """Counts each consumer's record_handler calls per sequence number; ``poison`` makes some raise."""

    def __init__(self, stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls: Counter[tuple[str, str]] = Counter()
        self.poison: set[tuple[str, str]] = set()
        reader = stack.function(STREAM_READER)
        for route in reader.handler.dispatcher.routes:
            module = route.handlers
            monkeypatch.setattr(module, "record_handler", self._wrap(route.name, module.record_handler))

    def _wrap(self, name: str, real: Any) -> Any:
        def record_handler(change: Any) -> Any:
            seq = change.raw["dynamodb"]["SequenceNumber"]
            self.calls[(name, seq)] += 1
            if (name, seq) in self.poison:
                raise ValueError(f"poison record for {name}")
            return real(change)
        return record_handler

    def of(self, name: str) -> Counter[str]:
        return Counter({seq: n for (consumer, seq), n in self.calls.items() if consumer == name})


def _seq(record: dict[str, Any]) -> str:
    return str(record["dynamodb"]["SequenceNumber"])


def _markers(stack: Stack) -> list[tuple[str, str]]:
    """(consumer, sequence) of each entry of the WAITING set."""
    item = next((i for i in stack.items() if (i["pk"], i["sk"]) == PARKED_KEY), {})
    return sorted((e.split("#")[0], e.split("#")[2]) for e in item.get("changes", ()))


def _failure_queue(stack: Stack) -> list[dict[str, Any]]:
    sqs = boto3.client("sqs", region_name=REGION)
    out = sqs.receive_message(QueueUrl=stack.env["FAILURE_QUEUE_URL"], MaxNumberOfMessages=10)
    return [json.loads(m["Body"]) for m in out.get("Messages", [])]


@pytest.fixture
def spy(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> Spy:
    return Spy(stack, monkeypatch)


def test_a_poison_record_for_one_consumer_is_parked_and_the_others_run_once(stack: Stack, spy: Spy) -> None:
    # Given a batch whose click names a share code that does not exist (count_clicks cannot count it) and
    # whose job change fails in settle_rewards
    event = _sample()
    click, job = event["Records"][0], event["Records"][3]
    spy.poison.add(("settle_rewards", _seq(job)))
    pump = StreamPump(stack)

    # When the reader gets the batch: the stream sees no failure (the shard moves on)
    assert stack.invoke(STREAM_READER, event) == {"batchItemFailures": []}
    # Then every other consumer ran each of its records once, the poisoned one included for attribution
    expected = {route.name: Counter(_seq(r) for r in event["Records"] if route.wants(r)) for route in consumers()}
    for route in consumers():
        assert spy.of(route.name) == expected[route.name], route.name
    assert expected["attribute_referral"][_seq(job)] == 1  # the same record, another consumer: not held up
    # And the poisoned change waits in the queue, with its marker
    parked = [("count_clicks", _seq(click)), ("settle_rewards", _seq(job))]
    assert sorted((b["consumer"], _seq(b["record"])) for b in pump.parked()) == parked
    assert _markers(stack) == parked

    # When the queue brings them back (still failing): only their consumers run them again
    before = Counter(spy.calls)
    pump.redeliver_parked()
    assert spy.calls - before == Counter({("count_clicks", _seq(click)): 1, ("settle_rewards", _seq(job)): 1})


def test_a_parked_change_that_keeps_failing_goes_to_the_on_failure_queue(stack: Stack, spy: Spy) -> None:
    event = _mixed()
    job = event["Records"][2]
    spy.poison.add(("settle_rewards", _seq(job)))
    pump = StreamPump(stack)
    stack.invoke(STREAM_READER, event)
    route = next(r for r in consumers() if r.name == "settle_rewards")

    for _ in range(route.max_retries):
        pump.redeliver_parked()

    # inline once + max_retries from the queue, then given up: the stream's failure queue has it
    assert spy.of("settle_rewards")[_seq(job)] == 1 + route.max_retries
    (failure,) = _failure_queue(stack)
    assert failure["requestContext"]["consumer"] == "settle_rewards"
    assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
    assert _seq(failure["record"]) == _seq(job)
    assert pump.parked() == [] and _markers(stack) == []
    assert sum(n for (name, _), n in spy.calls.items() if name != "settle_rewards") == sum(
        1 for r in event["Records"] for other in consumers() if other.name != "settle_rewards" and other.wants(r))


def test_a_parked_change_that_succeeds_later_is_released(stack: Stack, spy: Spy) -> None:
    event = _mixed()
    lead = event["Records"][0]
    spy.poison.add(("check_duplicates", _seq(lead)))
    pump = StreamPump(stack)
    stack.invoke(STREAM_READER, event)
    assert [consumer for consumer, _ in _markers(stack)] == ["check_duplicates"]

    spy.poison.clear()  # the cause is gone (a throttled table, a bug fixed)
    pump.redeliver_parked()
    assert spy.of("check_duplicates")[_seq(lead)] == 2
    assert _markers(stack) == [] and pump.parked() == []
    assert _failure_queue(stack) == []


def test_later_changes_of_a_parked_item_wait_behind_it_for_that_consumer_only(stack: Stack, spy: Spy) -> None:
    """Order per item: the job's next change does not overtake the parked one for settle_rewards, while
    attribute_referral (nothing parked) handles it at once."""
    job = _mixed()["Records"][2]
    spy.poison.add(("settle_rewards", _seq(job)))
    pump = StreamPump(stack)
    stack.invoke(STREAM_READER, {"Records": [job]})

    later = copy.deepcopy(job)
    later["dynamodb"]["SequenceNumber"] = str(int(_seq(job)) + 10)
    later["dynamodb"]["OldImage"] = job["dynamodb"]["NewImage"]
    stack.invoke(STREAM_READER, {"Records": [later]})

    assert spy.of("settle_rewards")[_seq(later)] == 0  # parked behind, not run
    assert spy.of("attribute_referral")[_seq(later)] == 1
    assert [_seq(b["record"]) for b in pump.parked()] == [_seq(job), _seq(later)]

    spy.poison.clear()
    while pump.redeliver_parked():
        pass
    assert spy.of("settle_rewards") == Counter({_seq(job): 2, _seq(later): 1})
    assert _markers(stack) == []


def test_when_parking_fails_the_stream_retries_the_batch(stack: Stack, spy: Spy,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """The one case a consumer's failure reaches the stream: the queue is unavailable. The invocation fails
    (the stream retries the batch, and every consumer's idempotency absorbs the replay: test_stream_replay)."""
    event = _mixed()
    spy.poison.add(("notify_status", _seq(event["Records"][1])))
    boto3.client("sqs", region_name=REGION).delete_queue(QueueUrl=stack.env["PARKED_QUEUE_URL"])
    with pytest.raises(Exception, match="queue"):
        stack.invoke(STREAM_READER, event)


def test_out_of_time_the_consumers_not_yet_run_park_their_changes(stack: Stack, spy: Spy) -> None:
    event = _sample()
    handler = stack.function(STREAM_READER).handler

    class AlmostOut(LambdaContext):
        def get_remaining_time_in_millis(self) -> int:
            return 1_000

    assert handler(event, AlmostOut.of()) == {"batchItemFailures": []}
    assert spy.calls == Counter()
    parked = {(b["consumer"], _seq(b["record"])) for b in StreamPump(stack).parked()}
    assert parked == {(route.name, _seq(r)) for r in event["Records"] for route in consumers() if route.wants(r)}


def test_the_queue_sample_runs_its_change_for_its_consumer_alone(stack: Stack, spy: Spy) -> None:
    """events/dispatch_changes/parked_change.json: what the queue delivers (``sam local invoke -e``)."""
    event = load_event("dispatch_changes/parked_change.json")
    (message,) = event["Records"]
    record = json.loads(message["body"])["record"]
    assert stack.invoke(STREAM_READER, event) == {"batchItemFailures": []}
    assert spy.calls == Counter({("notify_status", _seq(record)): 1})
    assert [e["to"] for e in stack.sent_emails()] == [[record["dynamodb"]["NewImage"]["email"]["S"]]]


def test_an_entry_older_than_the_queue_keeps_messages_holds_nothing_back(stack: Stack, spy: Spy) -> None:
    """An entry whose message was lost (the send failed after the entry was added) stops counting once no
    message could still be waiting for it: the item's changes run inline again."""
    lead = _mixed()["Records"][0]
    stale = f"check_duplicates#{item_key(lead)}#1#{int(time.time()) - 15 * 86400}"
    stack.dynamodb.update_item(TableName=stack.table_name, Key={"pk": {"S": PARKED_KEY[0]}, "sk": {"S": PARKED_KEY[1]}},
                               UpdateExpression="ADD changes :e", ExpressionAttributeValues={":e": {"SS": [stale]}})
    stack.invoke(STREAM_READER, {"Records": [lead]})
    assert spy.of("check_duplicates")[_seq(lead)] == 1
    assert StreamPump(stack).parked() == []
