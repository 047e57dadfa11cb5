"""ABA (Cemtex) direct-entry files: the fixed-width file Australian banks import for bulk payments (issue 19,
item 5). Pure: it takes the batch's payments and the business's settings, and returns text (no I/O).

The format (the Australian Bankers' Association / BECS "Cemtex" layout, as every Australian bank documents it):
every record is 120 characters, ended by CR LF; one *descriptive* record (type ``0``) first, one *detail*
record (type ``1``) per payment, one *file total* record (type ``7``) last.

=========  ======  ====================================================================================
Record 0   1       ``0``
           2-18    blank
           19-20   reel sequence number, ``01``
           21-23   the user's financial institution (``CBA``, ``WBC``, ``NAB``, ``ANZ``, ...)
           24-30   blank
           31-56   name of the user supplying the file (left, blank filled)
           57-62   APCA user identification number (6 digits)
           63-74   description of the entries (e.g. ``REWARDS``)
           75-80   date to be processed, DDMMYY
           81-120  blank
Record 1   1       ``1``
           2-8     BSB ``NNN-NNN``
           9-17    account number (right, blank filled)
           18      indicator (blank: a new payment)
           19-20   transaction code (``50`` a credit; ``13`` a debit, for a balancing line)
           21-30   amount in cents (right, zero filled)
           31-62   title of the account credited (left, blank filled)
           63-80   lodgement reference (what the payee's statement shows)
           81-87   trace BSB (the business's own account, where a returned payment goes back)
           88-96   trace account number (right, blank filled)
           97-112  name of the remitter
           113-120 withholding tax in cents (zero filled)
Record 7   1       ``7``
           2-8     ``999-999``
           9-20    blank
           21-30   net total (credits minus debits, absolute), cents
           31-40   credit total, cents
           41-50   debit total, cents
           51-74   blank
           75-80   count of type 1 records
           81-120  blank
=========  ======  ====================================================================================

Text fields keep letters, digits, space and ``& ' ( ) * + , - . / : ; ? @ _`` (within every bank's BECS
character set): accents are dropped (``Zoë`` -> ``Zoe``) and any other character
becomes a space; names longer than their field are cut, as banks do. BSBs and account numbers are checked,
never changed: a fault is a 422 naming the payment and field (``payments.2.bsb``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

from referral_core.errors import InvalidInput

RECORD_LENGTH = 120
EOL = "\r\n"
CREDIT = "50"  # externally initiated credit (the "general credit" most banks use for bulk payments)
DEBIT = "13"  # externally initiated debit: the optional balancing line against the business's account
_MAX_CENTS = 9_999_999_999  # 10 digits
_BSB = re.compile(r"\d{3}-\d{3}")
_ACCOUNT = re.compile(r"\d{5,9}")
# What is kept of text: letters, digits, space and the punctuation every bank's BECS set allows.
_ALLOWED = re.compile(r"[^A-Za-z0-9 &'()*+,\-./:;?@_]")


@dataclass(frozen=True, kw_only=True)
class AbaSettings:
    """The business's own details (programme settings): who sends the file and where returns go."""

    financial_institution: str  # 3 letters, e.g. "CBA"
    user_name: str  # name of the user supplying the file (up to 26)
    apca_user_id: str  # 6 digits, issued by the bank
    remitter_name: str  # shown to payees (up to 16)
    trace_bsb: str  # the business's account, NNN-NNN
    trace_account: str
    description: str = "REWARDS"  # up to 12


@dataclass(frozen=True, kw_only=True)
class AbaPayment:
    bsb: str
    account_number: str
    account_name: str
    amount_cents: int
    reference: str  # up to 18: the payee's statement shows it


@dataclass(frozen=True)
class AbaTotals:
    credit_cents: int
    debit_cents: int
    count: int

    @property
    def net_cents(self) -> int:
        return abs(self.credit_cents - self.debit_cents)


