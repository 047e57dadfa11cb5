"""The console's flyer picker in headless Chromium on the local stack (360 px, axe-checked like every
console screen): on a referrer's page staff pick a flyer size and what its QR counts scans as for any of
the referrer's codes, by keyboard alone, and get the PDF from GET /admin/share-codes/{code}/flyer.pdf."""

from __future__ import annotations

import uuid
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Page, expect

from local.resources import STAFF_EMAIL
from local.testing import StackProcess
from tests.e2e.test_staff_console import accessible, browser, open_tab, page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser", "page"]  # the console's Chromium fixtures (CSP and script errors fail the test)


def test_staff_download_a_flyer_of_a_referrers_code_by_keyboard(stack: StackProcess, page: Page) -> None:
    # Given a referrer with a personal code
    surname = f"Flyer{uuid.uuid4().hex[:6]}"
    referrer = stack.request("POST", "/admin/referrers", headers={"authorization": f"Bearer {stack.staff_token}"},
                             body={"name": f"Pat {surname}", "email": f"pat-{uuid.uuid4().hex[:8]}@example.com"})
    assert referrer.status == 201, referrer.body
    code = referrer.json()["code"]

    # When staff open the referrer's page
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "referrers")
    page.fill("#referrers-q", f"pat {surname.lower()}")
    page.press("#referrers-q", "Enter")
    page.locator(f"#referrers-list li[data-referrer-id='{referrer.json()['referrer_id']}'] button").click()
    expect(page.locator("#referrer-body")).to_contain_text(code)

    # Then each code has a labelled flyer picker: five sizes, and the placements its QR may count as
    picker = page.get_by_role("group", name=f"Flyer of {code}")
    size, placement = picker.get_by_label("Flyer size"), picker.get_by_label("QR counts scans as")
    expect(size.locator("option")).to_have_text(
        ["A4 poster", "A5 flyer", "DL flyer", "Business card", "Van / window decal"])
    expect(placement.locator("option").first).to_have_text("The size\u2019s own")
    picker.evaluate("group => group.closest('.table-wrap').scrollLeft = 10000")  # the picker in the picture
    accessible(page, "referrer-flyer")

    # and by keyboard alone: a business card whose QR counts as the van, then Enter on the button
    size.focus()
    page.keyboard.press("End")
    page.keyboard.press("ArrowUp")
    expect(size).to_have_value("card")
    page.keyboard.press("Tab")
    expect(placement).to_be_focused()
    placement.select_option("van")
    page.keyboard.press("Tab")
    button = picker.get_by_role("button", name=f"Download a flyer of {code}")
    expect(button).to_be_focused()
    with page.expect_request(lambda request: "/flyer.pdf" in request.url) as asked, page.expect_download() as download:
        page.keyboard.press("Enter")
    url = urlsplit(asked.value.url)
    assert url.path == f"/admin/share-codes/{code}/flyer.pdf"
    assert parse_qs(url.query) == {"size": ["card"], "placement": ["van"]}
    assert download.value.suggested_filename == f"{code}-card.pdf"
    assert Path(download.value.path()).read_bytes().startswith(b"%PDF-")
    # the link stays on the page to save the flyer again
    expect(picker.locator("a[data-flyer]")).to_have_text(f"Save {code}-card.pdf")
