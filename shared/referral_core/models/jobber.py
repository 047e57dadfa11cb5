"""Jobber's webhook payload (ids only): ``{"data": {"webHookEvent": {topic, appId, accountId, itemId,
occurredAt}}}`` (developer.getjobber.com, "Setting up Webhooks")."""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine

#: Jobber's ids are base64 global ids ("Z2lkOi8vSm9iYmVyL0ludm9pY2UvMTIz"): they name a secret and a call.
JobberId = Annotated[str, StringConstraints(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9+/=_\-]+$")]


class JobberWebHookEvent(Model):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    topic: Annotated[str, StringConstraints(min_length=1, max_length=64), OneLine]
    app_id: Annotated[str, StringConstraints(max_length=200), OneLine] | None = Field(default=None, alias="appId")
    account_id: JobberId = Field(alias="accountId")
    item_id: JobberId = Field(alias="itemId")
    occurred_at: AwareDatetime = Field(alias="occurredAt")


class JobberData(Model):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)

    web_hook_event: JobberWebHookEvent = Field(alias="webHookEvent")


class JobberWebhook(Model):
    model_config = ConfigDict(extra="ignore")

    data: JobberData
