"""Powertools Idempotency records in the single table (``idempotency#{function}`` / payload hash)."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from referral_core.dal.aws import client


def persistence_layer(table_name: str) -> DynamoDBPersistenceLayer:
    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk", sort_key_attr="sk",
                                    expiry_attr="expiration", boto3_client=client("dynamodb"))
