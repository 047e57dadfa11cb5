"""Outbound webhooks: the programme's events, signed (Standard Webhooks) and POSTed to the addresses staff
register, so a business connects Zapier, Make or its CRM without code (docs/integrations/outbound-webhooks.md).

Three steps, each safe to repeat:
1. the stream's ``queue_webhooks`` consumer turns a change into an event (:func:`event_of`) and writes one
   delivery per subscription that wants it, keyed by the event, so a replayed record adds nothing; each new
   delivery is a message on the delivery queue;
2. the ``deliver_webhooks`` function takes a message and makes one attempt (:func:`attempt`): signed with
   every active secret of the subscription, to the address checked again at connect time; the outcome is
   recorded only if no other attempt recorded one first (a duplicate message does nothing);
3. a failed attempt is tried again on :data:`RETRY_SCHEDULE_S` (delayed queue messages); after the last, the
   delivery is ``failed``: the dead-letter record staff see in the console and can replay.

Payloads carry ids, stages and amounts, never a customer's contact details (the masked name the
referrer's dashboard shows, and the postcode, are the most).
"""

from __future__ import annotations

import hashlib
import ipaddress
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from referral_core.clock import epoch, iso, now, parse_iso
from referral_core.dal.outbound_http import Answer, is_public
from referral_core.dal.webhooks import DeliveryQueue, WebhookRepository, WebhookSecrets
from referral_core.errors import Conflict, InvalidInput
from referral_core.ids import new_id
from referral_core.models.webhooks import (
    CreatedWebhook,
    CreateWebhookRequest,
    Delivery,
    DeliveryPage,
    DeliveryStatus,
    RotatedSecret,
    WebhookEventType,
    WebhookList,
    WebhookSubscription,
)
from referral_core.services.webhook_signature import new_secret, sign
from referral_core.stages import ReviewStatus, Stage

#: Seconds from the first attempt's failure to each next attempt (Standard Webhooks' suggested shape):
#: eight attempts over about 28 hours, then the delivery is failed.
RETRY_SCHEDULE_S = (5, 5 * 60, 30 * 60, 2 * 3600, 5 * 3600, 10 * 3600, 10 * 3600)
MAX_ATTEMPTS = len(RETRY_SCHEDULE_S) + 1
#: After a rotation, deliveries are signed with the old secret too, for this long.
PREVIOUS_SECRET_LIFETIME = timedelta(hours=24)
USER_AGENT = "referral-rewards-webhooks/1"


@dataclass(frozen=True)
class Event:
    type: WebhookEventType
    data: dict[str, Any]
    #: The event's key: the same change always yields the same key, and so the same delivery ids.
    key: str


def _picked(item: Mapping[str, Any], *names: str) -> dict[str, Any]:
    return {name: item[name] for name in names if item.get(name) is not None}


def event_of(event_name: str, new: Mapping[str, Any], old: Mapping[str, Any] | None) -> Event | None:
    """The webhook event a change of the table is, if any (old and new images compared: replays and no-op
    writes are no event)."""
    kind, old = new.get("type"), old or {}
    version = f"{new.get('pk')}|{new.get('sk')}"
    if kind == "lead" and event_name == "INSERT":
        return Event(WebhookEventType.LEAD_RECEIVED,
                     _picked(new, "lead_id", "source", "ref", "ref_status", "postcode", "created_at"),
                     f"lead.received|{version}")
    if kind == "referral" and event_name == "MODIFY":
        status = new.get("review_status")
        if status != old.get("review_status") and status in (ReviewStatus.ACCEPTED, ReviewStatus.DISMISSED):
            kind_of = (WebhookEventType.REFERRAL_ACCEPTED if status == ReviewStatus.ACCEPTED
                       else WebhookEventType.REFERRAL_DISMISSED)
            return Event(kind_of, _picked(new, "lead_id", "referrer_id", "code", "stage", "review_status",
                                          "updated_at"),
                         f"{kind_of}|{version}|{new.get('updated_at', '')}")
        return None
    if kind == "reward" and new.get("state") == "available" and old.get("state") != "available":
        return Event(WebhookEventType.REWARD_AVAILABLE,
                     {**_picked(new, "lead_id", "referrer_id", "job_id", "amount_cents", "currency", "tier"),
                      "stage": str(Stage.REWARD_AVAILABLE)},
                     f"reward.available|{version}")
    if kind == "withdrawal" and new.get("status") == "paid" and old.get("status") != "paid":
        return Event(WebhookEventType.WITHDRAWAL_PAID,
                     _picked(new, "withdrawal_id", "referrer_id", "amount_cents", "currency", "decided_at",
                             "payout_reference"),
                     f"withdrawal.paid|{version}")
    return None


