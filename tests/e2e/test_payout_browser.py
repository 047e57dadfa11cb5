"""The dashboard's payout details form in headless Chromium on the local stack (issue 19, item 4): a bad BSB
is refused naming it, a bank account is saved and shown masked only, the referrer is emailed, PayID fields
replace the bank ones, and the staff referrer page never shows the details."""

from __future__ import annotations

import uuid

import pytest
from playwright.sync_api import Browser, expect

from local.testing import StackProcess
from tests.e2e.test_browser_journey import PHONE, browser, sign_in_link, staff

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with the journey

ACCOUNT = "40912876"


def test_payout_details_are_saved_from_the_dashboard_and_shown_masked(stack: StackProcess, browser: Browser) -> None:
    email = f"jo-{uuid.uuid4().hex[:8]}@example.com"
    referrer = staff(stack, "POST", "/admin/referrers", {"name": "Jo Smith", "email": email})
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE)
    page = context.new_page()
    assert stack.request("POST", "/auth/magic-link", body={"email": email}).status == 202
    page.goto(f"{stack.base_url}{sign_in_link(stack, email)}")
    page.click("#confirm-yes")
    expect(page.locator("#dashboard")).to_be_visible()
    expect(page.locator("#payout-current")).to_have_text("none yet")

    # A BSB in the wrong shape is refused, naming it; nothing is saved
    page.fill("#bsb", "06-2000")
    page.fill("#account_number", ACCOUNT)
    page.fill("#account_name", "Jo Smith")
    page.click("#payout-form button[type=submit]")
    expect(page.locator("#status")).to_contain_text("bsb")
    expect(page.locator("#payout-current")).to_have_text("none yet")

    # The right one is saved: the form is cleared and the page shows the last 3 digits only
    page.fill("#bsb", "062-000")
    page.click("#payout-form button[type=submit]")
    expect(page.locator("#payout-current")).to_have_text("Bank account ending 876 (Jo S.)")
    expect(page.locator("#status")).to_contain_text("emailed you")
    assert page.input_value("#account_number") == ""
    assert ACCOUNT not in page.content()
    assert any(m["subject"] == "Your payout details changed" and email in m["to"] for m in stack.outbox())

    # PayID's fields replace the bank account's
    page.select_option("#payout-type", "payid")
    expect(page.locator("#payout-payid")).to_be_visible()
    expect(page.locator("#payout-bank_account")).to_be_hidden()

    # After a reload the masked form is still what the page shows
    page.reload()
    expect(page.locator("#payout-current")).to_have_text("Bank account ending 876 (Jo S.)")
    context.close()

    # Staff see the referrer's page without the details
    assert ACCOUNT not in str(staff(stack, "GET", f"/admin/referrers/{referrer['referrer_id']}"))
