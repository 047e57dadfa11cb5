"""Jobber: the ``X-Jobber-Hmac-SHA256`` check, and Jobber's id-only webhooks as job events.

Signature: base64(HMAC-SHA256(the app's OAuth client secret, raw body)), compared in constant time
(against every configured secret: two while one is rotated).

Jobber wants an answer within a second, so the webhook only checks the signature and the topic and
queues the ids (:func:`queue_message`); the queue consumer (:func:`fetch`) reads the invoice or job
through Jobber's GraphQL API with the account's OAuth token (services.providers.oauth_api) and
translates it (docs/integrations/jobber.md):

- ``INVOICE_CREATE`` / ``INVOICE_UPDATE`` with ``invoiceStatus`` ``paid`` -> ``job.paid`` for the
  invoice's total, the client's primary email and phone and billing postcode; on the invoice's job (its
  first job) so the invoice and the job land on one job;
- ``JOB_COMPLETE`` / ``JOB_CLOSED`` / ``JOB_UPDATE`` with ``completedAt`` set -> ``job.completed``;
- a custom field labelled "Referral code" (or "Referred by") on the invoice, job or client ->
  ``referral_code``.
Anything else is ignored (2xx, so Jobber does not retry it). One event is ``topic:itemId:occurredAt``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from referral_core.bodies import loads
from referral_core.errors import InvalidInput, Unauthorized
from referral_core.http_errors import validation_fields
from referral_core.models.jobber import JobberWebhook, JobberWebHookEvent
from referral_core.models.jobs import JobEventType, JobWebhookEvent
from referral_core.services.providers.oauth_api import OAuthApi

PROVIDER = "jobber"
SIGNATURE_HEADER = "x-jobber-hmac-sha256"
INVOICE_TOPICS = frozenset({"INVOICE_CREATE", "INVOICE_UPDATE"})
JOB_TOPICS = frozenset({"JOB_COMPLETE", "JOB_CLOSED", "JOB_UPDATE"})
#: The GraphQL schema version the queries below are written for (header X-JOBBER-GRAPHQL-VERSION).
GRAPHQL_VERSION = "2025-01-20"
REFERRAL_LABEL = re.compile(r"referr(al|er|ed)", re.IGNORECASE)

_CLIENT = """client { emails { address primary } phones { number primary } billingAddress { postalCode }
  customFields { ... on CustomFieldText { label valueText } } }"""
_CUSTOM = "customFields { ... on CustomFieldText { label valueText } }"
INVOICE_QUERY = (f"query Invoice($id: EncodedId!) {{ invoice(id: $id) {{ id invoiceStatus "
                 f"amounts {{ total }} jobs(first: 1) {{ nodes {{ id }} }} {_CUSTOM} {_CLIENT} }} }}")
JOB_QUERY = f"query Job($id: EncodedId!) {{ job(id: $id) {{ id jobStatus completedAt total {_CUSTOM} {_CLIENT} }} }}"


def signature(secret: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def verify(headers: Mapping[str, str], body: bytes, *, secrets: tuple[str, ...],
           refreshed: Callable[[], tuple[str, ...] | None] = lambda: None) -> None:
    """:class:`Unauthorized` unless the header signs ``body`` with one of the client secrets."""
    sent = headers.get(SIGNATURE_HEADER, "").strip()
    if not sent:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    if _matches(sent, body, secrets):
        return
    fresh = refreshed()
    if fresh is not None and _matches(sent, body, fresh):
        return
    raise Unauthorized("Jobber signature does not match")


def _matches(sent: str, body: bytes, secrets: tuple[str, ...]) -> bool:
    found = False
    for secret in secrets:  # no early exit: the time taken does not tell which secret matched
        found |= hmac.compare_digest(signature(secret, body).encode(), sent.encode())
    return found


def parse(body: bytes) -> JobberWebHookEvent:
    """The webhook's event: 400 if the body is not JSON, 422 naming the fields that are wrong."""
    try:
        return JobberWebhook.model_validate(loads(body)).data.web_hook_event
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def event_id(event: JobberWebHookEvent) -> str:
    """Jobber sends no event id: a delivery is its topic, item and time (a redelivery repeats all three)."""
    return f"{event.topic}:{event.item_id}:{event.occurred_at.isoformat()}"


def used(event: JobberWebHookEvent) -> bool:
    return event.topic in INVOICE_TOPICS or event.topic in JOB_TOPICS


def queue_message(event: JobberWebHookEvent) -> dict[str, Any]:
    return {"provider": PROVIDER, "event_id": event_id(event), "topic": event.topic,
            "account_id": event.account_id, "item_id": event.item_id,
            "occurred_at": event.occurred_at.isoformat()}


