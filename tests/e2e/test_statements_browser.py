"""The dashboard's yearly statements in headless Chromium on the local stack (issue 19, item 6): this
financial year's and last year's, each downloading as CSV and PDF with the session."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, expect

from local.testing import StackProcess
from referral_core.clock import now
from referral_core.models.program import Statements
from referral_core.services.statements import year_of
from tests.e2e.test_browser_journey import PHONE, browser, staff
from tests.e2e.test_share_browser import dashboard

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with the journey


def test_this_years_and_last_years_statements_download_from_the_dashboard(stack: StackProcess,
                                                                          browser: Browser) -> None:
    email = f"jo-{uuid.uuid4().hex[:8]}@example.com"
    staff(stack, "POST", "/admin/referrers", {"name": "Jo Smith", "email": email})
    this_year = year_of(now(), Statements())
    last_year = f"{this_year.first_year - 1}-{this_year.first_year % 100:02d}"
    for page in dashboard(browser, stack, email, PHONE):
        items = page.locator("#statements li")
        expect(items).to_have_count(2)
        expect(items.nth(0)).to_have_attribute("data-year", this_year.label)
        expect(items.nth(1)).to_have_attribute("data-year", last_year)
        with page.expect_download() as download:
            items.nth(0).get_by_role("link", name="CSV").click()
        assert download.value.suggested_filename == f"statement-{this_year.label}.csv"
        with open(download.value.path(), encoding="utf-8") as csv:
            assert csv.readline().startswith("date,type,description,reference,paid (A$),earned (A$)")
        with page.expect_download() as download:
            items.nth(1).get_by_role("link", name="PDF").click()
        assert download.value.suggested_filename == f"statement-{last_year}.pdf"
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
