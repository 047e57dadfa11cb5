"""The answer of a job-system provider's webhook (``POST /webhooks/{provider}``)."""

from __future__ import annotations

from pydantic import Field

from referral_core.models.base import Model
from referral_core.models.jobs import JobEventType


class ProviderEventAnswer(Model):
    event_id: str = Field(description="the provider's id of the event")
    ignored: str | None = Field(default=None, description="why the event changes no job (answered 200 so the "
                                                          "provider does not retry it)")
    job_id: str | None = None
    type: JobEventType | None = Field(default=None, description="the job event it was translated into")
    applied: bool = Field(default=False, description="False when ignored, or when this job already had this "
                                                     "event type (a replay)")
