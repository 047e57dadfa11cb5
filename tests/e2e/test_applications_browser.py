"""Becoming a referrer in headless Chromium on the local stack, at phone width (360 px, axe-checked): a
person applies on /become-a-referrer (by keyboard), confirms their email from the emailed link, and staff
approve the application in the console's Applications tab; the new referrer gets the welcome email with
their link (docs/applications.md)."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from local.resources import STAFF_EMAIL
from local.testing import StackProcess
from tests.e2e.test_staff_console import AXE, accessible, browser, open_tab, page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser", "page"]  # the console's Chromium fixtures (CSP and script errors fail the test)


def emailed_link(stack: StackProcess, to: str, kind: str) -> str:
    """The path of the newest ``kind`` link (verify/guardian) emailed to ``to``."""
    deadline = time.monotonic() + 20
    while True:
        mails = [m for m in stack.outbox() if to in m["to"] and f"#{kind}=" in (m["text"] or "")]
        if mails or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert mails, f"no {kind} link emailed to {to}"
    link = re.search(rf"/become-a-referrer#{kind}=[\w-]+&application=[\w-]+", mails[-1]["text"])
    assert link, mails[-1]
    return link.group(0)


def page_is_accessible(page: Page) -> None:
    results = AXE.run(page)
    bad = [(v["id"], v["impact"]) for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, bad
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, "the page scrolls sideways at 360 px"


def test_apply_verify_and_staff_approve_in_the_console(stack: StackProcess, page: Page) -> None:
    email = f"alex-{uuid.uuid4().hex[:8]}@example.com"
    name = f"Alex Applicant {uuid.uuid4().hex[:4]}"

    # The page loads the programme terms; a missing field is explained next to it
    page.goto(f"{stack.base_url}/become-a-referrer")
    expect(page.locator("#terms-version")).not_to_be_empty()
    expect(page.locator("#terms-text p").first).to_be_visible()
    page_is_accessible(page)
    page.click("#apply-form button[type=submit]")
    expect(page.locator("#name-error")).to_have_text("Please fill this in.")
    expect(page.locator("#name")).to_be_focused()

    # Filled in by keyboard: the honeypot is never reached by Tab
    page.keyboard.type(name)
    for selector, value in (("#email", email), ("#phone", "0412 345 678"), ("#postcode", "2000")):
        page.keyboard.press("Tab")
        expect(page.locator(selector)).to_be_focused()
        page.keyboard.type(value)
    page.keyboard.press("Tab")
    expect(page.locator("#referrer_type")).to_be_focused()
    page.select_option("#referrer_type", "local_partner")
    page.fill("#how_known", "We run the bakery next door.")
    page.fill("#date_of_birth", "1990-05-01")
    page.focus("#guardian_email")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.id") != "website"
    page.keyboard.press("Space")  # the terms checkbox, the next stop after the guardian's email
    expect(page.locator("#accept_terms")).to_be_checked()
    page.press("#postcode", "Enter")  # a text field's Enter submits the form
    expect(page.locator("#sent")).to_be_visible()
    expect(page.locator("#sent-title")).to_have_text("Check your email")

    # The emailed link confirms the address; the token leaves the address bar at once
    page.goto(f"{stack.base_url}{emailed_link(stack, email, 'verify')}")
    expect(page.locator("#verify-title")).to_have_text("Email confirmed")
    assert "verify=" not in page.url
    # the link works once
    page.goto(f"{stack.base_url}{emailed_link(stack, email, 'verify')}")
    expect(page.locator("#verify-title")).to_have_text("This link doesn't work")

    # Staff see the application in the console's Applications tab and approve it
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "applications")
    row = page.locator("#applications-list li", has_text=email)
    expect(row).to_be_visible()
    expect(row).to_contain_text("Local partner business")
    accessible(page, "applications")
    row.get_by_role("button", name="Approve").click()
    expect(page.locator("#status")).to_contain_text(f"Approved: {name} is a referrer now")
    expect(page.locator("#applications-list li", has_text=email)).to_have_count(0)

    # The welcome email with their link follows from the stream
    deadline = time.monotonic() + 30
    welcome: list[dict] = []
    while not welcome and time.monotonic() < deadline:
        welcome = [m for m in stack.outbox() if email in m["to"] and m["subject"] == "Your referral link is ready"]
        time.sleep(0.5)
    assert welcome and "/r/" in (welcome[0]["text"] or "")


def test_a_guardian_consents_from_their_link_on_the_same_page(stack: StackProcess, page: Page) -> None:
    # Given a 16-year-old's application, confirmed by the applicant
    email = f"kid-{uuid.uuid4().hex[:8]}@example.com"
    guardian = f"parent-{uuid.uuid4().hex[:8]}@example.net"
    terms = stack.request("GET", "/applications/terms").json()
    applied = stack.request("POST", "/applications", body={
        "name": "Kim Young", "email": email, "phone": "0412 345 679", "postcode": "2000",
        "how_known": "My aunt is a customer", "referrer_type": "campus_helper", "age_band": "16_17",
        "guardian_email": guardian, "accept_terms": True, "terms_version": terms["version"]})
    assert applied.status == 202, applied.body
    page.goto(f"{stack.base_url}{emailed_link(stack, email, 'verify')}")
    expect(page.locator("#verify-message")).to_contain_text("We've emailed your parent or guardian")

    # When the guardian opens their link: the terms, then consent (a missing name is explained first)
    page.goto(f"{stack.base_url}{emailed_link(stack, guardian, 'guardian')}")
    expect(page.locator("#guardian")).to_be_visible()
    assert "guardian=" not in page.url
    expect(page.locator("#guardian-terms p").first).to_be_visible()
    page_is_accessible(page)
    page.click("#guardian-form button[type=submit]")
    expect(page.locator("#guardian_name-error")).to_have_text("Please give your name.")
    page.keyboard.type("Sam Young")
    page.keyboard.press("Tab")
    page.keyboard.press("Space")
    expect(page.locator("#guardian_consent")).to_be_checked()
    page.press("#guardian_name", "Enter")

    # Then it is recorded, and staff see the application no longer waiting
    expect(page.locator("#status")).to_contain_text("your consent is recorded")
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    queue = stack.request("GET", "/admin/applications?limit=100", headers=staff).json()
    mine = [i for i in queue["items"] if i["email"] == email]
    assert mine and mine[0]["waiting_for_guardian"] is False
    assert mine[0]["guardian_consent"]["guardian_name"] == "Sam Young"
