"""The stream poller against moto's DynamoDB Streams (in-process)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_fixes
from local.streams import StreamPoller

pytestmark = pytest.mark.integration

REGION = "us-east-1"


@dataclass
class Trigger:
    stream_arn: str


@dataclass
class CollectingConsumer:
    """Stands in for a StreamConsumer: keeps the keys of the records offered to it."""

    trigger: Trigger
    name: str = "collector"
    keys: list[str] = field(default_factory=list)

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def offer(self, items: list[Any]) -> None:
        self.keys.extend(i.record["dynamodb"]["Keys"]["pk"]["S"] for i in items)


def wait_for(condition: Any, timeout_s: float = 5.0) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def test_records_after_a_cancelled_transaction_still_arrive(monkeypatch: pytest.MonkeyPatch) -> None:
    from moto import mock_aws

    for name, value in {"AWS_ACCESS_KEY_ID": "x", "AWS_SECRET_ACCESS_KEY": "x", "AWS_DEFAULT_REGION": REGION,
                        "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled"}.items():
        monkeypatch.setenv(name, value)
    moto_fixes.install()  # as the local stack does: a cancelled transaction keeps the table's stream
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name=REGION)
        stream_arn = ddb.create_table(
            TableName="t", BillingMode="PAY_PER_REQUEST",
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"},
        )["TableDescription"]["LatestStreamArn"]
        consumer = CollectingConsumer(Trigger(stream_arn))
        poller = StreamPoller(boto3.client("dynamodbstreams", region_name=REGION), [consumer])  # type: ignore[list-item]
        poller.start()
        try:
            ddb.put_item(TableName="t", Item={"pk": {"S": "before"}})
            assert wait_for(lambda: consumer.keys == ["before"])
            # moto restores a deep copy of the table (and of its stream shard) when a transaction is cancelled
            with pytest.raises(ClientError):
                ddb.transact_write_items(TransactItems=[{"Put": {
                    "TableName": "t", "Item": {"pk": {"S": "before"}},
                    "ConditionExpression": "attribute_not_exists(pk)"}}])
            ddb.put_item(TableName="t", Item={"pk": {"S": "after"}})
            assert wait_for(lambda: consumer.keys == ["before", "after"]), consumer.keys
        finally:
            poller.stop()
