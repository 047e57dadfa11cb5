"""Powertools Idempotency records in the single table: ``pk`` the partition (by default Powertools'
``idempotency#{function name}``), ``sk`` the key's hash, ``expiration`` the TTL; on the shared client."""

from __future__ import annotations

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer

from referral_core.dal.aws import client


def persistence_layer(table_name: str, *, partition: str | None = None) -> DynamoDBPersistenceLayer:
    """``partition``: one fixed ``pk`` for the records (else the function's name decides it)."""
    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk", sort_key_attr="sk",
                                    expiry_attr="expiration", static_pk_value=partition,
                                    boto3_client=client("dynamodb"))
