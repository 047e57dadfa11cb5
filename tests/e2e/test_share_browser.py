"""The dashboard's share buttons in headless Chromium on the local stack: SMS (the iOS and the Android
form), WhatsApp, email, copy and the Web Share API's share sheet where the browser has it, each carrying
the code and its channel; a friend following the WhatsApp link is counted under ``whatsapp`` in the
funnel; a flyer downloads as a PDF."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlsplit

import pytest
from playwright.sync_api import Browser, Page, expect

from local.testing import StackProcess
from tests.e2e.test_browser_journey import PHONE, browser, sign_in_link, staff

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser"]  # the module-scoped Chromium fixture, shared with the journey

ANDROID = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/126.0 Mobile Safari/537.36")


def dashboard(browser: Browser, stack: StackProcess, email: str, user_agent: str,
              init_script: str | None = None) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=user_agent,
                                  permissions=["clipboard-read", "clipboard-write"])
    if init_script:
        context.add_init_script(init_script)
    page = context.new_page()
    assert stack.request("POST", "/auth/magic-link", body={"email": email}).status == 202
    page.goto(f"{stack.base_url}{sign_in_link(stack, email)}")
    page.click("#confirm-yes")
    expect(page.locator("#dashboard")).to_be_visible()
    yield page
    context.close()


@pytest.fixture
def referrer(stack: StackProcess) -> dict:
    email = f"jo-{uuid.uuid4().hex[:8]}@example.com"
    return {**staff(stack, "POST", "/admin/referrers", {"name": "Jo Smith", "email": email}), "email": email}


def share_href(page: Page, channel: str) -> str:
    link = page.locator(f"#codes .share [data-channel={channel}]").first
    expect(link).to_be_visible()
    return str(link.get_attribute("href"))


def test_share_buttons_carry_the_code_and_their_channel(stack: StackProcess, browser: Browser, referrer: dict) -> None:
    code, link = referrer["code"], referrer["link"]
    for page in dashboard(browser, stack, referrer["email"], PHONE):  # an iPhone
        # The iOS form of an SMS body, the message with the link marked sms
        sms = share_href(page, "sms")
        assert sms.startswith("sms:&body=")
        assert f"{link}?src=sms" in unquote(sms)
        whatsapp = share_href(page, "whatsapp")
        assert whatsapp.startswith("https://wa.me/?text=")
        message = parse_qs(urlsplit(whatsapp).query)["text"][0]
        assert f"{link}?src=whatsapp" in message and "eligible, not guaranteed" in message
        email = share_href(page, "email")
        assert email.startswith("mailto:?subject=")
        assert f"{link}?src=email" in unquote(email)
        # Copy puts the link marked copy on the clipboard
        page.locator("#codes .share [data-channel=copy]").first.click()
        expect(page.locator("#status")).to_contain_text("Link copied")
        assert page.evaluate("navigator.clipboard.readText()") == f"{link}?src=copy"
        # The business card flyer downloads as a PDF
        with page.expect_download() as download:
            page.locator("#codes .flyers [data-size=card]").first.click()
        assert download.value.suggested_filename == f"{code}-card.pdf"
        with open(download.value.path(), "rb") as pdf:
            assert pdf.read(5) == b"%PDF-"
        # A friend follows the WhatsApp link to Quick Help
        page.goto(f"{link}?src=whatsapp")
        expect(page).to_have_url(re.compile(rf"/quick-help\?.*ref={code}"))
    for page in dashboard(browser, stack, referrer["email"], ANDROID):
        assert share_href(page, "sms").startswith("sms:?body=")
    stack.drain()
    report = staff(stack, "GET", f"/admin/reports/funnel?code={code}")
    assert {row["placement"]: row["clicks_link"] for row in report["rows"]}.get("whatsapp") == 1


# Headless Chromium on Linux has no navigator.share: a stand-in records what the page would share.
WEB_SHARE = ("navigator.share = (data) => { (window.shared = window.shared || []).push(data); "
             "return Promise.resolve(); };")


def test_the_share_sheet_shows_only_where_the_browser_has_it_and_shares_the_copy_link(
        stack: StackProcess, browser: Browser, referrer: dict) -> None:
    link = referrer["link"]
    for page in dashboard(browser, stack, referrer["email"], ANDROID):
        expect(page.locator("#codes .share [data-channel=copy]").first).to_be_visible()
        assert page.evaluate("'share' in navigator") is False
        expect(page.locator("#codes .share [data-channel=share]")).to_have_count(0)
    for page in dashboard(browser, stack, referrer["email"], ANDROID, init_script=WEB_SHARE):
        share = page.locator("#codes .share [data-channel=share]").first
        expect(share).to_be_visible()
        share.click()
        page.wait_for_function("(window.shared || []).length === 1")
        [shared] = page.evaluate("window.shared")
        assert f"{link}?src=copy" in shared["text"] and "eligible, not guaranteed" in shared["text"]
