"""Yearly statements (issue 19, item 6): per referrer and financial year, the rewards paid and earned, from
the ledger, as CSV and a printable PDF, for the referrer (``/me/statements``) and for staff.

The financial year is July to June in Australia/Sydney time by default: an entry at 23:59:59 on 30 June
there (13:59:59 UTC) is in the year ending that day, one a second later in the next.
"""

from __future__ import annotations

import base64
import csv
import io
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import pytest

from referral_core.dal.ledger import Deltas, Entry, EntryKind
from referral_core.errors import InvalidInput
from referral_core.models.program import Statements, default_rules
from referral_core.policy import NO_EMPLOYMENT
from referral_core.services.statements import parse_year, year_of
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body
from tests.support.portal import ADMIN, create_referrer, portal, sign_in
from tests.support.rewards import CURRENCY, repos, save_rules

pytestmark = pytest.mark.integration

LAST_MOMENT_OF_FY26 = "2026-06-30T13:59:59.999999Z"  # 23:59:59.999999 on 30 June 2026 in Sydney (AEST)
FIRST_MOMENT_OF_FY27 = "2026-06-30T14:00:00.000000Z"  # 00:00 on 1 July 2026 in Sydney


@pytest.fixture
def jo(portal_stack):
    referrer = create_referrer(portal_stack)
    return {**referrer, "session": sign_in(portal_stack, "jo@example.com")}


def post(stack, referrer_id, kind, source_id, cents, at, **detail):
    """A ledger entry as the reward and withdrawal services post it, at a chosen time."""
    deltas = {EntryKind.RELEASE_TO_AVAILABLE: Deltas(available_cents=cents),
              EntryKind.WITHDRAWAL_HOLD: Deltas(available_cents=-cents, held_cents=cents),
              EntryKind.WITHDRAWAL_PAID: Deltas(held_cents=-cents, paid_cents=cents),
              EntryKind.CLAWBACK: Deltas(available_cents=-cents),
              EntryKind.ADJUSTMENT: Deltas(available_cents=cents)}[kind]
    repos(stack).ledger.post(Entry(referrer_id=referrer_id, kind=kind, source_id=source_id, amount_cents=cents,
                                   deltas=deltas, at=at, detail=detail), allow_negative=True)


def pay(stack, referrer_id, withdrawal_id, cents, at, reference):
    post(stack, referrer_id, EntryKind.WITHDRAWAL_HOLD, withdrawal_id, cents, at)
    post(stack, referrer_id, EntryKind.WITHDRAWAL_PAID, withdrawal_id, cents, at, payout_reference=reference,
         actor="staff:someone", note="internal note")


def body_of(response):
    body = response["body"]
    return base64.b64decode(body) if response.get("isBase64Encoded") else body.encode()


def csv_rows(response):
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(body_of(response).decode())))


def pdf_text(response, tmp_path: Path) -> str:
    assert response["statusCode"] == 200, response
    assert response["headers"]["Content-Type"] == "application/pdf"
    (tmp_path / "statement.pdf").write_bytes(body_of(response))
    out = subprocess.run(["pdftotext", str(tmp_path / "statement.pdf"), "-"], check=True, capture_output=True,
                         text=True, timeout=60).stdout
    return " ".join(out.split())


@pytest.fixture
def history(portal_stack, jo):
    """Jo's ledger across the 30 June / 1 July boundary of 2026 (Sydney time)."""
    rid = jo["referrer_id"]
    post(portal_stack, rid, EntryKind.RELEASE_TO_AVAILABLE, "job-a", 2_500, "2025-07-01T00:00:00.000000Z")
    post(portal_stack, rid, EntryKind.RELEASE_TO_AVAILABLE, "job-b", 3_500, "2026-03-01T00:00:00.000000Z")
    pay(portal_stack, rid, "wd-1", 4_000, LAST_MOMENT_OF_FY26, "=HYPERLINK(\"x\")")
    pay(portal_stack, rid, "wd-2", 1_000, FIRST_MOMENT_OF_FY27, "BANK-2")
    post(portal_stack, rid, EntryKind.CLAWBACK, "job-b", 3_500, "2026-08-01T00:00:00.000000Z")
    post(portal_stack, rid, EntryKind.ADJUSTMENT, "ADJ-1", 700, "2026-08-02T00:00:00.000000Z", reason="bonus")
    return jo


