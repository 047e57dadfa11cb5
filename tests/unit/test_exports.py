"""Pure parts of the CSV exports: spreadsheet-safe cells, money, month ranges."""

from __future__ import annotations

from datetime import date

import pytest

from referral_core.errors import InvalidInput
from referral_core.services.exports import MAX_MONTHS, decimal_amount, month_range, safe_cell

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("value", "expected"), [
    ("=SUM(A1:A2)", "'=SUM(A1:A2)"), ("+61400000000", "'+61400000000"), ("-5", "'-5"),
    ("@cmd", "'@cmd"), ("\tTAB", "'\tTAB"), ("\rCR", "'\rCR"),
    ("Rita", "Rita"), ("a=b", "a=b"), ("", ""), (None, ""), (2500, "2500"), (-5, "'-5"),
])
def test_safe_cell_defuses_formulas_only(value, expected):
    assert safe_cell(value) == expected


@pytest.mark.parametrize(("cents", "expected"), [(0, "0.00"), (5, "0.05"), (2500, "25.00"), (123456, "1234.56"),
                                                 (-5, "-0.05"), (-2500, "-25.00")])
def test_decimal_amount_is_exact(cents, expected):
    assert decimal_amount(cents) == expected


def test_month_range_defaults_to_the_current_month_and_crosses_years():
    today = date(2026, 11, 23)
    assert month_range(None, None, today=today) == ["2026-11"]
    assert month_range("2026-11", "2027-02", today=today) == ["2026-11", "2026-12", "2027-01", "2027-02"]
    assert month_range("2026-09", None, today=today) == ["2026-09", "2026-10", "2026-11"]
    assert len(month_range("2025-01", "2026-12", today=today)) == MAX_MONTHS


@pytest.mark.parametrize(("start", "end", "field"), [
    ("2026-00", None, "from"), ("26-01", None, "from"), (None, "2026-1", "to"),
    ("2026-05", "2026-04", "to"), ("2025-01", "2027-01", "to"),
])
def test_month_range_rejects_naming_the_field(start, end, field):
    with pytest.raises(InvalidInput) as error:
        month_range(start, end, today=date(2026, 11, 23))
    assert field in error.value.fields