def becs_text(value: str, width: int) -> str:
    """``value`` in the BECS character set, cut to ``width`` and left-justified (blank filled)."""
    plain = unicodedata.normalize("NFKD", value).encode("ascii", "ignore").decode()
    return _ALLOWED.sub(" ", " ".join(plain.split()))[:width].ljust(width)


def _digits(value: int, width: int) -> str:
    return str(value).rjust(width, "0")


def _check_bsb(value: str, field: str) -> str:
    if not _BSB.fullmatch(value):
        raise InvalidInput(f"{field} must be a BSB, NNN-NNN", fields={field: "not a BSB (NNN-NNN)"})
    return value


def _check_account(value: str, field: str) -> str:
    if not _ACCOUNT.fullmatch(value) or not value.strip("0"):
        raise InvalidInput(f"{field} must be 5 to 9 digits", fields={field: "not an account number (5 to 9 digits)"})
    return value


def _check_settings(settings: AbaSettings) -> None:
    if not re.fullmatch(r"[A-Z]{3}", settings.financial_institution):
        raise InvalidInput("the financial institution is 3 capital letters (e.g. CBA)",
                           fields={"financial_institution": "3 capital letters"})
    if not re.fullmatch(r"\d{6}", settings.apca_user_id):
        raise InvalidInput("the APCA user id is 6 digits", fields={"apca_user_id": "6 digits"})
    for field, value in (("user_name", settings.user_name), ("remitter_name", settings.remitter_name),
                         ("description", settings.description)):
        if not becs_text(value, RECORD_LENGTH).strip():
            raise InvalidInput(f"{field} is required", fields={field: "required"})
    _check_bsb(settings.trace_bsb, "trace_bsb")
    _check_account(settings.trace_account, "trace_account")


def _detail(bsb: str, account: str, code: str, cents: int, title: str, reference: str,
            settings: AbaSettings) -> str:
    return ("1" + bsb + account.rjust(9) + " " + code + _digits(cents, 10) + becs_text(title, 32)
            + becs_text(reference, 18) + settings.trace_bsb + settings.trace_account.rjust(9)
            + becs_text(settings.remitter_name, 16) + _digits(0, 8))


def aba_file(payments: Sequence[AbaPayment], settings: AbaSettings, *, process_on: date,
             balancing_debit: bool = False) -> str:
    """The ABA file paying ``payments`` on ``process_on``. ``balancing_debit`` adds the debit line against the
    business's own (trace) account that some banks require, so the file nets to zero.

    422 naming the field for a bad BSB or account number (``payments.{i}.bsb``), an empty account name, an
    amount that is not 1 to 9,999,999,999 cents, totals over 10 digits, or no payments at all.
    """
    _check_settings(settings)
    if not payments:
        raise InvalidInput("a batch needs at least one payment", fields={"payments": "empty"})
    records = ["0" + " " * 17 + "01" + settings.financial_institution + " " * 7 + becs_text(settings.user_name, 26)
               + settings.apca_user_id + becs_text(settings.description, 12) + process_on.strftime("%d%m%y")
               + " " * 40]
    credit = 0
    for index, payment in enumerate(payments):
        field = f"payments.{index}"
        bsb = _check_bsb(payment.bsb, f"{field}.bsb")
        account = _check_account(payment.account_number, f"{field}.account_number")
        if not becs_text(payment.account_name, 32).strip():
            raise InvalidInput("an account name is required", fields={f"{field}.account_name": "required"})
        if isinstance(payment.amount_cents, bool) or not 1 <= payment.amount_cents <= _MAX_CENTS:
            raise InvalidInput("an amount is 1 to 9,999,999,999 cents",
                               fields={f"{field}.amount_cents": "not 1 to 9,999,999,999 cents"})
        credit += payment.amount_cents
        records.append(_detail(bsb, account, CREDIT, payment.amount_cents, payment.account_name,
                               payment.reference, settings))
    if credit > _MAX_CENTS:
        raise InvalidInput("the batch's total is over 10 digits of cents: split it",
                           fields={"payments": "total over 9,999,999,999 cents"})
    debit = 0
    if balancing_debit:
        debit = credit
        records.append(_detail(settings.trace_bsb, settings.trace_account, DEBIT, debit, settings.user_name,
                               settings.description, settings))
    totals = AbaTotals(credit_cents=credit, debit_cents=debit, count=len(records) - 1)
    records.append("7" + "999-999" + " " * 12 + _digits(totals.net_cents, 10) + _digits(credit, 10)
                   + _digits(debit, 10) + " " * 24 + _digits(totals.count, 6) + " " * 40)
    return "".join(r + EOL for r in records)


