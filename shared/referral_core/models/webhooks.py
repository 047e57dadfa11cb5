"""API models of outbound webhooks: staff's subscriptions and the deliveries made to them."""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints, field_validator

from referral_core.models.base import Model, OneLine


class WebhookEventType(StrEnum):
    """What a subscriber can hear about (docs/integrations/outbound-webhooks.md has each payload)."""

    LEAD_RECEIVED = "lead.received"
    REFERRAL_ACCEPTED = "referral.accepted"
    REFERRAL_DISMISSED = "referral.dismissed"
    REWARD_AVAILABLE = "reward.available"
    WITHDRAWAL_PAID = "withdrawal.paid"


class DeliveryStatus(StrEnum):
    PENDING = "pending"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"  # every attempt failed: the dead-letter record, until staff replay it


class CreateWebhookRequest(Model):
    model_config = ConfigDict(extra="forbid")

    url: Annotated[str, StringConstraints(strip_whitespace=True, min_length=8, max_length=2000), OneLine] = Field(
        description="https:// address the events are POSTed to (no user:password, no private address)")
    events: Annotated[list[WebhookEventType], Field(min_length=1, max_length=len(WebhookEventType))]
    description: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200), OneLine] = ""

    @field_validator("events")
    @classmethod
    def _distinct(cls, events: list[WebhookEventType]) -> list[WebhookEventType]:
        if len(set(events)) != len(events):
            raise ValueError("lists an event twice")
        return events


class WebhookSubscription(Model):
    webhook_id: str
    url: str
    events: list[WebhookEventType]
    description: str = ""
    status: str = Field(description="active, or disabled (kept for its delivery history)")
    created_at: str
    created_by: str
    secret_rotated_at: str | None = None
    previous_secret_expires_at: str | None = Field(
        default=None, description="until then deliveries are also signed with the secret before the rotation")


class CreatedWebhook(WebhookSubscription):
    secret: str = Field(description="the whsec_ signing secret: shown this once, never again")


class RotatedSecret(Model):
    webhook_id: str
    secret: str = Field(description="the new whsec_ signing secret: shown this once, never again")
    previous_secret_expires_at: str


class WebhookList(Model):
    items: list[WebhookSubscription]


class Delivery(Model):
    delivery_id: str = Field(description="also the webhook-id header: the same on every attempt")
    webhook_id: str
    event_type: WebhookEventType
    status: DeliveryStatus
    attempts: int
    created_at: str
    next_attempt_at: str | None = None
    delivered_at: str | None = None
    last_status_code: int | None = Field(default=None, description="the subscriber's last HTTP status")
    last_error: str | None = Field(default=None, description="why the last attempt failed (timeout, refused...)")


class DeliveryPage(Model):
    items: list[Delivery]
    next_cursor: str | None = None
