"""Outbound webhooks' records: subscriptions, their deliveries, signing secrets and the delivery queue.

Keys (docs/data-model.md): every subscription in one partition (a business has a handful), so the stream
consumer finds them with one Query; each subscription's deliveries in its own partition, newest first by
their time-ordered id. The signing secrets are not in the table (stream images and backups would carry
them): each subscription has its own Secrets Manager secret, JSON ``{"current", "previous",
"previous_expires_at"}``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.aws import client
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionFailed, Item, Put, Table, Update, translate
from referral_core.errors import NotFound

SUBSCRIPTIONS = "WEBHOOKS"


def subscription_key(webhook_id: str) -> dict[str, str]:
    return {"pk": SUBSCRIPTIONS, "sk": f"SUB#{webhook_id}"}


def deliveries_pk(webhook_id: str) -> str:
    return f"WEBHOOK#{webhook_id}"


def delivery_key(webhook_id: str, delivery_id: str) -> dict[str, str]:
    return {"pk": deliveries_pk(webhook_id), "sk": f"DELIVERY#{delivery_id}"}


def _assignments(fields: Mapping[str, Any]) -> tuple[str, dict[str, str], dict[str, Any]]:
    """An update expression that sets ``fields`` (and removes those that are None)."""
    names = {f"#f{i}": name for i, name in enumerate(fields)}
    values = {f":v{i}": value for i, value in enumerate(fields.values()) if value is not None}
    sets = [f"#f{i} = :v{i}" for i, value in enumerate(fields.values()) if value is not None]
    removes = [f"#f{i}" for i, value in enumerate(fields.values()) if value is None]
    expression = " ".join(part for part in (
        "SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "") if part)
    return expression, names, values


@dataclass(frozen=True)
class WebhookRepository:
    table: Table

    # -- subscriptions ---------------------------------------------------------------------------
    def add(self, subscription: Item, *, actor: str) -> None:
        key = subscription_key(subscription["webhook_id"])
        self.table.transact([
            Put({**key, "type": "webhook", **subscription}, condition="attribute_not_exists(pk)"),
            audit_entry(deliveries_pk(subscription["webhook_id"]), actor=actor, action="webhook.created",
                        detail={"url": subscription["url"], "events": subscription["events"]},
                        at=subscription["created_at"]),
        ])

    def subscriptions(self) -> list[Item]:
        return self.table.partition(SUBSCRIPTIONS, sk_prefix="SUB#")

    def subscription(self, webhook_id: str) -> Item:
        key = subscription_key(webhook_id)
        found = self.table.get(key["pk"], key["sk"])
        if found is None:
            raise NotFound("no such webhook subscription")
        return found

    def change(self, webhook_id: str, fields: Mapping[str, Any], *, actor: str, action: str, at: str) -> Item:
        """Set ``fields`` on an existing subscription, with an audit entry (one transaction)."""
        expression, names, values = _assignments(fields)
        try:
            self.table.transact([
                Update(key=subscription_key(webhook_id), expression=expression, condition="attribute_exists(pk)",
                       names=names, values=values),
                audit_entry(deliveries_pk(webhook_id), actor=actor, action=action, at=at, detail=dict(fields)),
            ])
        except ConditionFailed:
            raise NotFound("no such webhook subscription") from None
        return self.subscription(webhook_id)

    # -- deliveries ------------------------------------------------------------------------------
    def record_delivery(self, delivery: Item) -> bool:
        """Write a new delivery once (a replayed stream record finds it there: False)."""
        key = delivery_key(delivery["webhook_id"], delivery["delivery_id"])
        try:
            self.table.put({**key, "type": "webhook_delivery", **delivery}, condition="attribute_not_exists(pk)")
        except ConditionFailed:
            return False
        return True

    def delivery(self, webhook_id: str, delivery_id: str) -> Item:
        key = delivery_key(webhook_id, delivery_id)
        found = self.table.get(key["pk"], key["sk"], consistent=True)
        if found is None:
            raise NotFound("no such delivery")
        return found

    def attempted(self, delivery: Item, fields: Mapping[str, Any]) -> bool:
        """Record an attempt's outcome, only if no other attempt recorded one since ``delivery`` was read
        (a duplicate queue message then does nothing): False when another did."""
        key = delivery_key(delivery["webhook_id"], delivery["delivery_id"])
        expression, names, values = _assignments(fields)
        try:
            self.table.update(key["pk"], key["sk"], expression, condition="attempts = :was", names=names,
                              values={**values, ":was": int(delivery.get("attempts") or 0)})
        except ConditionFailed:
            return False
        return True

    def replayed(self, delivery: Item, fields: Mapping[str, Any], *, actor: str, at: str) -> bool:
        """Start a finished delivery again (guarded like :meth:`attempted`), with an audit entry."""
        key = delivery_key(delivery["webhook_id"], delivery["delivery_id"])
        expression, names, values = _assignments(fields)
        try:
            self.table.transact([
                Update(key=key, expression=expression, condition="attempts = :was", names=names,
                       values={**values, ":was": int(delivery.get("attempts") or 0)}),
                audit_entry(key["pk"], actor=actor, action="webhook.delivery_replayed", at=at,
                            detail={"delivery_id": delivery["delivery_id"], "was": delivery.get("status")}),
            ])
        except ConditionFailed:
            return False
        return True

    def deliveries(self, webhook_id: str, *, status: str | None, cursor: str | None,
                   limit: int) -> tuple[list[Item], str | None]:
        pk = deliveries_pk(webhook_id)
        values: dict[str, Any] = {":pk": pk, ":prefix": "DELIVERY#"}
        names = None
        condition = None
        if status:
            values[":status"], names, condition = status, {"#status": "status"}, "#status = :status"
        page = self.table.query("pk = :pk AND begins_with(sk, :prefix)", values, names=names,
                                filter_expression=condition, limit=limit, newest_first=True,
                                start_key=decode_cursor(cursor, index=None, partition=pk, sort_prefix="DELIVERY#"))
        return page.items, encode_cursor(page.last_key)


@dataclass(frozen=True)
class WebhookSecrets:
    """Each subscription's signing secrets, in its own Secrets Manager secret under ``prefix``."""

    prefix: str

    def _name(self, webhook_id: str) -> str:
        return f"{self.prefix}/{webhook_id}"

    def create(self, webhook_id: str, value: Mapping[str, Any]) -> None:
        try:
            client("secretsmanager").create_secret(
                Name=self._name(webhook_id), SecretString=json.dumps(dict(value)),
                Description="Signing secret of an outbound webhook subscription (Standard Webhooks)")
        except Exception as exc:
            raise translate(exc) from exc

    def replace(self, webhook_id: str, value: Mapping[str, Any]) -> None:
        try:
            client("secretsmanager").put_secret_value(SecretId=self._name(webhook_id),
                                                      SecretString=json.dumps(dict(value)))
        except Exception as exc:
            raise translate(exc) from exc

    def read(self, webhook_id: str) -> dict[str, Any]:
        try:
            out = client("secretsmanager").get_secret_value(SecretId=self._name(webhook_id))
        except Exception as exc:
            raise translate(exc) from exc
        value = json.loads(out["SecretString"])
        return value if isinstance(value, dict) else {}


@dataclass(frozen=True)
class DeliveryQueue:
    """The queue the delivery function reads: one message per attempt, delayed until it is due."""

    url: str

    def send(self, webhook_id: str, delivery_id: str, *, delay_s: int = 0) -> None:
        body = json.dumps({"webhook_id": webhook_id, "delivery_id": delivery_id})
        try:
            client("sqs").send_message(QueueUrl=self.url, MessageBody=body, DelaySeconds=max(0, min(delay_s, 900)))
        except Exception as exc:
            raise translate(exc) from exc
