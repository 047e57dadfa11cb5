"""Square's event notifications (``POST /webhooks/square``): the part of the payload the adapter reads.

Square documents the full payload (developer.squareup.com/reference/square/webhooks); everything else in
it is ignored (``extra="ignore"``) and never stored. Text fields refuse control characters like every
other body (422 naming the field), and amounts are bounded as job amounts are.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AwareDatetime, ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine
from referral_core.models.jobs import MAX_JOB_CENTS

Text = Annotated[str, StringConstraints(strip_whitespace=True, max_length=255), OneLine]
Id = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=192), OneLine]


class SquareModel(Model):
    model_config = ConfigDict(extra="ignore")


class Money(SquareModel):
    amount: Annotated[int, Field(ge=-MAX_JOB_CENTS, le=MAX_JOB_CENTS, strict=True,
                                 description="in the currency's smallest unit (cents)")] = 0
    currency: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")] | None = None


class PaymentRequest(SquareModel):
    request_type: Text | None = None
    computed_amount_money: Money | None = None
    total_completed_amount_money: Money | None = None


class Address(SquareModel):
    postal_code: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), OneLine] | None = None


class Recipient(SquareModel):
    customer_id: Id | None = None
    email_address: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), OneLine] | None = None
    phone_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), OneLine] | None = None
    address: Address | None = None


class CustomField(SquareModel):
    label: Text | None = None
    value: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2000), OneLine] | None = None


class Invoice(SquareModel):
    id: Id | None = None
    order_id: Id | None = None
    status: Text | None = None
    primary_recipient: Recipient | None = None
    payment_requests: Annotated[list[PaymentRequest], Field(max_length=13)] = Field(default_factory=list)
    custom_fields: Annotated[list[CustomField], Field(max_length=2)] = Field(default_factory=list)


class Refund(SquareModel):
    id: Id | None = None
    order_id: Id | None = None
    payment_id: Id | None = None
    status: Text | None = None
    amount_money: Money | None = None


class EventObject(SquareModel):
    invoice: Invoice | None = None
    refund: Refund | None = None


class EventData(SquareModel):
    type: Text | None = None
    id: Id | None = None
    object: EventObject = Field(default_factory=EventObject)


class SquareEvent(SquareModel):
    merchant_id: Id | None = None
    type: Text = Field(description="e.g. invoice.payment_made, refund.created, refund.updated")
    event_id: Id = Field(description="unique per event: a redelivery carries the same one")
    created_at: AwareDatetime
    data: EventData = Field(default_factory=EventData)
