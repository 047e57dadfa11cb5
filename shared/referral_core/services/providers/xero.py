"""Xero: the ``x-xero-signature`` check, the intent-to-receive handshake, and invoice and credit note
events as job events, fetched over the Accounting API (docs/integrations/xero.md).

Signature: base64(HMAC-SHA256(webhook key, raw body)), compared in constant time. A delivery without
events is Xero's intent-to-receive check: 200 for a good signature, 401 otherwise, as for any delivery.

Xero's events carry ids only, so each one is fetched with the tenant's OAuth token:
- ``INVOICE`` -> ``GET /api.xro/2.0/Invoices/{id}``: a sales invoice (``ACCREC``) with status ``PAID`` is
  ``job.paid`` on the job of its ``InvoiceID`` (``Total`` in cents, ``CurrencyCode``, the contact's
  ``EmailAddress``, a "Referral <code>" in ``Reference``). Any other status changes no job yet.
- ``CREDITNOTE`` -> ``GET /api.xro/2.0/CreditNotes/{id}``: a sales credit note (``ACCRECCREDIT``),
  ``AUTHORISED`` or ``PAID``, allocated to an invoice is ``job.refunded`` on that invoice's job for the
  amount allocated to it.
- Anything else is ignored, and so is an event of an organisation whose tokens were never stored (a
  warning and the ``XeroTenantNotConnected`` metric; staff connect it: docs/integrations/xero.md).

The API client refreshes the tenant's token once on a 401 (and stores the new pair: Xero's refresh tokens
are single-use), waits ``Retry-After`` on a 429 and backs off on a 5xx or no answer, within a time budget
that keeps the whole delivery under Xero's 5-second limit; then it gives up with :class:`XeroUnavailable`
and the delivery is answered 503, so Xero delivers it again later (the dead-letter choice: docs/integrations/xero.md).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol
from urllib.parse import quote, urlencode

from pydantic import ValidationError

from referral_core.bodies import loads
from referral_core.dal.outbound_http import Reply
from referral_core.errors import InvalidInput, NotConnected, Unauthorized, Unavailable
from referral_core.http_errors import validation_fields
from referral_core.models.jobs import JobEventType
from referral_core.models.xero import (
    CreditNotes,
    Invoices,
    XeroCreditNote,
    XeroEvent,
    XeroInvoice,
    XeroWebhook,
)
from referral_core.observability import count, logger
from referral_core.services.providers.translation import Translated

SIGNATURE_HEADER = "x-xero-signature"
#: "Referral K7QX3MZ" (or "Referral code: K7QX3MZ", "Ref #K7QX3MZ") in an invoice's Reference.
REFERRAL_IN_REFERENCE = re.compile(r"\b(?:referral(?:\s+code)?|ref)\s*[:#-]?\s*([A-Za-z0-9][A-Za-z0-9-]{2,31})\b",
                                   re.IGNORECASE)


def signature(key: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def matches(sent: str, body: bytes, keys: Sequence[str]) -> bool:
    try:
        candidate = base64.b64decode(sent, validate=True)
    except (binascii.Error, ValueError):
        return False
    found = False
    for key in keys:
        # No early exit: the time taken does not tell which key matched.
        found |= hmac.compare_digest(hmac.new(key.encode(), body, hashlib.sha256).digest(), candidate)
    return found


def verify(headers: Mapping[str, str], body: bytes, *, keys: Sequence[str],
           refreshed: Callable[[], Sequence[str] | None] = lambda: None) -> None:
    sent = headers.get(SIGNATURE_HEADER, "").strip()
    if not sent:
        raise Unauthorized(f"missing {SIGNATURE_HEADER} header")
    if matches(sent, body, keys):
        return
    fresh = refreshed()
    if fresh is not None and matches(sent, body, fresh):
        return
    raise Unauthorized("Xero signature does not match")


def parse(body: bytes) -> XeroWebhook:
    raw = loads(body)
    try:
        return XeroWebhook.model_validate(raw)
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None


# -- the Accounting API -----------------------------------------------------------------------------------
class XeroUnavailable(Unavailable):
    """Xero's API did not answer usefully within the delivery's budget: Xero is to deliver again."""


class TokenStore(Protocol):
    def tokens(self, tenant_id: str) -> dict[str, Any]: ...

    def store(self, tenant_id: str, tokens: dict[str, Any]) -> None: ...


Http = Callable[[str, str, bytes | None, dict[str, str]], Reply]


@dataclass
class XeroApi:
    """GETs on the Accounting API for one delivery, with refresh, backoff and a shared time budget."""

    api_url: str
    token_url: str
    client_id: str
    client_secret: str
    tokens: TokenStore
    http: Http
    budget_s: float = 3.5
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    max_attempts: int = 4
    _deadline: float | None = field(default=None, repr=False)

    def get(self, tenant_id: str, path: str) -> dict[str, Any] | None:
        """The JSON answer, or None for a 404 (deleted in Xero); :class:`XeroUnavailable` when out of tries."""
        if self._deadline is None:
            self._deadline = self.clock() + self.budget_s
        tokens = self.tokens.tokens(tenant_id)
        refreshed = False
        for attempt in range(self.max_attempts):
            reply = self.http("GET", self.api_url.rstrip("/") + path, None, {
                "Authorization": f"Bearer {tokens.get('access_token', '')}", "xero-tenant-id": tenant_id,
                "Accept": "application/json"})
            if reply.status == 401 and not refreshed:
                tokens = self.refresh(tenant_id, tokens)
                refreshed = True
                continue
            if reply.status is not None and 200 <= reply.status < 300:
                try:
                    answer = json.loads(reply.body)
                except ValueError:
                    raise XeroUnavailable("Xero answered something that is not JSON") from None
                return answer if isinstance(answer, dict) else None
            if reply.status == 404:
                return None
            if reply.status == 429:
                self._wait(_seconds(reply.retry_after, default=1.0))
            elif reply.status is None or reply.status >= 500:
                self._wait(0.2 * 2**attempt)
            else:
                raise XeroUnavailable(f"Xero refused the request ({reply.status})")
        raise XeroUnavailable("Xero did not answer in time, it will deliver the event again")

    def refresh(self, tenant_id: str, tokens: dict[str, Any]) -> dict[str, Any]:
        """A new token pair from the refresh token, stored before it is used (the old one is spent)."""
        basic = base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()
        body = urlencode({"grant_type": "refresh_token", "refresh_token": tokens.get("refresh_token", "")})
        for attempt in range(self.max_attempts):
            reply = self.http("POST", self.token_url, body.encode(), {
                "Authorization": f"Basic {basic}", "Content-Type": "application/x-www-form-urlencoded",
                "Accept": "application/json"})
            if reply.status == 200:
                try:
                    fresh = json.loads(reply.body)
                except ValueError:
                    fresh = None
                if not isinstance(fresh, dict) or not fresh.get("access_token") or not fresh.get("refresh_token"):
                    raise XeroUnavailable("Xero's token answer has no token pair")
                pair = {"access_token": fresh["access_token"], "refresh_token": fresh["refresh_token"]}
                self.tokens.store(tenant_id, pair)
                return pair
            if reply.status == 429:
                self._wait(_seconds(reply.retry_after, default=1.0))
            elif reply.status is None or reply.status >= 500:
                self._wait(0.2 * 2**attempt)
            else:  # 400 invalid_grant: the connection was revoked; staff reconnect (docs)
                raise XeroUnavailable(f"Xero refused the token refresh ({reply.status}): reconnect the organisation")
        raise XeroUnavailable("Xero's token endpoint did not answer in time")

    def _wait(self, seconds: float) -> None:
        assert self._deadline is not None
        left = self._deadline - self.clock()
        if seconds > left:
            raise XeroUnavailable("Xero asked to wait longer than this delivery may",
                                  retry_after=max(1, round(seconds)))
        self.sleep(seconds)


def _seconds(value: str | None, *, default: float) -> float:
    try:
        return max(0.0, float(value)) if value is not None else default
    except ValueError:
        return default


# -- translation ----------------------------------------------------------------------------------------
def event_id(event: XeroEvent) -> str:
    """Xero's events carry no id of their own: the tenant, resource, category, type and time make one."""
    return f"{event.tenantId}:{event.eventCategory}:{event.resourceId}:{event.eventType}:{event.eventDateUtc}"


