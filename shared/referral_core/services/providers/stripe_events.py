"""Stripe's events as job events (docs/integrations/stripe.md). Pure: no Stripe library, no AWS.

The signature is checked before this reads anything (the function's wiring, with the ``stripe`` library).

| Stripe event | Job event | amount |
|---|---|---|
| ``invoice.paid``, ``invoice.payment_succeeded`` | ``job.paid`` + ``job.completed`` | ``amount_paid`` (¹) |
| ``checkout.session.completed`` (paid), ``…async_payment_succeeded`` | the same | ``amount_total`` |
| ``charge.refunded`` (partial or full) | ``job.refunded`` | ``amount_refunded`` (the total refunded so far) |
| ``charge.dispute.created`` | ``job.disputed`` | the dispute's ``amount`` |
| anything else, or a checkout not paid yet | ignored (200) | |

(¹) else ``amount_due``, else ``total``: what a paid invoice says it was paid when ``amount_paid`` is absent.

Stripe knows payments, not work: a payment counts as the job completed too (both events, from the one
Stripe event), unless ``metadata.job_completed`` is ``false`` (work still to do: the job system's own
``job.completed`` then completes it, through ``POST /webhooks/jobs`` with the same job id).

The job: ``metadata.job_id`` when the business put it there, else a Checkout Session's
``client_reference_id``, else Stripe's own ids of the payment (``refs``, the payment intent first: the one
id an invoice, its charge, a refund and a dispute share), which ``ProviderIngest`` remembers so a refund
reaches the job its invoice named. ``metadata.lead_id`` and ``metadata.referral_code`` pass through; a
promotion code used at checkout or on the invoice counts as the referral code when no metadata names one
(its text: from the event when expanded, else from ``promotion_code``, the function's lookup).

An invoice names its customer's contact details in ``customer_email``/``customer_phone``/``customer_address``;
one without an email (an emulator's, or an invoice made before the customer had one) that names its
``customer`` is completed from the customer object: expanded in the event, else read through ``customer``
(the function's lookup, with the restricted key), the invoice's own fields first.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import ValidationError

from referral_core.errors import InvalidInput, MalformedRequest
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobEventType, JobWebhookEvent

PROVIDER = "stripe"
PAID = frozenset({"invoice.paid", "invoice.payment_succeeded", "checkout.session.completed",
                  "checkout.session.async_payment_succeeded"})
#: The event types the adapter reads (the ones to subscribe to); every other one is acknowledged and ignored.
SUBSCRIBED = (*sorted(PAID), "charge.refunded", "charge.dispute.created")
#: Job and lead ids become parts of keys: a metadata value outside this shape is not used as one.
ID_PATTERN = re.compile(r"^[A-Za-z0-9._:\-]{1,100}$")
#: The longest event id or type read (Stripe's are far shorter).
MAX_TEXT = 255
#: The latest ``created`` read (year 2286): a larger number is no time Stripe sent.
MAX_CREATED = 9_999_999_999
SETTLED_CHECKOUT = frozenset({"paid", "no_payment_required"})


@dataclass(frozen=True)
class StripeEvent:
    """What the adapter read from one Stripe event: its id and type, the job event (None: ignored), the
    payment's Stripe ids and whether the business named the job itself."""

    event_id: str
    type: str
    event: JobWebhookEvent | None
    refs: tuple[str, ...] = ()
    job_id_given: bool = False
    also: tuple[JobWebhookEvent, ...] = ()


def _text(value: Any) -> str | None:
    return (value.strip() or None) if isinstance(value, str) else None


