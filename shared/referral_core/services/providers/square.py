"""Square: the ``x-square-hmacsha256-signature`` check and Square's events as job events.

Signature: base64(HMAC-SHA256(subscription signature key, notification URL + raw body)), compared in
constant time against every configured key (two while a key is being regenerated). The notification URL
is the one registered with Square, byte for byte, so it is configured beside the key, not guessed from the
request.

Translation (docs/integrations/square.md):
- ``invoice.payment_made`` with the invoice ``PAID`` -> ``job.paid``: the amount is what was completed on
  the invoice's payment requests (their computed amounts if Square sent no completed ones), the customer is
  the invoice's ``primary_recipient`` (email, phone, postcode when present), a custom field labelled
  "Referral code" carries the code staff typed. A payment that leaves the invoice ``PARTIALLY_PAID`` (a
  deposit) earns nothing yet: ignored.
- ``refund.created`` / ``refund.updated`` with status ``COMPLETED`` -> ``job.refunded`` for
  ``amount_money`` (a pending refund is ignored; its later update completes it).
- The job is Square's **order** id: an invoice and the refunds of its payments share it, so they land on
  one job.
Everything else is ignored (answered 2xx so Square does not retry it).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import ValidationError

from referral_core.bodies import loads
from referral_core.errors import InvalidInput, Unauthorized
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobEventType
from referral_core.models.square import Invoice, Money, SquareEvent
from referral_core.services.providers.translation import Translated

SIGNATURE_HEADER = "x-square-hmacsha256-signature"
PAID_EVENTS = frozenset({"invoice.payment_made"})
REFUND_EVENTS = frozenset({"refund.created", "refund.updated"})
#: A custom field whose label matches holds the referral code staff put on the invoice.
REFERRAL_LABEL = re.compile(r"referr(al|er)", re.IGNORECASE)


def signature(key: str, notification_url: str, body: bytes) -> str:
    """The header value Square sends for ``body`` posted to ``notification_url``."""
    digest = hmac.new(key.encode(), notification_url.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


@dataclass(frozen=True)
class SquareKeys:
    """The subscription's notification URL and its signature keys (two while one is regenerated)."""

    notification_url: str
    keys: tuple[str, ...]


def matches(sent: str, body: bytes, keys: SquareKeys) -> bool:
    found = False
    for key in keys.keys:
        # No early exit: the time taken does not tell which key matched.
        found |= hmac.compare_digest(signature(key, keys.notification_url, body).encode(), sent.encode())
    return found


def verify(headers: Mapping[str, str], body: bytes, *, keys: SquareKeys,
           refreshed: Callable[[], SquareKeys | None] = lambda: None) -> None:
    """Raise :class:`Unauthorized` unless the header signs ``body`` under one of the keys; ``refreshed``
    (freshly read keys, or None when it may not read them now) is asked only when none matches."""
    sent = headers.get(SIGNATURE_HEADER, "").strip()
    if not sent:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    if matches(sent, body, keys):
        return
    fresh = refreshed()
    if fresh is not None and matches(sent, body, fresh):
        return
    raise Unauthorized("Square signature does not match")


def parse(body: bytes) -> SquareEvent:
    """The notification as a model: 400 if it is not JSON, 422 naming the fields that are wrong."""
    raw = loads(body)
    try:
        return SquareEvent.model_validate(raw)
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


def translate(event: SquareEvent) -> Translated:
    if event.type in PAID_EVENTS:
        return _paid(event)
    if event.type in REFUND_EVENTS:
        return _refunded(event)
    return Translated(event.event_id, ignored="event type not used")


def _paid(event: SquareEvent) -> Translated:
    invoice = event.data.object.invoice
    if invoice is None or not invoice.order_id:
        return Translated(event.event_id, ignored="no invoice with an order")
    if invoice.status != "PAID":
        return Translated(event.event_id, ignored="invoice not fully paid")
    money = _invoice_total(invoice)
    if money is None:
        return Translated(event.event_id, ignored="invoice has no amount")
    job: dict[str, object] = {"job_id": invoice.order_id, "amount_cents": money.amount,
                              "currency": money.currency, "occurred_at": event.created_at}
    recipient = invoice.primary_recipient
    if recipient is not None:
        customer = {"email": recipient.email_address, "phone": recipient.phone_number,
                    "postcode": recipient.address.postal_code if recipient.address else None}
        job["customer"] = {key: value for key, value in customer.items() if value}
    code = referral_code(invoice)
    if code:
        job["referral_code"] = code
    return Translated(event.event_id, JobEventType.PAID, job)


def _refunded(event: SquareEvent) -> Translated:
    refund = event.data.object.refund
    if refund is None or not refund.order_id:
        return Translated(event.event_id, ignored="no refund with an order")
    if refund.status != "COMPLETED":
        return Translated(event.event_id, ignored="refund not completed")
    money = refund.amount_money
    if money is None or money.currency is None:
        return Translated(event.event_id, ignored="refund has no amount")
    return Translated(event.event_id, JobEventType.REFUNDED,
                      {"job_id": refund.order_id, "amount_cents": money.amount, "currency": money.currency,
                       "occurred_at": event.created_at})


def _invoice_total(invoice: Invoice) -> Money | None:
    """The sum over the payment requests of what was completed (else what was asked), in one currency."""
    for attribute in ("total_completed_amount_money", "computed_amount_money"):
        amounts: list[Money] = [m for r in invoice.payment_requests if (m := getattr(r, attribute)) is not None]
        currencies = {m.currency for m in amounts}
        if amounts and len(currencies) == 1 and None not in currencies:
            total = sum(m.amount for m in amounts)
            if total > 0:
                return Money(amount=total, currency=amounts[0].currency)
    return None


def referral_code(invoice: Invoice) -> str | None:
    """The value of the invoice's custom field labelled "Referral code" (or "Referred by"), if any."""
    for custom in invoice.custom_fields:
        if custom.label and REFERRAL_LABEL.search(custom.label) and custom.value:
            return custom.value.strip()
    return None
