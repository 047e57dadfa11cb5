"""The accountant's CSV exports: referrals, rewards and payouts of a range of months.

Rows are built a page at a time with ``csv.writer`` (nothing holds a whole month's items), every cell is
made safe for spreadsheets (:func:`safe_cell`), and money appears twice: integer cents and a decimal
amount with its currency.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from referral_core.dal.dynamo import Item
from referral_core.dal.exports import ExportKind, ExportRepository
from referral_core.errors import InvalidInput

MAX_MONTHS = 24
MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> str:
    """A cell a spreadsheet will not run as a formula: text starting with ``= + - @``, tab or CR gets a
    leading ``'`` (OWASP CSV injection). ``None`` is an empty cell."""
    text = "" if value is None else str(value)
    return f"'{text}" if text.startswith(FORMULA_PREFIXES) else text


def decimal_amount(cents: int) -> str:
    """``1234`` → ``12.34``, ``-5`` → ``-0.05`` (exact, no float)."""
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole}.{part:02d}"


def month_range(start: str | None, end: str | None, *, today: date) -> list[str]:
    """The months ``start``..``end`` (``yyyy-mm``, both included); each defaults to ``today``'s month.

    Raises InvalidInput naming ``from`` or ``to`` when a month is malformed, reversed, or the range is
    longer than :data:`MAX_MONTHS`.
    """
    current = f"{today.year:04d}-{today.month:02d}"
    for field, value in (("from", start), ("to", end)):
        if value is not None and not MONTH.match(value):
            raise InvalidInput(f"{field} must be a month as yyyy-mm", fields={field: "expected yyyy-mm"})
    first, last = start or current, end or current
    if first > last:
        raise InvalidInput("to must not be before from", fields={"to": "before from"})
    year, month = int(first[:4]), int(first[5:])
    months = [first]
    while months[-1] < last:
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
        months.append(f"{year:04d}-{month:02d}")
        if len(months) > MAX_MONTHS:
            raise InvalidInput(f"at most {MAX_MONTHS} months per export",
                               fields={"to": f"at most {MAX_MONTHS} months after from"})
    return months


@dataclass(frozen=True)
class Export:
    filename: str
    body: str


@dataclass(frozen=True)
class _Layout:
    header: Sequence[str]
    row: Callable[[Item, str], list[Any]]


def _money(item: Item, currency: str) -> list[Any]:
    cents = int(item.get("amount_cents") or 0)
    return [cents, decimal_amount(cents), item.get("currency") or currency]


LAYOUTS: dict[str, _Layout] = {
    "referrals": _Layout(
        header=("referral_id", "created_at", "referrer_id", "code", "source", "stage", "attribution_outcome",
                "review_status", "job_id"),
        row=lambda r, _currency: [r.get("lead_id"), r.get("created_at"), r.get("referrer_id"), r.get("code"),
                                  r.get("source"), r.get("stage"), r.get("attribution", {}).get("outcome"),
                                  r.get("review_status"), r.get("job_id")]),
    "rewards": _Layout(
        header=("job_id", "referral_id", "referrer_id", "created_at", "release_at", "state", "tier",
                "program_version", "amount_cents", "amount", "currency"),
        row=lambda r, currency: [r.get("job_id"), r.get("lead_id"), r.get("referrer_id"), r.get("created_at"),
                                 r.get("release_at"), r.get("state"), r.get("tier"), r.get("program_version"),
                                 *_money(r, currency)]),
    "payouts": _Layout(
        header=("withdrawal_id", "referrer_id", "requested_at", "paid_at", "paid_by", "payout_reference",
                "amount_cents", "amount", "currency"),
        row=lambda w, currency: [w.get("withdrawal_id"), w.get("referrer_id"), w.get("created_at"),
                                 w.get("decided_at"), w.get("decided_by"), w.get("payout_reference"),
                                 *_money(w, currency)]),
}


def _pages(repo: ExportRepository, kind: str, months: list[str]) -> Iterator[list[Item]]:
    for month in months:
        if kind == "payouts":
            yield from repo.payouts(month)
        else:
            yield from repo.records(ExportKind(kind), month)


def build_export(repo: ExportRepository, kind: str, *, start: str | None, end: str | None, today: date,
                 currency: str) -> Export:
    """The CSV of ``kind`` (``referrals``/``rewards``/``payouts``) for the months ``start``..``end``."""
    months = month_range(start, end, today=today)
    layout = LAYOUTS[kind]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(layout.header)
    for page in _pages(repo, kind, months):
        writer.writerows([safe_cell(cell) for cell in layout.row(item, currency)] for item in page)
    return Export(filename=f"{kind}-{months[0]}-to-{months[-1]}.csv", body=buffer.getvalue())