def _id(value: Any) -> str | None:
    """A Stripe id field, whether Stripe sent the id or the expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    text = _text(value)
    return text if text and ID_PATTERN.match(text) else None


def _map(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def envelope(raw: Any) -> tuple[str, str, Mapping[str, Any]]:
    """The event's id, type and ``data.object``; 400 for a body that is no Stripe event, 422 naming the field
    for an id or type that is not one line of text, or a ``created`` that is no unix time."""
    body = _map(raw)
    event_id, event_type, obj = body.get("id"), body.get("type"), _map(body.get("data")).get("object")
    wrong = {name: f"must be one line of at most {MAX_TEXT} characters"
             for name, value in (("id", event_id), ("type", event_type))
             if isinstance(value, str) and (not value.isprintable() or len(value) > MAX_TEXT)}
    created = body.get("created")
    if created is not None and (not isinstance(created, int) or isinstance(created, bool)
                                or not 0 <= created <= MAX_CREATED):
        wrong["created"] = f"must be unix seconds, at most {MAX_CREATED}"
    if wrong:
        raise InvalidInput(f"invalid fields: {', '.join(wrong)}", fields=wrong)
    for name, value in (("id", event_id), ("type", event_type)):
        if not isinstance(value, str) or not value:
            raise MalformedRequest(f"not a Stripe event: no {name}")
    if not isinstance(obj, Mapping):
        raise MalformedRequest("not a Stripe event: no data.object")
    return str(event_id), str(event_type), obj


def translate(raw: Any, *, promotion_code: Callable[[str], str | None] = lambda _id: None,
              customer: Callable[[str], Mapping[str, Any] | None] = lambda _id: None) -> StripeEvent:
    """One verified Stripe event as a job event (see the module's table); ``customer`` reads a Stripe
    customer by id (None: not available)."""
    event_id, event_type, obj = envelope(raw)
    kind = _kind(event_type, obj, customer)
    if kind is None:
        return StripeEvent(event_id, event_type, None)
    job_type, amount, contact, found = kind
    metadata = _metadata(obj)
    given = _id(metadata.get("job_id")) or (
        _id(obj.get("client_reference_id")) if obj.get("object") == "checkout.session" else None)
    refs = tuple(dict.fromkeys(r for r in found if r))
    job_id = given or (refs[0] if refs else None)
    if job_id is None:
        return StripeEvent(event_id, event_type, None)
    code = _text(metadata.get("referral_code")) or _promotion_code(obj, promotion_code)
    data: dict[str, Any] = {
        "job_id": job_id, "lead_id": _id(metadata.get("lead_id")), "referral_code": code,
        "customer": {k: v for k, v in contact.items() if v}, "amount_cents": amount,
        "currency": str(obj.get("currency") or "").upper(),
        "occurred_at": datetime.fromtimestamp(int(_map(raw).get("created") or 0), UTC),
    }
    event = _job_event(job_type, data)
    also = () if job_type != JobEventType.PAID or _no(metadata.get("job_completed")) else (
        _job_event(JobEventType.COMPLETED, data),)
    return StripeEvent(event_id, event_type, event, refs, job_id_given=given is not None, also=also)


def _job_event(job_type: JobEventType, data: dict[str, Any]) -> JobWebhookEvent:
    try:
        return JobWebhookEvent.model_validate({"type": job_type, "data": {k: v for k, v in data.items()
                                                                         if v is not None}})
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def _no(value: Any) -> bool:
    return isinstance(value, str) and value.strip().lower() in ("false", "no", "0")


def _kind(event_type: str, obj: Mapping[str, Any], lookup: Callable[[str], Mapping[str, Any] | None]
          ) -> tuple[JobEventType, int | None, dict[str, str | None], list[str | None]] | None:
    """(job event type, amount, customer, the payment's Stripe ids) of an event the adapter reads."""
    name = obj.get("object")
    if event_type in PAID and name == "invoice":
        payments = [_map(_map(p).get("payment")) for p in _map(obj.get("payments")).get("data") or ()]
        refs = [_id(obj.get("payment_intent")), *(_id(p.get("payment_intent")) for p in payments),
                _id(obj.get("charge")), *(_id(p.get("charge")) for p in payments), _id(obj.get("id"))]
        customer = {"email": _text(obj.get("customer_email")), "phone": _text(obj.get("customer_phone")),
                    "postcode": _text(_map(obj.get("customer_address")).get("postal_code"))}
        if customer["email"] is None:
            customer = _with_customer(customer, obj.get("customer"), lookup)
        amount = next((c for c in map(_cents, (obj.get(k) for k in ("amount_paid", "amount_due", "total")))
                       if c is not None), None)
        return JobEventType.PAID, amount, customer, refs
    if event_type in PAID and name == "checkout.session":
        if obj.get("payment_status") not in SETTLED_CHECKOUT:
            return None  # an asynchronous payment still under way: its async_payment_succeeded follows
        details = _map(obj.get("customer_details"))
        customer = {"email": _text(details.get("email")) or _text(obj.get("customer_email")),
                    "phone": _text(details.get("phone")),
                    "postcode": _text(_map(details.get("address")).get("postal_code"))}
        refs = [_id(obj.get("payment_intent")), _id(obj.get("invoice")), _id(obj.get("id"))]
        return JobEventType.PAID, _cents(obj.get("amount_total")), customer, refs
    if event_type == "charge.refunded" and name == "charge":
        billing = _map(obj.get("billing_details"))
        customer = {"email": _text(billing.get("email")) or _text(obj.get("receipt_email")),
                    "phone": _text(billing.get("phone")),
                    "postcode": _text(_map(billing.get("address")).get("postal_code"))}
        refs = [_id(obj.get("payment_intent")), _id(obj.get("id")), _id(obj.get("invoice"))]
        return JobEventType.REFUNDED, _cents(obj.get("amount_refunded")), customer, refs
    if event_type == "charge.dispute.created" and name == "dispute":
        refs = [_id(obj.get("payment_intent")), _id(obj.get("charge")), _id(obj.get("id"))]
        return JobEventType.DISPUTED, _cents(obj.get("amount")), {}, refs
    return None


def _with_customer(customer: dict[str, str | None], ref: Any, lookup: Callable[[str], Mapping[str, Any] | None]
                   ) -> dict[str, str | None]:
    """``customer`` completed from the invoice's Stripe customer (expanded, else looked up by id): the
    invoice's own fields win; a deleted or unreadable customer adds nothing."""
    if isinstance(ref, Mapping) and "email" in ref:
        found: Mapping[str, Any] | None = ref
    else:
        customer_id = _id(ref)
        found = lookup(customer_id) if customer_id else None
    found = _map(found)
    if found.get("deleted"):
        return customer
    theirs = {"email": _text(found.get("email")), "phone": _text(found.get("phone")),
              "postcode": _text(_map(found.get("address")).get("postal_code"))}
    return {k: v or theirs[k] for k, v in customer.items()}


def _cents(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _metadata(obj: Mapping[str, Any]) -> dict[str, Any]:
    """The object's metadata; an invoice of a subscription also carries its subscription's."""
    merged: dict[str, Any] = {}
    parent = _map(obj.get("parent"))
    for source in (_map(parent.get("subscription_details")).get("metadata"),
                   _map(obj.get("subscription_details")).get("metadata"), obj.get("metadata")):
        merged.update(_map(source))
    return merged


def _promotion_code(obj: Mapping[str, Any], lookup: Callable[[str], str | None]) -> str | None:
    """The text of the first promotion code on the invoice or session: from the event when Stripe
    expanded it, else through ``lookup`` (its id)."""
    discounts = [obj.get("discount"), *(obj.get("discounts") or ())]
    for discount in discounts:
        promotion = _map(discount).get("promotion_code")
        if isinstance(promotion, Mapping) and _text(promotion.get("code")):
            return _text(promotion.get("code"))
        promotion_id = _id(promotion)
        if promotion_id:
            return lookup(promotion_id)
    return None
