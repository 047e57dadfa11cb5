"""What every adapter's translation ends in: the job event, validated as ``POST /webhooks/jobs`` would."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from referral_core.errors import InvalidInput
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobEventType, JobWebhookEvent


def job_event(event_type: JobEventType, data: dict[str, Any]) -> JobWebhookEvent:
    """The job event of ``data``, or 422 naming the translated field it refuses (``data.amount_cents``)."""
    try:
        return JobWebhookEvent.model_validate({"type": event_type, "data": data})
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


@dataclass(frozen=True)
class Translated:
    """A provider's event as a job event (``job`` holds the job event's ``data``), or why it is ignored."""

    event_id: str
    type: JobEventType | None = None
    job: dict[str, object] | None = None
    ignored: str | None = None

    @property
    def event(self) -> JobWebhookEvent | None:
        """The job event (422 naming a translated field it refuses), or None when ignored."""
        return None if self.type is None or self.job is None else job_event(self.type, self.job)
