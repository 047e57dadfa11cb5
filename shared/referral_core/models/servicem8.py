"""ServiceM8's webhook body: the event and the job's uuid only (``{event, object, entry: [{uuid, time}],
resource_url}``, developer.servicem8.com "Webhooks"); the subscription check is a form post instead."""

from __future__ import annotations

from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine

Uuid = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64,
                                        pattern=r"^[A-Za-z0-9\-]+$")]


class ServiceM8Entry(Model):
    model_config = ConfigDict(extra="ignore")

    uuid: Uuid
    time: Annotated[str, StringConstraints(max_length=40), OneLine] | None = None


class ServiceM8Webhook(Model):
    model_config = ConfigDict(extra="ignore")

    event: Annotated[str, StringConstraints(min_length=1, max_length=64), OneLine]
    object: Annotated[str, StringConstraints(max_length=64), OneLine] | None = None
    entry: list[ServiceM8Entry] = Field(min_length=1, max_length=100)
    resource_url: Annotated[str, StringConstraints(max_length=300), OneLine] | None = None
