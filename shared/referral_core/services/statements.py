"""Yearly statements: per referrer and financial year, the rewards paid out and earned, as CSV and PDF.

The ledger is the truth (``REFERRER#{id}``/``LEDGER#…``, one Query of the referrer's partition): a
``withdrawal_paid`` entry is money paid to the referrer; ``release_to_available`` (a reward's holding period
ended), ``clawback`` (a refund took a released reward back) and ``adjustment`` (staff's bonus or correction)
make up what was earned. Holds and rejected withdrawals only move money inside the balance and are left out.

A financial year starts at midnight on the 1st of the programme's ``statements.year_start_month`` in its
``statements.time_zone`` (July, Australia/Sydney by default): an entry's UTC time is placed in the year of
its local date there. ``fpdf2`` is imported only when a PDF is drawn (services.flyers says why).
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from referral_core.clock import parse_iso
from referral_core.dal.branding import BrandingRepository
from referral_core.dal.dynamo import Item, Table
from referral_core.dal.ledger import EntryKind, LedgerRepository
from referral_core.dal.program import ProgramRepository
from referral_core.dal.referrers import ReferrerRepository
from referral_core.errors import InvalidInput, NotFound
from referral_core.models.branding import BrandingData
from referral_core.models.program import Statements
from referral_core.models.statements import StatementYear, StatementYears
from referral_core.policy import NO_EMPLOYMENT
from referral_core.services import branding
from referral_core.services.exports import Export, decimal_amount, safe_cell
from referral_core.services.flyers import printable
from referral_core.services.program import current_program

if TYPE_CHECKING:
    from fpdf import FPDF

YEAR = re.compile(r"^(\d{4})(?:-(\d{2}))?$")
FIRST_YEAR = 2000
#: The years ``GET /me/statements`` always lists (this one and the one before), with activity or not.
RECENT_YEARS = 2
#: How amounts are labelled; any other currency by its code (the PDF's core fonts are Latin-1: no €).
CURRENCY_LABELS = {"AUD": "A$", "NZD": "NZ$", "USD": "US$", "CAD": "C$", "GBP": "£"}

#: Ledger entry kinds a statement shows, with their description and whether they count as paid or earned.
SHOWN: dict[str, tuple[str, str]] = {
    EntryKind.WITHDRAWAL_PAID: ("paid", "Withdrawal paid to you"),
    EntryKind.RELEASE_TO_AVAILABLE: ("earned", "Reward available (holding period ended)"),
    EntryKind.CLAWBACK: ("clawed_back", "Reward taken back (the job was refunded)"),
    EntryKind.ADJUSTMENT: ("adjustment", "Adjustment by our team"),
}


@dataclass(frozen=True)
class FinancialYear:
    first_year: int  # the calendar year it starts in
    start_month: int
    zone: ZoneInfo

    @property
    def label(self) -> str:
        if self.start_month == 1:
            return f"{self.first_year}"
        return f"{self.first_year}-{(self.first_year + 1) % 100:02d}"

    @property
    def starts(self) -> datetime:
        return datetime(self.first_year, self.start_month, 1, tzinfo=self.zone)

    @property
    def ends(self) -> datetime:
        """The next year's first moment (excluded)."""
        return datetime(self.first_year + 1, self.start_month, 1, tzinfo=self.zone)

    @property
    def first_day(self) -> date:
        return self.starts.date()

    @property
    def last_day(self) -> date:
        return date.fromordinal(self.ends.date().toordinal() - 1)

    def holds(self, moment: datetime) -> bool:
        return self.starts <= moment.astimezone(self.zone) < self.ends


def year_of(moment: datetime, rules: Statements) -> FinancialYear:
    """The financial year ``moment`` falls in, by its local date in the business's time zone."""
    zone = ZoneInfo(rules.time_zone)
    local = moment.astimezone(zone)
    first = local.year if local.month >= rules.year_start_month else local.year - 1
    return FinancialYear(first, rules.year_start_month, zone)


def parse_year(text: str, rules: Statements, *, today: datetime) -> FinancialYear:
    """``2025-26`` (or ``2025`` when the year is the calendar year) → that year; 422 naming ``year`` for
    anything else, a year before 2000 or one after the current year."""
    current = year_of(today, rules)
    example = current.label
    found = YEAR.match(text)
    if found is None or (found.group(2) is None) != (rules.year_start_month == 1):
        raise InvalidInput(f"year must be a financial year like {example}", fields={"year": f"expected e.g. {example}"})
    first = int(found.group(1))
    year = FinancialYear(first, rules.year_start_month, ZoneInfo(rules.time_zone))
    if found.group(2) is not None and int(found.group(2)) != (first + 1) % 100:
        raise InvalidInput(f"year must be a financial year like {example}",
                           fields={"year": f"{text} is not one financial year (e.g. {example})"})
    if first < FIRST_YEAR or first > current.first_year:
        raise InvalidInput("no statement for that year", fields={"year": f"from {FIRST_YEAR} to {example}"})
    return year