def delivery_id(event: Event, at: datetime) -> str:
    """``msg_`` + the change's time + a digest of the event: time-ordered, and the same for a replay."""
    digest = hashlib.sha256(event.key.encode()).hexdigest()[:16]
    return f"msg_{at.strftime('%Y%m%dT%H%M%S')}{digest}"


def fan_out(event: Event, at: datetime, repo: WebhookRepository, queue: DeliveryQueue) -> int:
    """One delivery per active subscription that wants ``event``; returns how many were queued."""
    message_id = delivery_id(event, at)
    payload = json.dumps({"type": str(event.type), "timestamp": iso(at), "data": event.data},
                         separators=(",", ":"), sort_keys=True)
    queued = 0
    for subscription in repo.subscriptions():
        if subscription.get("status") != "active" or str(event.type) not in subscription.get("events", []):
            continue
        delivery = {"delivery_id": message_id, "webhook_id": subscription["webhook_id"],
                    "event_type": str(event.type), "payload": payload, "status": str(DeliveryStatus.PENDING),
                    "attempts": 0, "created_at": iso(at)}
        if not repo.record_delivery(delivery):
            found = repo.delivery(subscription["webhook_id"], message_id)
            if found.get("status") != DeliveryStatus.PENDING or int(found.get("attempts") or 0):
                continue  # already under way: the replayed record adds nothing
            # written before, its message maybe not sent: send it (an attempt is recorded once either way)
        queue.send(subscription["webhook_id"], message_id)
        queued += 1
    return queued


# -- attempts ------------------------------------------------------------------------------------

Poster = Callable[[str, bytes, dict[str, str]], Answer]


def active_secrets(value: Mapping[str, Any], moment: datetime) -> list[str]:
    secrets = [str(value["current"])] if value.get("current") else []
    expires = value.get("previous_expires_at")
    if value.get("previous") and expires and parse_iso(str(expires)) > moment:
        secrets.append(str(value["previous"]))
    return secrets


def attempt(webhook_id: str, message_id: str, *, repo: WebhookRepository, secrets: WebhookSecrets,
            queue: DeliveryQueue, post: Poster, moment: datetime | None = None) -> str:
    """One attempt of a delivery (a queue message); returns what happened, for the log."""
    moment = moment or now()
    delivery = repo.delivery(webhook_id, message_id)
    status = delivery.get("status")
    if status in (DeliveryStatus.DELIVERED, DeliveryStatus.FAILED):
        return "already_done"
    due = delivery.get("next_attempt_at")
    if due and parse_iso(str(due)) > moment:
        queue.send(webhook_id, message_id, delay_s=int((parse_iso(str(due)) - moment).total_seconds()) + 1)
        return "not_due"
    subscription = repo.subscription(webhook_id)
    attempts = int(delivery.get("attempts") or 0) + 1
    if subscription.get("status") != "active":
        answer = Answer(error="subscription_disabled")
    else:
        body = str(delivery["payload"]).encode()
        timestamp = epoch(moment)
        headers = {"content-type": "application/json", "user-agent": USER_AGENT, "webhook-id": message_id,
                   "webhook-timestamp": str(timestamp),
                   "webhook-signature": sign(active_secrets(secrets.read(webhook_id), moment),
                                             webhook_id=message_id, timestamp=timestamp, body=body)}
        answer = post(str(subscription["url"]), body, headers)
    outcome: dict[str, Any] = {"attempts": attempts, "last_status_code": answer.status,
                               "last_error": answer.error, "last_attempt_at": iso(moment)}
    retry_in = None
    if answer.ok:
        outcome |= {"status": str(DeliveryStatus.DELIVERED), "delivered_at": iso(moment), "next_attempt_at": None}
    elif attempts >= MAX_ATTEMPTS or answer.error == "subscription_disabled":
        outcome |= {"status": str(DeliveryStatus.FAILED), "next_attempt_at": None}
    else:
        retry_in = RETRY_SCHEDULE_S[attempts - 1]
        outcome |= {"status": str(DeliveryStatus.RETRYING),
                    "next_attempt_at": iso(moment + timedelta(seconds=retry_in))}
    if not repo.attempted(delivery, outcome):
        return "duplicate_message"
    if retry_in is not None:
        queue.send(webhook_id, message_id, delay_s=retry_in)
    return str(outcome["status"])


# -- staff ---------------------------------------------------------------------------------------

