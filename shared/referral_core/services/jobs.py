"""Job events from the job system: record each event once and derive the job's state from all of them.

Events may come twice or out of order (``job.paid`` before ``job.completed``): the state is a pure
function of the *set* of recorded events (:func:`derive_job`), re-derived in the same transaction that
records a new event, with an optimistic version check so concurrent deliveries for one job serialise.
"""

from __future__ import annotations

import random
import time
from collections.abc import Iterable
from contextlib import suppress
from typing import Any

from pydantic import ValidationError

from referral_core.bodies import loads
from referral_core.clock import iso
from referral_core.contacts import clean_phone
from referral_core.dal.dynamo import ConditionFailed, Item
from referral_core.dal.jobs import DuplicateEvent, JobRepository
from referral_core.errors import InvalidInput, Unavailable
from referral_core.hashing import email_hash, email_match_hash, peppered_hash
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobCustomer, JobEventType, JobWebhookEvent, JobWebhookResponse

#: Later in the list = closer to the money actually paid: its amount wins.
AMOUNT_ORDER = (JobEventType.CREATED, JobEventType.QUOTED, JobEventType.INVOICED, JobEventType.COMPLETED,
                JobEventType.PAID)
#: Status -> the job attribute holding when it happened.
TIMESTAMPS = {JobEventType.CREATED: "booked_at", JobEventType.PAID: "paid_at",
              JobEventType.COMPLETED: "completed_at", JobEventType.REFUNDED: "refunded_at",
              JobEventType.CANCELLED: "cancelled_at", JobEventType.DISPUTED: "disputed_at"}
MAX_ATTEMPTS = 25


def parse_event(body: bytes) -> JobWebhookEvent:
    """The webhook body as a model: 400 if it is not JSON, 422 naming the fields that are wrong."""
    raw = loads(body)  # the one bounded body reader: 400 for anything it cannot read
    try:
        return JobWebhookEvent.model_validate(raw)
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def customer_hash_kinds(customer: JobCustomer, *, pepper: str, phone_region: str) -> dict[str, str]:
    """The peppered email/phone hashes of the customer by kind (``email_hash``, ``phone_hash``): the same
    ones leads are indexed by, kept on the job by kind so a lead made from the job's referral code is
    indexed like a captured one (services.attribution.lead_from_code).

    A phone number that cannot be read is left out rather than refusing the job system's event.
    """
    hashes = {}
    if customer.email:
        hashes["email_hash"] = email_hash(pepper, customer.email)
    if customer.phone:
        with suppress(InvalidInput):
            hashes["phone_hash"] = peppered_hash(pepper, "phone", clean_phone(customer.phone, phone_region))
    return hashes


def look_alike_hashes(customer: JobCustomer, *, pepper: str) -> list[str]:
    """The customer's look-alike email hash (TS #39): indexed so a new lead that looks like an earlier
    customer is flagged ``existing_customer``, but never in the job's ``contact_hashes``, which link a
    job to a lead (a look-alike must not move money; docs/leads.md)."""
    return [email_match_hash(pepper, customer.email)] if customer.email else []


def event_item(event: JobWebhookEvent, *, webhook_id: str, hashes: dict[str, str], received_at: str) -> Item:
    data = event.data.model_dump(mode="json", exclude_none=True, exclude={"customer"})
    if event.data.customer.postcode:
        data["postcode"] = event.data.customer.postcode
    return {**data, **hashes, "event_type": str(event.type), "webhook_id": webhook_id,
            "contact_hashes": list(hashes.values()), "received_at": received_at}


def derive_job(job_id: str, events: Iterable[Item]) -> Item:
    """The job's state from its events, whatever order they arrived in (no None values)."""
    ordered = sorted(events, key=lambda e: (e["occurred_at"], e["event_type"]))
    by_type = {JobEventType(e["event_type"]): e for e in ordered}
    state: Item = {"job_id": job_id, "statuses": sorted(t.status for t in by_type)}
    for event_type, attribute in TIMESTAMPS.items():
        if event_type in by_type:
            state[attribute] = by_type[event_type]["occurred_at"]
    priced = [by_type[t] for t in AMOUNT_ORDER if t in by_type and "amount_cents" in by_type[t]]
    if priced:
        state["amount_cents"] = priced[-1]["amount_cents"]
        state["currency"] = priced[-1]["currency"]
    refund = by_type.get(JobEventType.REFUNDED)
    if refund is not None:
        refunded = int(refund.get("amount_cents", state.get("amount_cents")) or 0)
        paid = state.get("amount_cents")
        if paid is not None and refund.get("currency") == state.get("currency") and refunded > int(paid):
            # More than the job's amount cannot have been refunded: cap it, keep the excess for staff
            # (a flag on the referral, services.rewards.flag_refund_excess). The refund still counts.
            state["refund_excess_cents"] = refunded - int(paid)
            refunded = int(paid)
        state["refunded_cents"] = refunded
    lead_ids = [e["lead_id"] for e in ordered if e.get("lead_id")]
    if lead_ids:
        state["lead_id"] = lead_ids[0]
    codes = [e["referral_code"] for e in ordered if e.get("referral_code")]
    if codes:
        state["referral_code"] = codes[0]  # the first code the job system sent: a later one cannot move it
    postcodes = [e["postcode"] for e in ordered if e.get("postcode")]
    if postcodes:
        state["postcode"] = postcodes[-1]
    for kind in ("email_hash", "phone_hash"):
        latest = [e[kind] for e in ordered if e.get(kind)]
        if latest:
            state[kind] = latest[-1]
    state["contact_hashes"] = sorted({h for e in ordered for h in e.get("contact_hashes", [])})
    state["first_event_at"] = ordered[0]["occurred_at"]
    return state


def record_job_event(repo: JobRepository, event: JobWebhookEvent, *, webhook_id: str, pepper: str,
                     phone_region: str) -> JobWebhookResponse:
    """Record the event once and re-derive the job; a repeated event type changes nothing."""
    job_id = event.data.job_id
    hashes = customer_hash_kinds(event.data.customer, pepper=pepper, phone_region=phone_region)
    indexed = [*hashes.values(), *look_alike_hashes(event.data.customer, pepper=pepper)]
    for attempt in range(MAX_ATTEMPTS):
        record = repo.load(job_id)
        if any(e["event_type"] == event.type for e in record.events):
            return _answer(event, record.job, applied=False)
        now = iso()
        item = event_item(event, webhook_id=webhook_id, hashes=hashes, received_at=now)
        state = {**derive_job(job_id, [*record.events, item]), "updated_at": now}
        try:
            repo.record_event(item, state, expected_version=record.version, contact_hashes=indexed, at=now)
        except DuplicateEvent:
            return _answer(event, repo.get(job_id), applied=False)
        except ConditionFailed:
            time.sleep(random.uniform(0, 0.005 * (attempt + 1)))  # noqa: S311 - jitter, not security
            continue
        return _answer(event, state, applied=True)
    raise Unavailable("the job is being updated by other events, please retry", retry_after=1)


def _answer(event: JobWebhookEvent, job: Item | None, *, applied: bool) -> JobWebhookResponse:
    statuses: list[Any] = list((job or {}).get("statuses", []))
    return JobWebhookResponse(job_id=event.data.job_id, type=event.type, applied=applied,
                              statuses=sorted(statuses))
