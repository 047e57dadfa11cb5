"""Where a referrer's rewards are paid: an Australian bank account, a PayID or a PayPal email (issue 19, item 4).

- ``PUT /me/payout-method`` checks each format (BSB ``NNN-NNN``, account number 5-9 digits, PayID email /
  Australian mobile / ABN with its check digits, PayPal email; a 422 names the field), needs a fresh sign-in
  (a session from a magic link less than ``fresh_minutes`` old: a session token left on a shared computer
  cannot redirect payouts), encrypts the details (``dal.payout_methods``: KMS envelope) and emails the
  referrer "your payout details changed" with the masked form only: the classic payout-hijack defence.
- Everything but the staff reveal shows the masked form: the last 3 digits, a masked email.
- A withdrawal copies the method on file when it is requested (envelope and masked form), so a later change
  never redirects a payout already asked for; staff reveal that copy at pay time, each reveal audited first.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from referral_core.clock import iso
from referral_core.contacts import clean_email, clean_phone, mask_name
from referral_core.dal.mail import Email
from referral_core.dal.payout_methods import Envelope, PayoutMethodRepository, PayoutVault
from referral_core.dal.withdrawals import OPEN_WITHDRAWALS, WithdrawalRepository
from referral_core.errors import Conflict, InvalidInput, NotFound
from referral_core.models.payouts import PayoutMethodRequest, PayoutMethodView, RevealedPayoutDetails
from referral_core.pages import esc
from referral_core.services.auth_links import require_fresh_sign_in

#: The fields each type uses; a field of another type is refused (422 naming it), never stored silently.
FIELDS = {
    "bank_account": ("bsb", "account_number", "account_name"),
    "payid": ("payid_kind", "payid_value"),
    "paypal": ("paypal_email",),
}
_BSB = re.compile(r"(\d{3})-?(\d{3})")
_ACCOUNT = re.compile(r"\d{5,9}")
_ABN_WEIGHTS = (10, 1, 3, 5, 7, 9, 11, 13, 15, 17, 19)
MASK = "•••"


@dataclass(frozen=True)
class PayoutDetails:
    """The details in full, normalised (BSB ``NNN-NNN``, mobile in E.164, ABN as 11 digits)."""

    type: str
    bsb: str | None = None
    account_number: str | None = None
    account_name: str | None = None
    payid_kind: str | None = None
    payid_value: str | None = None
    paypal_email: str | None = None

    def as_json(self) -> dict[str, str]:
        return {k: v for k, v in asdict(self).items() if v is not None}


def abn_is_valid(digits: str) -> bool:
    """The ABN check (the ATO's algorithm): subtract 1 from the first digit, weight, sum, divisible by 89."""
    if not re.fullmatch(r"\d{11}", digits) or digits[0] == "0":
        return False
    values = [int(d) for d in digits]
    values[0] -= 1
    return sum(v * w for v, w in zip(values, _ABN_WEIGHTS, strict=True)) % 89 == 0


def mask_email(email: str) -> str:
    """``jo.smith@example.com`` -> ``j•••@e•••.com``."""
    local, _, domain = email.rpartition("@")
    name, dot, tld = domain.rpartition(".")
    if not dot:
        name, tld = domain, ""
    return f"{local[:1]}{MASK}@{name[:1]}{MASK}{'.' + tld if tld else ''}"


def _required(value: str | None, field: str) -> str:
    if not value:
        raise InvalidInput(f"{field} is required", fields={field: "required"})
    return value


def _payid(kind: str, value: str) -> str:
    if kind == "email":
        return clean_email(value, field="payid_value")
    if kind == "mobile":
        number = clean_phone(value, "AU", field="payid_value")
        if not number.startswith("+614"):
            raise InvalidInput("payid_value is not an Australian mobile number",
                               fields={"payid_value": "not an Australian mobile number (04xx xxx xxx)"})
        return number
    digits = value.replace(" ", "")
    if not abn_is_valid(digits):
        raise InvalidInput("payid_value is not a valid ABN",
                           fields={"payid_value": "not an ABN: 11 digits whose check digits add up"})
    return digits


def clean_details(request: PayoutMethodRequest) -> PayoutDetails:
    """The request's details, checked and normalised; a 422 names the first field at fault."""
    used = FIELDS[request.type]
    for field in (f for fields in FIELDS.values() for f in fields if f not in used):
        if getattr(request, field) not in (None, ""):
            raise InvalidInput(f"{field} is not used with type {request.type}",
                               fields={field: f"not used with type {request.type}"})
    if request.type == "bank_account":
        bsb = _BSB.fullmatch(_required(request.bsb, "bsb").replace(" ", ""))
        if bsb is None:
            raise InvalidInput("bsb must be six digits, NNN-NNN", fields={"bsb": "not a BSB (NNN-NNN)"})
        account = _required(request.account_number, "account_number").replace(" ", "")
        if not _ACCOUNT.fullmatch(account):
            raise InvalidInput("account_number must be 5 to 9 digits",
                               fields={"account_number": "not 5 to 9 digits"})
        return PayoutDetails(type="bank_account", bsb=f"{bsb.group(1)}-{bsb.group(2)}", account_number=account,
                             account_name=" ".join(_required(request.account_name, "account_name").split()))
    if request.type == "payid":
        kind = str(_required(request.payid_kind, "payid_kind"))
        return PayoutDetails(type="payid", payid_kind=kind,
                             payid_value=_payid(kind, _required(request.payid_value, "payid_value")))
    return PayoutDetails(type="paypal",
                         paypal_email=clean_email(_required(request.paypal_email, "paypal_email"),
                                                  field="paypal_email"))


def masked(details: PayoutDetails, *, at: str | None = None) -> PayoutMethodView:
    """The form every view shows: the last 3 digits or a masked email, never the details."""
    if details.type == "bank_account":
        last = str(details.account_number)[-3:]
        return PayoutMethodView(type="bank_account", last_digits=last, updated_at=at,
                                display=f"Bank account ending {last} ({mask_name(str(details.account_name))})")
    if details.type == "payid":
        value, kind = str(details.payid_value), str(details.payid_kind)
        if kind == "email":
            return PayoutMethodView(type="payid", payid_kind="email", updated_at=at,
                                    display=f"PayID email {mask_email(value)}")
        label = "mobile" if kind == "mobile" else "ABN"
        return PayoutMethodView(type="payid", payid_kind="mobile" if kind == "mobile" else "abn",
                                last_digits=value[-3:], updated_at=at, display=f"PayID {label} ending {value[-3:]}")
    return PayoutMethodView(type="paypal", updated_at=at, display=f"PayPal {mask_email(str(details.paypal_email))}")


def payout_changed_email(referrer: Mapping[str, Any], view: PayoutMethodView) -> Email:
    name = str(referrer.get("name") or "there").split()[0]
    text = (f"Hi {name},\n\nThe payout details on your referral dashboard were just changed to: {view.display}.\n\n"
            "If you made this change, there is nothing to do. If you didn't, contact us straight away: "
            "withdrawals you ask for from now on are paid to these details.\n")
    html_body = (f"<p>Hi {esc(name)},</p><p>The payout details on your referral dashboard were just changed to: "
                 f"<strong>{esc(view.display)}</strong>.</p><p>If you made this change, there is nothing to do. "
                 "If you didn't, contact us straight away: withdrawals you ask for from now on are paid to "
                 "these details.</p>")
    return Email(to=str(referrer["email"]), subject="Your payout details changed", text=text, html=html_body)


def set_payout_method(repo: PayoutMethodRepository, vault: PayoutVault, referrer: Mapping[str, Any],
                      request: PayoutMethodRequest, *, session_issued_at: int, fresh_minutes: int,
                      send: Callable[[Email], Any]) -> PayoutMethodView:
    """Replace the referrer's payout method (``PUT /me/payout-method``); returns the masked form.

    403 ``fresh_sign_in_required`` when the session is older than ``fresh_minutes`` (checked before the
    details are even read); 422 naming the field at fault. The referrer is emailed after the save.
    """
    require_fresh_sign_in(session_issued_at, max_age_minutes=fresh_minutes)
    details = clean_details(request)
    referrer_id, at = str(referrer["referrer_id"]), iso()
    view = masked(details, at=at)
    envelope = vault.seal(json.dumps(details.as_json()).encode(), referrer_id=referrer_id)
    repo.save(referrer_id, envelope=envelope, masked=view.model_dump(mode="json", exclude_none=True), at=at)
    send(payout_changed_email(referrer, view))
    return view


def payout_method(repo: PayoutMethodRepository, referrer_id: str) -> PayoutMethodView:
    """The masked method on file (``GET /me/payout-method``); 404 when there is none."""
    item = repo.get(referrer_id)
    if item is None:
        raise NotFound("no payout method on file yet", fields={"payout_method": "none on file"})
    return PayoutMethodView.model_validate(item["masked"])


def withdrawal_snapshot(repo: PayoutMethodRepository, referrer_id: str) -> dict[str, Any] | None:
    """What a new withdrawal keeps of the method on file: the envelope and the masked form (None: none)."""
    item = repo.get(referrer_id)
    if item is None:
        return None
    return {"payout_method": dict(item["masked"]), "payout_envelope": dict(item["envelope"])}


def reveal_payout_details(withdrawals: WithdrawalRepository, repo: PayoutMethodRepository, vault: PayoutVault,
                          withdrawal_id: str, *, actor: str) -> RevealedPayoutDetails:
    """The full details an open withdrawal was requested with, for the staff member paying it.

    The audit entry is written first (who, when, which withdrawal, the masked form): no details leave
    without one. 404 for an unknown withdrawal or one requested with no method on file; 409 once it is paid
    or rejected (the details are for paying it, not for browsing).
    """
    withdrawal = withdrawals.get(withdrawal_id)
    if withdrawal is None:
        raise NotFound("no such withdrawal")
    if withdrawal["status"] not in OPEN_WITHDRAWALS:
        raise Conflict(f"the withdrawal is already {withdrawal['status']}: its payout details are no longer shown")
    if not withdrawal.get("payout_envelope"):
        raise NotFound("the referrer had no payout method on file when this withdrawal was requested",
                       fields={"payout_method": "none on file when requested"})
    referrer_id, at = str(withdrawal["referrer_id"]), iso()
    view = PayoutMethodView.model_validate(withdrawal["payout_method"])
    repo.record_reveal(withdrawal_id, actor=actor, at=at,
                       detail={"referrer_id": referrer_id, "payout_method": view.display})
    details = json.loads(vault.open(Envelope.of(withdrawal["payout_envelope"]), referrer_id=referrer_id))
    return RevealedPayoutDetails(withdrawal_id=withdrawal_id, referrer_id=referrer_id, masked=view,
                                 revealed_at=at, revealed_by=actor, **details)