def translate(event: XeroEvent, api: XeroApi) -> Translated:
    key = event_id(event)
    try:
        tenant, resource = str(uuid.UUID(event.tenantId)), str(uuid.UUID(event.resourceId))
    except ValueError:
        return Translated(key, ignored="tenant or resource is not a Xero id")
    if event.eventCategory not in ("INVOICE", "CREDITNOTE"):
        return Translated(key, ignored="event category not used")
    try:
        if event.eventCategory == "INVOICE":
            answer = api.get(tenant, f"/api.xro/2.0/Invoices/{quote(resource)}")
            invoices = _read(Invoices, answer).Invoices if answer else []
            return _paid(key, event, invoices[0]) if invoices else Translated(key, ignored="invoice not found")
        answer = api.get(tenant, f"/api.xro/2.0/CreditNotes/{quote(resource)}")
        notes = _read(CreditNotes, answer).CreditNotes if answer else []
        return _refunded(key, event, notes[0]) if notes else Translated(key, ignored="credit note not found")
    except NotConnected:
        # Answered 2xx and ignored, not 5xx: Xero disables a webhook after 24 hours of failed deliveries, and
        # one delivery carries the events of every organisation (docs/integrations/xero.md, "Not connected").
        logger.warning("xero organisation not connected: event ignored",
                       extra={"provider": "xero", "tenant_id": tenant, "event_id": key})
        count("XeroTenantNotConnected")
        return Translated(key, ignored="organisation not connected")


