"""API models of payout methods: what a referrer sends (``PUT /me/payout-method``), the masked form every view
shows, and the full details only ``staff`` get at pay time (``POST /admin/withdrawals/{id}/payout-details/reveal``).

The request is one flat object whose ``type`` says which fields apply; the formats (BSB, account number,
PayID kinds, email) are checked by ``services.payout_methods`` so each fault is a 422 naming its field.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field, StringConstraints

from referral_core.models.base import Model, OneLine

PayoutType = Literal["bank_account", "payid", "paypal"]
PayIdKind = Literal["email", "mobile", "abn"]


class PayoutMethodRequest(Model):
    """``type`` bank_account: ``bsb`` (NNN-NNN), ``account_number`` (5-9 digits), ``account_name``;
    payid: ``payid_kind`` (email, mobile or abn) and ``payid_value``; paypal: ``paypal_email``."""

    model_config = ConfigDict(extra="forbid")

    type: PayoutType
    bsb: Annotated[str, StringConstraints(strip_whitespace=True, max_length=16), OneLine] | None = Field(
        default=None, description="Bank-State-Branch number, NNN-NNN (bank_account)")
    account_number: Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), OneLine] | None = Field(
        default=None, description="5 to 9 digits (bank_account)")
    account_name: Annotated[str, StringConstraints(strip_whitespace=True, max_length=32), OneLine] | None = Field(
        default=None, description="The account holder's name as the bank knows it, up to 32 characters "
                                  "(bank_account)")
    payid_kind: PayIdKind | None = Field(default=None, description="email, mobile (Australian) or abn (payid)")
    payid_value: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), OneLine] | None = Field(
        default=None, description="The PayID: an email address, an Australian mobile number or an 11-digit ABN")
    paypal_email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254), OneLine] | None = Field(
        default=None, description="The PayPal account's email (paypal)")


class PayoutMethodView(Model):
    """A payout method as everyone but ``staff`` at pay time sees it: masked (last 3 digits, masked email)."""

    type: PayoutType
    display: str = Field(description='e.g. "Bank account ending 678 (Jo S.)", "PayID email j•••@e•••.com"')
    payid_kind: PayIdKind | None = None
    last_digits: str | None = Field(default=None, description="The last 3 digits (account number, mobile, ABN)")
    updated_at: str | None = Field(default=None, description="When it was last changed (ISO-8601 UTC)")


class RevealedPayoutDetails(Model):
    """The full payout details a withdrawal was requested with (each reveal is audited)."""

    withdrawal_id: str
    referrer_id: str
    type: PayoutType
    bsb: str | None = None
    account_number: str | None = None
    account_name: str | None = None
    payid_kind: PayIdKind | None = None
    payid_value: str | None = None
    paypal_email: str | None = None
    masked: PayoutMethodView
    revealed_at: str
    revealed_by: str
