"""The console's Branding screen in headless Chromium on the local stack (360 px, axe-checked like every
console screen): an admin sets the business's name, short line, colour, contact line and an SVG logo;
Quick Help then shows them, with its link-preview tags; staff see the screen without the save button."""

from __future__ import annotations

import re
import time
import uuid

import pytest
from playwright.sync_api import Page, expect

from local.resources import STAFF_EMAIL
from local.testing import StackProcess
from tests.e2e.test_staff_console import ADMIN_EMAIL, accessible, browser, open_tab, page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser", "page"]  # the console's Chromium fixtures (CSP and script errors fail the test)

LOGO = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 40 20"><rect width="40" height="20" rx="4" '
        b'fill="#aa3300"/></svg>')


def test_an_admin_sets_the_branding_and_quick_help_shows_it(stack: StackProcess, page: Page) -> None:
    name = f"Fixit Computers {uuid.uuid4().hex[:4]}"
    sign_in(page, stack, ADMIN_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "branding")
    expect(page.locator("#branding-version")).not_to_be_empty()
    # A name is required, next to its field
    page.fill("#branding-name", "")
    page.click("#branding-form button[type=submit]")
    expect(page.locator("#branding-name-error")).to_have_text("Enter the business's name.")
    page.fill("#branding-name", name)
    page.fill("#branding-tagline", "Laptop and phone repairs in Sydney")
    page.fill("#branding-colour", "#aa3300")
    page.fill("#branding-contact", "02 9999 0000")
    page.set_input_files("#branding-logo", files=[{"name": "logo.svg", "mimeType": "image/svg+xml", "buffer": LOGO}])
    page.click("#branding-form button[type=submit]")
    expect(page.locator("#status")).to_contain_text("Branding saved")
    expect(page.locator("#branding-version")).to_contain_text("Version")
    expect(page.locator("#branding-logo-preview")).to_have_attribute("src", re.compile(r"^/branding/logo\?v=\d+$"))
    expect(page.locator("#branding-remove-logo-row")).to_be_visible()
    accessible(page, "branding")

    # Quick Help shows the name and logo, and carries the link-preview tags
    # (each container reads the branding again within a minute: an earlier test may have saved some)
    deadline = time.monotonic() + 70
    page.goto(f"{stack.base_url}/quick-help")
    while page.locator(".brand-name").inner_text() != name and time.monotonic() < deadline:
        time.sleep(2)
        page.reload()
    expect(page.locator(".brand-name")).to_have_text(name)
    expect(page.locator("meta[property='og:title']")).to_have_attribute("content", name)
    expect(page.locator("meta[name='twitter:card']")).to_have_attribute("content", "summary_large_image")
    assert page.evaluate("document.querySelector('.brand img').naturalWidth") > 0  # the logo loaded


def test_staff_see_the_branding_but_only_an_admin_saves_it(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "branding")
    expect(page.locator("#branding-name")).not_to_have_value("")
    expect(page.locator("#branding-form button[type=submit]")).to_be_hidden()
