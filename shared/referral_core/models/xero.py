"""Xero: the webhook payload (``POST /webhooks/xero``, ids only) and the parts of its Accounting API's
invoice and credit note the adapter reads (developer.xero.com/documentation). Everything else in either
is ignored and never stored."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), OneLine]
#: Xero's sequence numbers count the app's events; 2^53 keeps them exact in every JSON reader.
MAX_SEQUENCE = 2**53


class XeroModel(Model):
    model_config = ConfigDict(extra="ignore")


class XeroEvent(XeroModel):
    resourceUrl: Annotated[str, StringConstraints(max_length=2048), OneLine] | None = None
    resourceId: Text
    eventDateUtc: Text
    eventType: Text = Field(description="CREATE or UPDATE")
    eventCategory: Text = Field(description="INVOICE, CREDITNOTE, CONTACT, ...")
    tenantId: Text
    tenantType: Text | None = None


class XeroWebhook(XeroModel):
    """One delivery; an intent-to-receive check carries no events."""

    events: Annotated[list[XeroEvent], Field(max_length=500)] = Field(default_factory=list)
    firstEventSequence: Annotated[int, Field(ge=0, le=MAX_SEQUENCE)] | None = None
    lastEventSequence: Annotated[int, Field(ge=0, le=MAX_SEQUENCE)] | None = None
    entropy: Text | None = None


# -- the Accounting API's answers ------------------------------------------------------------------------
class XeroContact(XeroModel):
    ContactID: Text | None = None
    EmailAddress: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), OneLine] | None = None


class XeroInvoiceRef(XeroModel):
    InvoiceID: Text | None = None


class Allocation(XeroModel):
    Amount: Decimal | None = None
    Invoice: XeroInvoiceRef | None = None


class XeroInvoice(XeroModel):
    InvoiceID: Text
    Type: Text | None = None
    Status: Text | None = None
    Total: Decimal | None = None
    AmountPaid: Decimal | None = None
    CurrencyCode: Text | None = None
    Reference: Annotated[str, StringConstraints(max_length=2000), OneLine] | None = None
    Contact: XeroContact | None = None


class XeroCreditNote(XeroModel):
    CreditNoteID: Text
    Type: Text | None = None
    Status: Text | None = None
    Total: Decimal | None = None
    CurrencyCode: Text | None = None
    Allocations: list[Allocation] = Field(default_factory=list)


class Invoices(XeroModel):
    Invoices: list[XeroInvoice] = Field(default_factory=list)


class CreditNotes(XeroModel):
    CreditNotes: list[XeroCreditNote] = Field(default_factory=list)