def test_the_year_boundary_is_midnight_on_1_july_in_sydney():
    rules = Statements()
    assert year_of(datetime(2026, 6, 30, 13, 59, 59, tzinfo=UTC), rules).label == "2025-26"
    assert year_of(datetime(2026, 6, 30, 14, 0, 0, tzinfo=UTC), rules).label == "2026-27"
    calendar = Statements(year_start_month=1, time_zone="UTC")
    assert year_of(datetime(2026, 12, 31, 23, 59, tzinfo=UTC), calendar).label == "2026"
    today = datetime(2026, 12, 8, tzinfo=UTC)
    year = parse_year("2025-26", rules, today=today)
    assert (year.first_day.isoformat(), year.last_day.isoformat()) == ("2025-07-01", "2026-06-30")
    for bad in ("2025-27", "2025", "25-26", "2027-28", "1999-00", "2025-26.csv"):
        with pytest.raises(InvalidInput) as raised:
            parse_year(bad, rules, today=today)
        assert "year" in raised.value.fields


def test_the_csv_has_one_row_per_entry_of_the_year_and_totals_equal_to_the_ledger(portal_stack, history):
    session, rid = history["session"], history["referrer_id"]
    rows = csv_rows(portal(portal_stack, "GET", "/me/statements/2025-26/statement.csv", session=session,
                           route="GET /me/statements/{year}/statement.csv", path_params={"year": "2025-26"}))
    assert rows[0] == ["date", "type", "description", "reference", "paid (A$)", "earned (A$)"]
    assert [r[:2] for r in rows[1:-1]] == [["2025-07-01", "earned"], ["2026-03-01", "earned"],
                                           ["2026-06-30", "paid"]]
    assert rows[3][3] == "'=HYPERLINK(\"x\")"  # a formula is never a formula in a spreadsheet
    assert "internal note" not in str(rows) and "staff:someone" not in str(rows)
    assert rows[-1] == ["", "total", "Total for 2025-26", "", "40.00", "60.00"]

    # the totals are the ledger's: its withdrawal_paid entries of the year, and the balance's paid_cents
    # over both years
    entries = repos(portal_stack).ledger.entries(rid)
    in_fy26 = [e for e in entries if "2025-07-01" <= e["at"] < FIRST_MOMENT_OF_FY27]
    assert sum(int(e["amount_cents"]) for e in in_fy26 if e["kind"] == "withdrawal_paid") == 4_000
    next_year = csv_rows(portal(portal_stack, "GET", "/me/statements/2026-27/statement.csv", session=session,
                                route="GET /me/statements/{year}/statement.csv", path_params={"year": "2026-27"}))
    assert [r[:2] for r in next_year[1:-1]] == [["2026-07-01", "paid"], ["2026-08-01", "clawed_back"],
                                                ["2026-08-02", "adjustment"]]
    assert next_year[-1][4:] == ["10.00", "-28.00"]
    paid = int(repos(portal_stack).ledger.balance(rid)["paid_cents"])
    assert paid == 4_000 + 1_000 == round(100 * (float(rows[-1][4]) + float(next_year[-1][4])))


def test_the_years_list_this_year_last_year_and_earlier_years_with_activity(portal_stack, history):
    post(portal_stack, history["referrer_id"], EntryKind.ADJUSTMENT, "ADJ-old", 100, "2021-01-01T00:00:00.000000Z")
    response = portal(portal_stack, "GET", "/me/statements", session=history["session"])
    assert response["statusCode"] == 200, response
    listed = json_body(response)
    assert (listed["time_zone"], listed["year_start_month"], listed["currency"]) == ("Australia/Sydney", 7, CURRENCY)
    current = year_of(datetime.now(UTC), Statements()).first_year
    labels = [i["year"] for i in listed["items"]]
    assert labels[:2] == [f"{current}-{(current + 1) % 100:02d}", f"{current - 1}-{current % 100:02d}"]
    assert "2020-21" in labels
    fy26 = next(i for i in listed["items"] if i["year"] == "2025-26")
    assert fy26 == {"year": "2025-26", "starts_on": "2025-07-01", "ends_on": "2026-06-30", "paid_cents": 4_000,
                    "earned_cents": 6_000, "csv_path": "/me/statements/2025-26/statement.csv",
                    "pdf_path": "/me/statements/2025-26/statement.pdf"}


def test_the_pdf_carries_the_business_the_referrer_the_period_the_total_and_the_wording(portal_stack, history,
                                                                                       tmp_path):
    text = pdf_text(portal(portal_stack, "GET", "/me/statements/2025-26/statement.pdf", session=history["session"],
                           route="GET /me/statements/{year}/statement.pdf", path_params={"year": "2025-26"}),
                    tmp_path)
    assert "Quick Help" in text  # the business's name (the default before staff set one)
    assert "Jo Smith" in text
    assert "01 July 2025 to 30 June 2026" in text
    assert "Total for 2025-26" in text and "A$40.00" in text
    assert NO_EMPLOYMENT in text


