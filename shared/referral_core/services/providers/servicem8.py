"""ServiceM8: its event webhooks (``job.completed``, ``job.invoice_paid``, ``job.quote_accepted``…) as job
events, read through ServiceM8's REST API with the account's OAuth token.

Authentication: ServiceM8 signs no webhook; it proves the callback URL with a subscription check (a form
post ``mode=subscribe&challenge=…`` answered with the challenge alone) and the record is always read back
from its API. So the callback URL registered for an account carries ``?account=<account uuid>&token=<the
deployment's webhook token>``; a missing or wrong token is 401 (constant-time compare) and nothing is
queued, and a forged event could only make the consumer read a real job again.

Like Jobber, the webhook acknowledges and queues the ids; the consumer (:func:`fetch`) reads
``GET /api_1.0/job/{uuid}.json`` and the job's contacts (``jobcontact.json?$filter=job_uuid eq '…'``):
- ``job.invoice_paid`` -> ``job.paid`` for ``total_invoice_amount`` (in cents, the programme's currency);
- ``job.completed`` (status ``Completed``) -> ``job.completed``;
- ``job.quote_accepted`` -> ``job.quoted``;
- a custom field whose name says "referral" (``customfield_referral_code``) -> ``referral_code``;
the contact's email and mobile, and the job's billing postcode, are the customer. Other events: ignored.
"""

from __future__ import annotations

import hmac
import re
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, quote

from pydantic import ValidationError

from referral_core.bodies import loads
from referral_core.errors import InvalidInput, Unauthorized
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobEventType, JobWebhookEvent
from referral_core.models.servicem8 import ServiceM8Webhook
from referral_core.services.providers.jobber import Fetched, to_cents
from referral_core.services.providers.oauth_api import OAuthApi

PROVIDER = "servicem8"
EVENTS = {"job.invoice_paid": JobEventType.PAID, "job.completed": JobEventType.COMPLETED,
          "job.quote_accepted": JobEventType.QUOTED}
ACCOUNT = re.compile(r"^[A-Za-z0-9\-]{1,64}$")
REFERRAL_FIELD = re.compile(r"^customfield_.*referr", re.IGNORECASE)
POSTCODE = re.compile(r"\b(\d{4})\s*$")


def verify(query: Mapping[str, str], *, token: str) -> str:
    """The account the callback URL names, or :class:`Unauthorized` unless its token is the webhook token."""
    sent = str(query.get("token") or "")
    if not sent or not token or not hmac.compare_digest(sent.encode(), token.encode()):
        raise Unauthorized("missing or wrong ServiceM8 callback token")
    account = str(query.get("account") or "")
    if not ACCOUNT.match(account):
        raise Unauthorized("the ServiceM8 callback URL names no account")
    return account


def challenge(body: bytes, content_type: str) -> str | None:
    """The subscription check's challenge (a form post ``mode=subscribe``), or None for an event."""
    if "application/x-www-form-urlencoded" not in content_type:
        return None
    form = parse_qs(body.decode("utf-8", "replace"))
    if form.get("mode", [""])[0] != "subscribe":
        return None
    return form.get("challenge", [""])[0][:200] or None


def parse(body: bytes) -> ServiceM8Webhook:
    try:
        return ServiceM8Webhook.model_validate(loads(body))
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def messages(webhook: ServiceM8Webhook, account: str) -> list[dict[str, Any]]:
    """One queue message per job the event names (ids only); none for an event the adapter does not use."""
    if webhook.event not in EVENTS:
        return []
    return [{"provider": PROVIDER, "event_id": f"{webhook.event}:{entry.uuid}:{entry.time or ''}",
             "topic": webhook.event, "account_id": account, "item_id": entry.uuid, "occurred_at": entry.time}
            for entry in webhook.entry]


def event_id(webhook: ServiceM8Webhook) -> str:
    first = webhook.entry[0]
    return f"{webhook.event}:{first.uuid}:{first.time or ''}"


def fetch(message: Mapping[str, Any], api: OAuthApi, *, api_url: str, currency: str, now: str) -> Fetched:
    """The job the message names, read through the REST API and translated."""
    event_type = EVENTS.get(str(message["topic"]))
    uuid = str(message["item_id"])
    if event_type is None:
        return Fetched(None)
    job = api.json("GET", f"{api_url}/job/{quote(uuid)}.json")
    if not isinstance(job, dict):
        return Fetched(None)
    if event_type is JobEventType.COMPLETED and str(job.get("status", "")).lower() != "completed":
        return Fetched(None)
    contacts = api.json("GET", f"{api_url}/jobcontact.json?%24filter=" + quote(f"job_uuid eq '{uuid}'"))
    data: dict[str, Any] = {"job_id": f"servicem8-{uuid}", "currency": currency,
                            "occurred_at": occurred_at(message.get("occurred_at")) or now,
                            "customer": customer(contacts, job)}
    if event_type is JobEventType.PAID:
        cents = to_cents(job.get("total_invoice_amount"))
        if not cents:
            return Fetched(None)
        data["amount_cents"] = cents
    code = next((str(v).strip() for k, v in job.items() if REFERRAL_FIELD.search(k) and str(v or "").strip()), None)
    if code:
        data["referral_code"] = code
    try:
        return Fetched(JobWebhookEvent.model_validate({"type": event_type, "data": data}))
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def occurred_at(value: Any) -> str | None:
    """ServiceM8's "2026-11-22 09:00:00" (UTC) as ISO 8601."""
    text = str(value or "").strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", text):
        return None
    return text.replace(" ", "T") + "Z"


def customer(contacts: Any, job: Mapping[str, Any]) -> dict[str, str]:
    rows = [c for c in contacts or [] if isinstance(c, dict) and str(c.get("active", 1)) != "0"] \
        if isinstance(contacts, list) else []
    chosen = next((c for c in rows if str(c.get("type", "")).upper() == "JOB"), rows[0] if rows else {})
    found = {"email": chosen.get("email"), "phone": chosen.get("mobile") or chosen.get("phone")}
    postcode = POSTCODE.search(str(job.get("billing_address") or job.get("job_address") or ""))
    if postcode:
        found["postcode"] = postcode.group(1)
    return {key: str(value) for key, value in found.items() if value}
