"""API models of the referrers' yearly statements (``GET /me/statements``)."""

from __future__ import annotations

from pydantic import Field

from referral_core.models.base import Model


class StatementYear(Model):
    year: str = Field(description="the financial year, e.g. 2025-26 (July 2025 to June 2026); 2025 when the "
                                  "programme's year is the calendar year")
    starts_on: str = Field(description="first day, in the business's time zone (yyyy-mm-dd)")
    ends_on: str = Field(description="last day, in the business's time zone (yyyy-mm-dd)")
    paid_cents: int = Field(description="withdrawals paid to you in the year")
    earned_cents: int = Field(description="rewards that became available in the year, less clawbacks, plus "
                                          "staff adjustments")
    csv_path: str = Field(description="the statement as CSV (same session)")
    pdf_path: str = Field(description="the statement as a printable PDF (same session)")


class StatementYears(Model):
    time_zone: str = Field(description="the business's time zone the years are counted in")
    year_start_month: int = Field(description="the month each financial year starts in (7: July)")
    currency: str
    items: list[StatementYear] = Field(description="this year, last year and every earlier year with "
                                                   "activity, newest first")