def check_target(url: str, *, allow_private: bool) -> str:
    """The subscriber's address, or 422 naming ``url``. Checked again at each connect (dal.outbound_http):
    here so staff hear at once that an address can never be delivered to."""
    def refuse(why: str) -> InvalidInput:
        return InvalidInput(f"url {why}", fields={"url": why})

    parts = urlsplit(url)
    if parts.scheme != "https" and not (allow_private and parts.scheme == "http"):
        raise refuse("must start with https://")
    if parts.username or parts.password:
        raise refuse("must not hold a user name or password")
    host = parts.hostname or ""
    if not host or parts.fragment:
        raise refuse("must be an address such as https://hooks.example.com/referrals")
    try:
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        raise refuse("has an invalid port") from None
    if not allow_private:
        if host == "localhost" or host.endswith((".localhost", ".local", ".internal")):
            raise refuse("must be a public address")
        try:
            literal = ipaddress.ip_address(host)
        except ValueError:
            literal = None
        if literal is not None and not is_public(str(literal)):
            raise refuse("must be a public address")
    return url


def _view(item: Mapping[str, Any]) -> dict[str, Any]:
    return {name: item.get(name) for name in WebhookSubscription.model_fields if item.get(name) is not None}


def create_subscription(repo: WebhookRepository, secrets: WebhookSecrets, request: CreateWebhookRequest, *,
                        actor: str, allow_private: bool) -> CreatedWebhook:
    url = check_target(request.url, allow_private=allow_private)
    webhook_id, secret, at = new_id(), new_secret(), iso()
    secrets.create(webhook_id, {"current": secret})  # first: a subscription is never without its secret
    subscription = {"webhook_id": webhook_id, "url": url, "events": [str(e) for e in request.events],
                    "description": request.description, "status": "active", "created_at": at,
                    "created_by": actor}
    repo.add(subscription, actor=actor)
    return CreatedWebhook(**subscription, secret=secret)


def list_subscriptions(repo: WebhookRepository) -> WebhookList:
    return WebhookList(items=[WebhookSubscription(**_view(s)) for s in repo.subscriptions()])


def rotate_secret(repo: WebhookRepository, secrets: WebhookSecrets, webhook_id: str, *, actor: str) -> RotatedSecret:
    repo.subscription(webhook_id)  # 404 first
    moment = now()
    fresh, expires = new_secret(), iso(moment + PREVIOUS_SECRET_LIFETIME)
    old = secrets.read(webhook_id)
    secrets.replace(webhook_id, {"current": fresh, "previous": old.get("current"), "previous_expires_at": expires})
    repo.change(webhook_id, {"secret_rotated_at": iso(moment), "previous_secret_expires_at": expires},
                actor=actor, action="webhook.secret_rotated", at=iso(moment))
    return RotatedSecret(webhook_id=webhook_id, secret=fresh, previous_secret_expires_at=expires)


def disable_subscription(repo: WebhookRepository, webhook_id: str, *, actor: str) -> WebhookSubscription:
    changed = repo.change(webhook_id, {"status": "disabled"}, actor=actor, action="webhook.disabled", at=iso())
    return WebhookSubscription(**_view(changed))


def _delivery_view(item: Mapping[str, Any]) -> Delivery:
    return Delivery(**{name: item.get(name) for name in Delivery.model_fields if item.get(name) is not None})


def list_deliveries(repo: WebhookRepository, webhook_id: str, *, status: DeliveryStatus | None,
                    cursor: str | None, limit: int) -> DeliveryPage:
    repo.subscription(webhook_id)
    items, next_cursor = repo.deliveries(webhook_id, status=str(status) if status else None, cursor=cursor,
                                         limit=limit)
    return DeliveryPage(items=[_delivery_view(i) for i in items], next_cursor=next_cursor)


def replay_delivery(repo: WebhookRepository, queue: DeliveryQueue, webhook_id: str, message_id: str, *,
                    actor: str) -> Delivery:
    """Send a finished delivery again from its first attempt (the same webhook-id: receivers dedupe)."""
    delivery = repo.delivery(webhook_id, message_id)
    if delivery.get("status") not in (DeliveryStatus.FAILED, DeliveryStatus.DELIVERED):
        raise Conflict("the delivery is still being attempted")
    reset = {"status": str(DeliveryStatus.PENDING), "attempts": 0, "next_attempt_at": None,
             "replayed_at": iso(), "replayed_by": actor}
    if not repo.replayed(delivery, reset, actor=actor, at=str(reset["replayed_at"])):
        raise Conflict("the delivery changed meanwhile, please reload")
    queue.send(webhook_id, message_id)
    return _delivery_view({**delivery, **reset})
