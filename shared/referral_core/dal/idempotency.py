"""Powertools Idempotency records in the single table: ``pk`` the partition (by default Powertools'
``idempotency#{function name}``), ``sk`` the key's hash, ``expiration`` the TTL; on the shared client."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from aws_lambda_powertools.utilities.idempotency import DynamoDBPersistenceLayer, IdempotencyConfig, idempotent_function
from aws_lambda_powertools.utilities.idempotency.exceptions import (
    IdempotencyAlreadyInProgressError,
    IdempotencyPersistenceLayerError,
    IdempotencyValidationError,
)

from referral_core.dal.aws import client
from referral_core.errors import Conflict, Unavailable


def persistence_layer(table_name: str, *, partition: str | None = None) -> DynamoDBPersistenceLayer:
    """``partition``: one fixed ``pk`` for the records (else the function's name decides it)."""
    return DynamoDBPersistenceLayer(table_name=table_name, key_attr="pk", sort_key_attr="sk",
                                    expiry_attr="expiration", static_pk_value=partition,
                                    boto3_client=client("dynamodb"))


class InProgress(Conflict):
    """The first delivery of this event is still running: the sender retries shortly."""

    code = "in_progress"


class Once:
    """``fn(delivery=...)`` run once per ``delivery[key]`` (a provider's event id), its first answer kept
    ``expires_after_seconds`` for replays; the store's failures become domain errors (409 while the first
    run is under way, 503 when the table cannot be read or written: the sender retries the same id).

    ``payload_validation_jmespath``: the part of the delivery a replay must repeat (the signed body): the
    same id with a different one is a :class:`Conflict` (409), never the first answer."""

    def __init__(self, fn: Callable[..., dict[str, Any]], *, table_name: str, key: str,
                 expires_after_seconds: int, payload_validation_jmespath: str = "") -> None:
        self.config = IdempotencyConfig(event_key_jmespath=key, payload_validation_jmespath=payload_validation_jmespath,
                                        expires_after_seconds=expires_after_seconds,
                                        raise_on_no_idempotency_key=True)
        self.store = persistence_layer(table_name)
        self._once: Callable[..., dict[str, Any]] = idempotent_function(
            data_keyword_argument="delivery", config=self.config, persistence_store=self.store)(fn)

    def __call__(self, delivery: dict[str, Any]) -> dict[str, Any]:
        try:
            return self._once(delivery=delivery)
        except IdempotencyValidationError:
            raise Conflict("this event was delivered before with a different body") from None
        except IdempotencyAlreadyInProgressError:
            raise InProgress("this event is being processed, retry shortly", retry_after=1) from None
        except IdempotencyPersistenceLayerError:
            # The record could not be read or written (throttling, timeout): the sender retries the same
            # id, and the record's condition keeps the effect single.
            raise Unavailable("the database is busy, please retry") from None
