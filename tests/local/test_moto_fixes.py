"""A cancelled transaction must not detach the table's stream or leave records of its cancelled writes."""

from __future__ import annotations

import boto3
import pytest
from botocore.exceptions import ClientError

from local import moto_fixes
from local.template import create_table_kwargs, load_template

pytestmark = pytest.mark.integration


def _records(streams, arn):
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    it = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    return streams.get_records(ShardIterator=it["ShardIterator"])["Records"]


def test_stream_keeps_flowing_after_a_cancelled_transaction(stack):
    moto_fixes.install()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    kwargs = create_table_kwargs(load_template(), "Table", table_name="fixes")
    arn = dynamodb.create_table(**kwargs)["TableDescription"]["LatestStreamArn"]
    streams = boto3.client("dynamodbstreams", region_name="us-east-1")
    shard = streams.describe_stream(StreamArn=arn)["StreamDescription"]["Shards"][0]["ShardId"]
    latest = streams.get_shard_iterator(StreamArn=arn, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]

    def put(pk, condition=None):
        item = {"Put": {"TableName": "fixes", "Item": {"pk": {"S": pk}, "sk": {"S": "x"}}}}
        if condition:
            item["Put"]["ConditionExpression"] = condition
        return item

    dynamodb.put_item(TableName="fixes", Item={"pk": {"S": "A"}, "sk": {"S": "x"}})
    with pytest.raises(ClientError, match="TransactionCanceled"):
        # B is written first, then A's condition fails: B must be undone, with no stream record.
        dynamodb.transact_write_items(TransactItems=[put("B"), put("A", "attribute_not_exists(pk)")])
    dynamodb.put_item(TableName="fixes", Item={"pk": {"S": "C"}, "sk": {"S": "x"}})

    seen = [r["dynamodb"]["Keys"]["pk"]["S"] for r in streams.get_records(ShardIterator=latest)["Records"]]
    assert seen == ["A", "C"]  # the reader that started before still sees later writes; no B
    assert "Item" not in dynamodb.get_item(TableName="fixes", Key={"pk": {"S": "B"}, "sk": {"S": "x"}})
    assert [r["dynamodb"]["Keys"]["pk"]["S"] for r in _records(streams, arn)] == ["A", "C"]


def test_a_cancelled_transaction_puts_back_every_item_it_touched(stack):
    moto_fixes.install()
    dynamodb = boto3.client("dynamodb", region_name="us-east-1")
    dynamodb.create_table(**create_table_kwargs(load_template(), "Table", table_name="rollback"))

    def key(pk):
        return {"pk": {"S": pk}, "sk": {"S": "x"}}

    def item(pk):
        return dynamodb.get_item(TableName="rollback", Key=key(pk), ConsistentRead=True).get("Item")

    dynamodb.put_item(TableName="rollback", Item={**key("updated"), "n": {"N": "1"}, "tags": {"SS": ["a"]}})
    dynamodb.put_item(TableName="rollback", Item={**key("deleted"), "n": {"N": "2"}})
    dynamodb.put_item(TableName="rollback", Item={**key("guard"), "n": {"N": "3"}})
    before = {pk: item(pk) for pk in ("updated", "deleted", "guard")}

    with pytest.raises(ClientError, match="TransactionCanceled"):
        dynamodb.transact_write_items(TransactItems=[
            {"Put": {"TableName": "rollback", "Item": {**key("new"), "n": {"N": "4"}}}},
            {"Update": {"TableName": "rollback", "Key": key("updated"),
                        "UpdateExpression": "SET n = n + :one ADD tags :b",
                        "ExpressionAttributeValues": {":one": {"N": "1"}, ":b": {"SS": ["b"]}}}},
            {"Delete": {"TableName": "rollback", "Key": key("deleted")}},
            {"ConditionCheck": {"TableName": "rollback", "Key": key("guard"),
                                "ConditionExpression": "n = :zero",
                                "ExpressionAttributeValues": {":zero": {"N": "0"}}}},
        ])

    assert item("new") is None
    assert {pk: item(pk) for pk in ("updated", "deleted", "guard")} == before
    scanned = dynamodb.scan(TableName="rollback", ConsistentRead=True)["Items"]
    assert sorted(i["pk"]["S"] for i in scanned) == ["deleted", "guard", "updated"]

    # and a transaction that commits still commits
    dynamodb.transact_write_items(TransactItems=[
        {"Put": {"TableName": "rollback", "Item": {**key("new"), "n": {"N": "4"}}}},
        {"Delete": {"TableName": "rollback", "Key": key("deleted")}},
    ])
    assert item("new")["n"] == {"N": "4"} and item("deleted") is None