def test_the_year_start_month_is_a_programme_setting(portal_stack, jo):
    save_rules(portal_stack, statements={"year_start_month": 1, "time_zone": "Australia/Sydney"})
    post(portal_stack, jo["referrer_id"], EntryKind.ADJUSTMENT, "ADJ-1", 500, "2025-12-31T12:59:59.000000Z")
    post(portal_stack, jo["referrer_id"], EntryKind.ADJUSTMENT, "ADJ-2", 900, "2025-12-31T13:00:00.000000Z")
    rows = csv_rows(portal(portal_stack, "GET", "/me/statements/2025/statement.csv", session=jo["session"],
                           route="GET /me/statements/{year}/statement.csv", path_params={"year": "2025"}))
    assert rows[-1][5] == "5.00"  # 2026 began at 13:00 UTC on 31 December in Sydney (AEDT)
    response = portal(portal_stack, "GET", "/me/statements/2025-26/statement.csv", session=jo["session"],
                      route="GET /me/statements/{year}/statement.csv", path_params={"year": "2025-26"})
    assert response["statusCode"] == 422 and "year" in json_body(response)["error"]["fields"]


@pytest.mark.parametrize("changes", [{"year_start_month": 0}, {"year_start_month": 13},
                                     {"time_zone": "Mars/Olympus"}, {"time_zone": "../etc/passwd"}])
def test_a_bad_year_start_or_time_zone_is_refused(portal_stack, changes):
    body = {**default_rules().model_dump(mode="json"), "statements": changes, "expected_version": 0}
    response = portal_stack.invoke(ADMIN, http_event("PUT", "/admin/program", body=body, claims=ADMIN_CLAIMS))
    assert response["statusCode"] == 422, response
    assert any(f.startswith("statements") for f in json_body(response)["error"]["fields"]), response


@pytest.mark.parametrize("year", ["2025-27", "abcd", "2025-26x", "1999-00", "2099-00"])
def test_a_bad_year_is_a_422_naming_year(portal_stack, jo, year):
    for suffix in ("csv", "pdf"):
        response = portal(portal_stack, "GET", f"/me/statements/{year}/statement.{suffix}", session=jo["session"],
                          route=f"GET /me/statements/{{year}}/statement.{suffix}", path_params={"year": year})
        assert response["statusCode"] == 422, response
        assert "year" in json_body(response)["error"]["fields"]


def test_only_the_signed_in_referrer_and_staff_see_a_statement(portal_stack, history, tmp_path):
    other = create_referrer(portal_stack, name="Sam Other", email="sam@example.com")
    sam = sign_in(portal_stack, "sam@example.com")
    mine = csv_rows(portal(portal_stack, "GET", "/me/statements/2025-26/statement.csv", session=sam,
                           route="GET /me/statements/{year}/statement.csv", path_params={"year": "2025-26"}))
    assert mine[1:] == [["", "total", "Total for 2025-26", "", "0.00", "0.00"]]  # Sam's own: nothing
    unsigned = portal(portal_stack, "GET", "/me/statements/2025-26/statement.csv",
                      route="GET /me/statements/{year}/statement.csv", path_params={"year": "2025-26"})
    assert unsigned["statusCode"] == 401

    # staff see any referrer's, the same as the referrer does
    path = f"/admin/referrers/{history['referrer_id']}/statements/2025-26/statement"
    rows = csv_rows(portal_stack.invoke(ADMIN, http_event("GET", f"{path}.csv", claims=STAFF_CLAIMS)))
    assert rows[-1] == ["", "total", "Total for 2025-26", "", "40.00", "60.00"]
    text = pdf_text(portal_stack.invoke(ADMIN, http_event("GET", f"{path}.pdf", claims=STAFF_CLAIMS)), tmp_path)
    assert "Jo Smith" in text and NO_EMPLOYMENT in text
    assert portal_stack.invoke(ADMIN, http_event("GET", f"{path}.csv", claims=VIEWER_CLAIMS))["statusCode"] == 403
    missing = portal_stack.invoke(ADMIN, http_event("GET", "/admin/referrers/nobody/statements/2025-26/statement.csv",
                                                    claims=STAFF_CLAIMS))
    assert missing["statusCode"] == 404
    bad = portal_stack.invoke(ADMIN, http_event(
        "GET", f"/admin/referrers/{other['referrer_id']}/statements/26-27/statement.pdf", claims=STAFF_CLAIMS))
    assert bad["statusCode"] == 422 and "year" in json_body(bad)["error"]["fields"]
