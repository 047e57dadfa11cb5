"""The one way a provider's event becomes a job event: translated by its adapter, recorded once.

An adapter (``stripe_events.py``, ``square.py``…) checks the provider's signature and translates its event into
a :class:`JobWebhookEvent`, or into None for an event that says nothing about a job (answered 2xx and
ignored, so the provider does not retry it). :class:`ProviderIngest` then records it once per provider
event id (Powertools Idempotency on the table: a redelivery gets the first answer) through the same
``record_job_event`` as ``POST /webhooks/jobs``, so attribution, checks and rewards stay one code path.

Logs carry the provider, its event id and type, the job id and the outcome: never the customer's
details (the translated event is not logged, and the idempotency record keeps only the answer).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from referral_core.clock import iso
from referral_core.dal.dynamo import Table
from referral_core.dal.idempotency import Once
from referral_core.dal.jobs import JobRepository
from referral_core.models.jobs import JobWebhookEvent, ProviderWebhookResponse
from referral_core.observability import count, logger
from referral_core.services.jobs import record_job_event

#: Providers retry for up to three days (Stripe: 3 days in live mode); keep the first answer a day longer.
REPLAY_WINDOW_S = 4 * 24 * 3600


#: A ref becomes part of a key (``JOBREF#{provider}#{ref}``): the job id's characters only.
REF_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")


def webhook_id(provider: str, event_id: str) -> str:
    """What the job's event item records as its delivery: ``stripe:evt_…``."""
    return f"{provider}:{event_id}"


@dataclass
class ProviderIngest:
    """Records one provider's translated events. Built once per container (the function's wiring):
    ``table`` is the app's table, ``pepper`` reads the contact-hash pepper when first needed."""

    provider: str
    table: Table
    pepper: Callable[[], str]
    phone_region: str

    @cached_property
    def once(self) -> Once:
        return Once(self._apply, table_name=self.table.name, key="key", expires_after_seconds=REPLAY_WINDOW_S)

    def record(self, event_id: str, provider_type: str, event: JobWebhookEvent | None, *,
               also: Sequence[JobWebhookEvent] = (), refs: Sequence[str] = (), job_id_given: bool = True,
               context: Any = None) -> ProviderWebhookResponse:
        """Record ``event`` (the provider's ``event_id`` of type ``provider_type``) once; None is ignored.

        ``also``: more events of the same job the one provider event means (e.g. a paid Stripe invoice is
        the job paid *and* completed), recorded with it, once.
        ``refs``: the provider's other ids of the same job (payment, charge, invoice…), remembered for it.
        ``job_id_given``: the business named the job (metadata, a reference field); when it did not, the
        adapter puts its first ref in ``data.job_id`` and the job a known ref points at wins, so a refund
        naming only the payment reaches the job the invoice named.
        """
        base = {"provider": self.provider, "event_id": event_id, "provider_type": provider_type}
        if event is None:
            logger.info("provider event ignored", extra=base)
            count("ProviderEventsIgnored")
            return ProviderWebhookResponse(provider=self.provider, event_id=event_id, ignored=True, applied=False)
        if context is not None:
            self.once.config.register_lambda_context(context)
        answer = self.once({"key": f"{self.provider}#{event_id}", "event_id": event_id,
                            "event": event.model_dump(mode="json"), "job_id_given": job_id_given,
                            "also": [e.model_dump(mode="json") for e in also],
                            "refs": [r for r in dict.fromkeys(refs) if REF_PATTERN.match(r)]})
        response = ProviderWebhookResponse.model_validate(answer)
        logger.info("provider event recorded", extra={**base, "job_id": response.job_id, "type": response.type,
                                                      "applied": response.applied})
        count("ProviderEventsRecorded")
        return response

    def _apply(self, *, delivery: dict[str, Any]) -> dict[str, Any]:
        event = JobWebhookEvent.model_validate(delivery["event"])
        repo, refs = JobRepository(self.table), list(delivery["refs"])
        known = None if delivery["job_id_given"] else repo.job_of_refs(self.provider, refs)
        job_id = known or event.data.job_id
        repo.save_refs(self.provider, [r for r in refs if r != job_id], job_id, at=iso())
        answers = []
        for raw in [delivery["event"], *delivery.get("also", ())]:
            one = JobWebhookEvent.model_validate(raw)
            if one.data.job_id != job_id:
                one = one.model_copy(update={"data": one.data.model_copy(update={"job_id": job_id})})
            answers.append(record_job_event(repo, one, webhook_id=webhook_id(self.provider, delivery["event_id"]),
                                            pepper=self.pepper(), phone_region=self.phone_region))
        return ProviderWebhookResponse(provider=self.provider, event_id=delivery["event_id"], ignored=False,
                                       job_id=job_id, type=answers[0].type, applied=any(a.applied for a in answers),
                                       statuses=answers[-1].statuses).model_dump(mode="json")
