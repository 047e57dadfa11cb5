"""The yearly statements in the staff console, in headless Chromium on the local stack (360 px, axe-checked
like every console screen; issue 19, item 6): an admin sets the month the financial year starts in (and the
time zone, which the server checks: a 422 is shown next to the field) with the rest of the programme, and
staff download a referrer's statement of this financial year, fetched with the session, by keyboard alone."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Page, expect

from local.resources import ADMIN_EMAIL, VIEWER_EMAIL
from local.testing import StackProcess
from referral_core.clock import now
from referral_core.models.program import Statements
from referral_core.services.statements import year_of
from tests.e2e.test_staff_console import accessible, browser, open_tab, page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser", "page"]  # the console's Chromium fixtures (CSP and script errors fail the test)

HEADER = "date,type,description,reference,paid (A$),earned (A$)"


def test_the_financial_year_is_set_on_the_programme_and_a_referrers_statement_downloads(stack: StackProcess,
                                                                                        page: Page) -> None:
    admin = {"authorization": f"Bearer {stack.admin_token}"}
    before = stack.request("GET", "/admin/program", headers=admin).json()
    surname = f"Statement{uuid.uuid4().hex[:6]}"
    referrer = stack.request("POST", "/admin/referrers", headers=admin,
                             body={"name": f"Sam {surname}", "email": f"sam-{uuid.uuid4().hex[:8]}@example.com"})
    assert referrer.status == 201, referrer.body
    referrer_id = referrer.json()["referrer_id"]
    saved_version = before["version"]
    try:
        # Given the programme screen, with the statements' year and clock as saved (July, Sydney by default)
        sign_in(page, stack, ADMIN_EMAIL)
        expect(page.locator("#view-queue")).to_be_visible()
        open_tab(page, "program")
        expect(page.locator("#program-version")).not_to_be_empty(timeout=15_000)  # a cold start on a busy machine
        start = page.get_by_label("The financial year starts in")
        zone = page.get_by_label("Time zone (a year starts at midnight there)")
        current = {"year_start_month": 7, "time_zone": "Australia/Sydney", **before["rules"].get("statements", {})}
        expect(start.locator("option")).to_have_count(12)
        expect(start).to_have_value(str(current["year_start_month"]))
        expect(zone).to_have_value(current["time_zone"])

        # When the admin picks January by keyboard and types a time zone that does not exist
        start.focus()
        page.keyboard.press("Home")
        expect(start).to_have_value("1")
        page.keyboard.press("Tab")
        expect(zone).to_be_focused()
        zone.fill("Mars/Olympus")
        page.keyboard.press("Enter")  # "Review the changes"
        summary = page.locator("#program-summary")
        expect(summary).to_contain_text("The financial year starts in: ")
        expect(summary).to_contain_text("→ January")
        expect(summary).to_contain_text(f"Statements' time zone: {current['time_zone']} → Mars/Olympus")
        expect(page.locator("#program-save")).to_be_focused()
        page.keyboard.press("Enter")
        # Then the server's 422 is shown next to the time zone, which has the focus
        expect(page.locator("#program-time-zone-error")).not_to_be_empty()
        expect(zone).to_have_attribute("aria-invalid", "true")
        expect(zone).to_be_focused()
        accessible(page, "program-statements")

        # When it is corrected and saved: the year starts in January from now on
        zone.fill("Australia/Sydney")
        page.keyboard.press("Enter")
        expect(page.locator("#program-time-zone-error")).to_be_empty()
        expect(page.locator("#program-save")).to_be_focused()
        page.keyboard.press("Enter")
        expect(page.locator("#status")).to_contain_text("Rules saved: version")
        stored = stack.request("GET", "/admin/program", headers=admin).json()
        saved_version = stored["version"]
        assert stored["rules"]["statements"] == {"year_start_month": 1, "time_zone": "Australia/Sydney"}
        expect(start).to_have_value("1")

        # And the referrer's page offers this and last (calendar) year's statements
        open_tab(page, "referrers")
        page.fill("#referrers-q", f"sam {surname.lower()}")
        page.press("#referrers-q", "Enter")
        page.locator(f"#referrers-list li[data-referrer-id='{referrer_id}'] button").click()
        expect(page.locator("#referrer-title")).to_have_text(f"Sam {surname}")
        this_year = year_of(now(), Statements(year_start_month=1, time_zone="Australia/Sydney"))
        years = page.get_by_role("list", name="Yearly statements, this year first").locator("li")
        expect(years).to_have_count(2)
        expect(years.nth(0)).to_have_attribute("data-year", this_year.label)
        expect(years.nth(1)).to_have_attribute("data-year", str(this_year.first_year - 1))
        years.nth(0).scroll_into_view_if_needed()
        accessible(page, "referrer-statements")

        # and by keyboard alone: the CSV of this year, fetched with the session, its header row the API's
        button = page.get_by_role("button", name=f"Download the {this_year.label} statement as CSV")
        button.focus()
        with page.expect_request(lambda request: "/statement.csv" in request.url) as asked, \
                page.expect_download() as download:
            page.keyboard.press("Enter")
        assert urlsplit(asked.value.url).path == \
            f"/admin/referrers/{referrer_id}/statements/{this_year.label}/statement.csv"
        assert asked.value.headers.get("authorization", "").startswith("Bearer ")
        assert download.value.suggested_filename == f"statement-{this_year.label}.csv"
        lines = Path(download.value.path()).read_text(encoding="utf-8").splitlines()
        assert lines[0] == HEADER
        assert lines[-1].split(",")[1] == "total"
        expect(years.nth(0).locator("a[data-statement=csv]")).to_have_text(f"Save statement-{this_year.label}.csv")
    finally:
        # leave the other tests' assumptions alone: back to the rules as they were
        restore = stack.request("PUT", "/admin/program", headers=admin,
                                body={**before["rules"], "expected_version": saved_version})
        assert restore.status == 200, restore.body


def test_a_viewer_is_offered_no_statements(stack: StackProcess, page: Page) -> None:
    # one person's name and payments: the routes are staff's, so the page offers no buttons that would be refused
    email = f"viv-{uuid.uuid4().hex[:8]}@example.com"
    referrer = stack.request("POST", "/admin/referrers", headers={"authorization": f"Bearer {stack.admin_token}"},
                             body={"name": "Viv Viewer", "email": email})
    assert referrer.status == 201, referrer.body
    sign_in(page, stack, VIEWER_EMAIL)
    expect(page.locator("#who")).to_have_text(f"{VIEWER_EMAIL} · viewer")
    open_tab(page, "referrers")
    page.fill("#referrers-q", email)
    page.press("#referrers-q", "Enter")
    page.locator(f"#referrers-list li[data-referrer-id='{referrer.json()['referrer_id']}'] button").click()
    expect(page.locator("#referrer-title")).to_have_text("Viv Viewer")
    expect(page.locator("#referrer-body")).to_contain_text("Withdrawals")
    expect(page.get_by_role("list", name="Yearly statements, this year first")).to_have_count(0)