def _read(model: type[Invoices] | type[CreditNotes], answer: dict[str, Any]) -> Any:
    try:
        return model.model_validate(answer)
    except ValidationError:
        raise XeroUnavailable("Xero's answer is not an invoice or credit note as documented") from None


def _paid(key: str, event: XeroEvent, invoice: XeroInvoice) -> Translated:
    if invoice.Type != "ACCREC":
        return Translated(key, ignored="not a sales invoice")
    if invoice.Status != "PAID":
        return Translated(key, ignored="invoice not paid")
    if invoice.Total is None or not invoice.CurrencyCode:
        return Translated(key, ignored="invoice has no total")
    job: dict[str, object] = {"job_id": invoice.InvoiceID, "amount_cents": cents(invoice.Total),
                              "currency": invoice.CurrencyCode, "occurred_at": occurred_at(event)}
    if invoice.Contact is not None and invoice.Contact.EmailAddress:
        job["customer"] = {"email": invoice.Contact.EmailAddress}
    code = referral_code(invoice.Reference)
    if code:
        job["referral_code"] = code
    return Translated(key, JobEventType.PAID, job)


def _refunded(key: str, event: XeroEvent, note: XeroCreditNote) -> Translated:
    if note.Type != "ACCRECCREDIT":
        return Translated(key, ignored="not a sales credit note")
    if note.Status not in ("AUTHORISED", "PAID"):
        return Translated(key, ignored="credit note not approved")
    allocated = [a for a in note.Allocations if a.Invoice is not None and a.Invoice.InvoiceID]
    if not allocated or not note.CurrencyCode:
        return Translated(key, ignored="credit note not allocated to an invoice")
    invoice_id = allocated[0].Invoice.InvoiceID if allocated[0].Invoice else None
    amount = sum((a.Amount or Decimal(0) for a in allocated if a.Invoice and a.Invoice.InvoiceID == invoice_id),
                 Decimal(0))
    return Translated(key, JobEventType.REFUNDED, {"job_id": invoice_id, "amount_cents": cents(amount),
                                                    "currency": note.CurrencyCode, "occurred_at": occurred_at(event)})


def cents(amount: Decimal) -> int:
    """Xero's decimal amounts (two places) in integer cents."""
    return int((amount * 100).to_integral_value())


def occurred_at(event: XeroEvent) -> datetime:
    """``eventDateUtc`` is UTC, usually without an offset ("2025-10-21T01:15:39.902")."""
    try:
        moment = datetime.fromisoformat(event.eventDateUtc.replace("Z", "+00:00"))
    except ValueError:
        raise InvalidInput("eventDateUtc is not a date", fields={"events.eventDateUtc": "is not a date"}) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def referral_code(reference: str | None) -> str | None:
    found = REFERRAL_IN_REFERENCE.search(reference or "")
    return found.group(1) if found else None