# -- reading a file back (tests, and checking a file before it goes to the bank) ---------------------------
@dataclass(frozen=True)
class AbaDetail:
    bsb: str
    account_number: str
    transaction_code: str
    amount_cents: int
    account_name: str
    reference: str
    trace_bsb: str
    trace_account: str
    remitter_name: str


@dataclass(frozen=True)
class ParsedAba:
    financial_institution: str
    user_name: str
    apca_user_id: str
    description: str
    process_on: date
    details: list[AbaDetail]
    totals: AbaTotals


class AbaFormatError(ValueError):
    """The text is not a well-formed ABA file (the message names the line and the rule)."""


def parse_aba(text: str) -> ParsedAba:
    """Read an ABA file, checking every rule :func:`aba_file` follows: CR LF line ends, 120 characters a
    record, one type 0 first, type 1 records, one type 7 last, and totals and count that match."""
    if not text.endswith(EOL):
        raise AbaFormatError("records end with CR LF")
    lines = text[:-len(EOL)].split(EOL)
    for number, line in enumerate(lines, 1):
        if len(line) != RECORD_LENGTH:
            raise AbaFormatError(f"line {number} is {len(line)} characters, not {RECORD_LENGTH}")
    if len(lines) < 3 or lines[0][0] != "0" or lines[-1][0] != "7" or any(x[0] != "1" for x in lines[1:-1]):
        raise AbaFormatError("a file is one type 0 record, type 1 records, then one type 7 record")
    head, total = lines[0], lines[-1]
    details = [AbaDetail(bsb=x[1:8], account_number=x[8:17].strip(), transaction_code=x[18:20],
                         amount_cents=int(x[20:30]), account_name=x[30:62].rstrip(), reference=x[62:80].rstrip(),
                         trace_bsb=x[80:87], trace_account=x[87:96].strip(), remitter_name=x[96:112].rstrip())
               for x in lines[1:-1]]
    for number, detail in enumerate(details, 2):
        if not (_BSB.fullmatch(detail.bsb) and _BSB.fullmatch(detail.trace_bsb)):
            raise AbaFormatError(f"line {number}: a BSB is not NNN-NNN")
        if detail.transaction_code not in (CREDIT, DEBIT):
            raise AbaFormatError(f"line {number}: transaction code {detail.transaction_code!r}")
    credit = sum(d.amount_cents for d in details if d.transaction_code == CREDIT)
    debit = sum(d.amount_cents for d in details if d.transaction_code == DEBIT)
    totals = AbaTotals(credit_cents=int(total[30:40]), debit_cents=int(total[40:50]), count=int(total[74:80]))
    if total[1:8] != "999-999":
        raise AbaFormatError("the total record's BSB filler is 999-999")
    if (totals.credit_cents, totals.debit_cents, totals.count) != (credit, debit, len(details)):
        raise AbaFormatError("the total record does not match the detail records")
    if int(total[20:30]) != totals.net_cents:
        raise AbaFormatError("the net total is not credits minus debits")
    return ParsedAba(financial_institution=head[20:23], user_name=head[30:56].rstrip(), apca_user_id=head[56:62],
                     description=head[62:74].rstrip(), process_on=datetime.strptime(head[74:80], "%d%m%y").date(),
                     details=details, totals=totals)