@dataclass(frozen=True)
class Row:
    on: date  # the local date of the ledger entry
    at: str  # the entry's UTC time (ordering)
    kind: str  # paid, earned, clawed_back, adjustment
    description: str
    reference: str
    paid_cents: int
    earned_cents: int


@dataclass(frozen=True)
class Statement:
    year: FinancialYear
    referrer_id: str
    referrer_name: str
    currency: str
    rows: tuple[Row, ...]

    @property
    def paid_cents(self) -> int:
        return sum(r.paid_cents for r in self.rows)

    @property
    def earned_cents(self) -> int:
        return sum(r.earned_cents for r in self.rows)

    @property
    def currency_label(self) -> str:
        return CURRENCY_LABELS.get(self.currency, self.currency)

    def filename(self, extension: str) -> str:
        return f"statement-{self.year.label}.{extension}"


def _row(entry: Item, zone: ZoneInfo) -> Row | None:
    shown = SHOWN.get(str(entry.get("kind")))
    if shown is None:
        return None
    kind, description = shown
    cents = int(entry.get("amount_cents") or 0)
    at = str(entry["at"])
    detail = entry.get("detail") or {}
    paid = cents if kind == "paid" else 0
    earned = {"earned": cents, "clawed_back": -cents, "adjustment": cents}.get(kind, 0)
    reference = str(detail.get("payout_reference") or "") if kind == "paid" else ""
    return Row(on=parse_iso(at).astimezone(zone).date(), at=at, kind=kind, description=description,
               reference=reference, paid_cents=paid, earned_cents=earned)


def _rows(ledger: LedgerRepository, referrer_id: str, zone: ZoneInfo) -> list[Row]:
    rows = [row for entry in ledger.entries(referrer_id) if (row := _row(entry, zone)) is not None]
    return sorted(rows, key=lambda r: (r.at, r.kind))


def build_statement(ledger: LedgerRepository, referrer: Item, year: FinancialYear, *,
                    currency: str) -> Statement:
    """The statement of ``referrer`` (its stored profile) for ``year``, from the ledger."""
    referrer_id = str(referrer["referrer_id"])
    rows = [r for r in _rows(ledger, referrer_id, year.zone) if year.holds(parse_iso(r.at))]
    return Statement(year=year, referrer_id=referrer_id, referrer_name=str(referrer.get("name") or ""),
                     currency=currency, rows=tuple(rows))


def statement_years(ledger: LedgerRepository, referrer_id: str, rules: Statements, *, currency: str,
                    today: datetime, path_prefix: str) -> StatementYears:
    """This year, last year and every earlier year with activity, newest first, with their totals."""
    current = year_of(today, rules)
    years = {current.first_year - n for n in range(RECENT_YEARS)}
    totals: dict[int, list[int]] = {}
    for row in _rows(ledger, referrer_id, current.zone):
        first = year_of(parse_iso(row.at), rules).first_year
        years.add(first)
        paid_earned = totals.setdefault(first, [0, 0])
        paid_earned[0] += row.paid_cents
        paid_earned[1] += row.earned_cents
    items = []
    for first in sorted(years, reverse=True):
        year = FinancialYear(first, rules.year_start_month, current.zone)
        paid, earned = totals.get(first, [0, 0])
        base = f"{path_prefix}/{year.label}"
        items.append(StatementYear(year=year.label, starts_on=year.first_day.isoformat(),
                                   ends_on=year.last_day.isoformat(), paid_cents=paid, earned_cents=earned,
                                   csv_path=f"{base}/statement.csv", pdf_path=f"{base}/statement.pdf"))
    return StatementYears(time_zone=rules.time_zone, year_start_month=rules.year_start_month, currency=currency,
                          items=items)


# -- CSV -----------------------------------------------------------------------------------------
def statement_csv(statement: Statement) -> Export:
    """One row per ledger entry shown (date, type, description, reference, paid, earned), then a total
    row; amounts as decimals in the programme's currency. Text cells are spreadsheet-safe (``safe_cell``);
    the amounts are numbers this code formats, left as numbers (a refund's ``-28.00`` stays a number)."""
    label = statement.currency_label
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("date", "type", "description", "reference", f"paid ({label})", f"earned ({label})"))
    for row in statement.rows:
        text = [safe_cell(cell) for cell in (row.on.isoformat(), row.kind, row.description, row.reference)]
        writer.writerow([*text, decimal_amount(row.paid_cents) if row.kind == "paid" else "",
                         decimal_amount(row.earned_cents) if row.kind != "paid" else ""])
    writer.writerow(["", "total", f"Total for {statement.year.label}", "", decimal_amount(statement.paid_cents),
                     decimal_amount(statement.earned_cents)])
    return Export(filename=statement.filename("csv"), body=buffer.getvalue())