@dataclass(frozen=True)
class Fetched:
    """The queue consumer's result: the job event (None: ignored) and the ids of the same job."""

    event: JobWebhookEvent | None
    refs: tuple[str, ...] = ()


def fetch(message: Mapping[str, Any], api: OAuthApi, *, graphql_url: str, currency: str) -> Fetched:
    """The invoice or job the message names, read through the GraphQL API and translated."""
    topic, item = str(message["topic"]), str(message["item_id"])
    invoice = topic in INVOICE_TOPICS
    query, name = (INVOICE_QUERY, "invoice") if invoice else (JOB_QUERY, "job")
    answer = api.json("POST", graphql_url, {"query": query, "variables": {"id": item}},
                      headers={"X-JOBBER-GRAPHQL-VERSION": GRAPHQL_VERSION})
    record = ((answer or {}).get("data") or {}).get(name) if isinstance(answer, dict) else None
    if not isinstance(record, dict):
        return Fetched(None)
    occurred_at = str(message["occurred_at"])
    return _paid(record, occurred_at, currency) if invoice else _completed(record, occurred_at, currency)


def _paid(invoice: dict[str, Any], occurred_at: str, currency: str) -> Fetched:
    if str(invoice.get("invoiceStatus", "")).lower() != "paid":
        return Fetched(None)
    cents = to_cents((invoice.get("amounts") or {}).get("total"))
    jobs = ((invoice.get("jobs") or {}).get("nodes") or [])
    job_gid = jobs[0].get("id") if jobs and isinstance(jobs[0], dict) else None
    job_id = external_id(str(job_gid or invoice.get("id", "")))
    data: dict[str, Any] = {"job_id": job_id, "currency": currency, "occurred_at": occurred_at,
                            "customer": customer(invoice.get("client"))}
    if cents is not None:
        data["amount_cents"] = cents
    code = referral_code(invoice, invoice.get("client"))
    if code:
        data["referral_code"] = code
    return Fetched(_event(JobEventType.PAID, data), refs=(external_id(str(invoice.get("id", ""))),))


def _completed(job: dict[str, Any], occurred_at: str, currency: str) -> Fetched:
    if not job.get("completedAt"):
        return Fetched(None)
    data: dict[str, Any] = {"job_id": external_id(str(job.get("id", ""))), "currency": currency,
                            "occurred_at": occurred_at, "customer": customer(job.get("client"))}
    code = referral_code(job, job.get("client"))
    if code:
        data["referral_code"] = code
    return Fetched(_event(JobEventType.COMPLETED, data))


def _event(event_type: JobEventType, data: dict[str, Any]) -> JobWebhookEvent:
    try:
        return JobWebhookEvent.model_validate({"type": event_type, "data": data})
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def external_id(gid: str) -> str:
    """A Jobber global id as a job id: ``Z2lkOi8vSm9iYmVyL0pvYi8xMjM=`` (gid://Jobber/Job/123) ->
    ``jobber-job-123``; anything else keeps its id characters."""
    try:
        decoded = base64.b64decode(gid, validate=True).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        decoded = ""
    found = re.fullmatch(r"gid://Jobber/([A-Za-z]+)/(\d+)", decoded)
    if found:
        return f"jobber-{found.group(1).lower()}-{found.group(2)}"
    return "jobber-" + (re.sub(r"[^A-Za-z0-9._:\-]", "", gid)[:90] or "unknown")


def to_cents(amount: Any) -> int | None:
    """Jobber's money is a decimal number of the account's currency: 480.5 -> 48050."""
    if amount is None or isinstance(amount, bool):
        return None
    try:
        cents = (Decimal(str(amount)) * 100).quantize(Decimal(1))
    except InvalidOperation:
        return None
    return int(cents) if cents >= 0 else None


def _primary(items: Any, key: str) -> str | None:
    rows = [row for row in items or [] if isinstance(row, dict) and row.get(key)]
    chosen = next((row for row in rows if row.get("primary")), rows[0] if rows else None)
    return str(chosen[key]) if chosen else None


def customer(client: Any) -> dict[str, str]:
    if not isinstance(client, dict):
        return {}
    found = {"email": _primary(client.get("emails"), "address"), "phone": _primary(client.get("phones"), "number"),
             "postcode": (client.get("billingAddress") or {}).get("postalCode")}
    return {key: str(value) for key, value in found.items() if value}


def referral_code(*records: Any) -> str | None:
    """The first custom field labelled "Referral code" (or "Referred by") with a value."""
    for record in records:
        for custom in (record or {}).get("customFields") or [] if isinstance(record, dict) else []:
            if (isinstance(custom, dict) and REFERRAL_LABEL.search(str(custom.get("label") or ""))
                    and str(custom.get("valueText") or "").strip()):
                return str(custom["valueText"]).strip()
    return None
