"""Recording a provider's translated event as a job event, once (the provider-neutral part)."""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from referral_core.dal.jobs import JobRepository
from referral_core.errors import InvalidInput
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobEventType, JobWebhookEvent
from referral_core.models.providers import ProviderEventAnswer
from referral_core.services.jobs import record_job_event


def job_event(event_type: JobEventType, data: dict[str, Any]) -> JobWebhookEvent:
    try:
        return JobWebhookEvent.model_validate({"type": event_type, "data": data})
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def record_provider_event(repo: JobRepository, provider: str, event_id: str, event_type: JobEventType | None,
                          data: dict[str, Any] | None, *, ignored: str | None,
                          pepper: str, phone_region: str) -> ProviderEventAnswer:
    if event_type is None or data is None:
        return ProviderEventAnswer(event_id=event_id, ignored=ignored or "not used")
    event = job_event(event_type, data)
    answer = record_job_event(repo, event, webhook_id=f"{provider}:{event_id}", pepper=pepper,
                              phone_region=phone_region)
    return ProviderEventAnswer(event_id=event_id, job_id=answer.job_id, type=answer.type, applied=answer.applied)