# -- PDF -----------------------------------------------------------------------------------------
def _money(cents: int, label: str) -> str:
    return f"{label}{decimal_amount(cents)}" if cents >= 0 else f"-{label}{decimal_amount(-cents)}"


def _table_row(pdf: FPDF, cells: tuple[str, str, str, str, str], widths: tuple[float, ...], *,
               bold: bool = False) -> None:
    pdf.set_font("Helvetica", "B" if bold else "", 9)
    for index, (text, width) in enumerate(zip(cells, widths, strict=True)):
        pdf.cell(width, 6, printable(text), border="B", align="R" if index >= 3 else "L")
    pdf.ln(6)


def statement_pdf(statement: Statement, brand: BrandingData) -> bytes:
    """A printable A4 statement: the business's name, the referrer's, the period, the rows, the totals and
    the wording that taking part creates no employment."""
    from fpdf import FPDF

    year, label = statement.year, statement.currency_label
    pdf = FPDF(unit="mm", format="A4")
    pdf.set_title(printable(f"{brand.business_name}: rewards statement {year.label}"))
    pdf.set_creator("referral system")
    pdf.set_auto_page_break(True, margin=20)
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 10, printable(brand.business_name), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "B", 13)
    pdf.cell(0, 8, printable(f"Referral rewards statement {year.label}"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", "", 10)
    period = f"{year.first_day:%d %B %Y} to {year.last_day:%d %B %Y} ({year.zone.key} time)"
    for line in (f"Referrer: {statement.referrer_name}", f"Period: {period}", f"Currency: {statement.currency}"):
        pdf.cell(0, 6, printable(line), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(4)
    widths = (24.0, 62.0, 40.0, 27.0, 27.0)
    _table_row(pdf, ("Date", "Description", "Reference", f"Paid ({label})", f"Earned ({label})"), widths,
               bold=True)
    for row in statement.rows:
        _table_row(pdf, (row.on.isoformat(), row.description, row.reference,
                         decimal_amount(row.paid_cents) if row.kind == "paid" else "",
                         decimal_amount(row.earned_cents) if row.kind != "paid" else ""), widths)
    if not statement.rows:
        pdf.set_font("Helvetica", "I", 9)
        pdf.cell(0, 6, "No rewards were paid or earned in this year.", new_x="LMARGIN", new_y="NEXT")
    _table_row(pdf, ("", f"Total for {year.label}", "", decimal_amount(statement.paid_cents),
                     decimal_amount(statement.earned_cents)), widths, bold=True)
    pdf.ln(4)
    pdf.set_font("Helvetica", "", 10)
    pdf.multi_cell(0, 5, printable(
        f"Paid to you in {year.label}: {_money(statement.paid_cents, label)}. Earned in {year.label}: "
        f"{_money(statement.earned_cents, label)} (rewards that became available, less rewards taken back "
        f"after a refund, plus adjustments)."), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("Helvetica", "", 8)
    pdf.multi_cell(0, 4, printable(f"For your own records. {NO_EMPLOYMENT} You are responsible for any tax "
                                   "obligations that apply to you."), new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


# -- what the routes call ------------------------------------------------------------------------
@dataclass(frozen=True)
class StatementRepos:
    ledger: LedgerRepository
    program: ProgramRepository
    brands: BrandingRepository
    referrers: ReferrerRepository

    @classmethod
    def on(cls, table: Table) -> StatementRepos:
        return cls(ledger=LedgerRepository(table), program=ProgramRepository(table),
                   brands=BrandingRepository(table), referrers=ReferrerRepository(table))


@dataclass(frozen=True)
class StatementFile:
    filename: str
    content_type: str
    body: str | bytes


def statement_rules(repos: StatementRepos) -> Statements:
    return current_program(repos.program).rules.statements


def known_referrer(repos: StatementRepos, referrer_id: str) -> Item:
    """The referrer's profile (staff routes: any referrer), 404 for an unknown one."""
    referrer = repos.referrers.get(referrer_id)
    if referrer is None:
        raise NotFound("no such referrer")
    return referrer


def statement_file(repos: StatementRepos, referrer: Item, year: str, file_format: str, *, currency: str,
                   today: datetime) -> StatementFile:
    """The statement of ``referrer`` (its profile) for the financial year ``year`` as ``csv`` or ``pdf``."""
    statement = build_statement(repos.ledger, referrer, parse_year(year, statement_rules(repos), today=today),
                                currency=currency)
    if file_format == "csv":
        export = statement_csv(statement)
        return StatementFile(export.filename, "text/csv; charset=utf-8", export.body)
    brand = branding.branding_of(branding.CACHE.get(repos.brands))
    return StatementFile(statement.filename("pdf"), "application/pdf", statement_pdf(statement, brand))
