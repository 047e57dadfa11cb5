"""GET /docs in headless Chromium on the local stack (issue 16, item 12): Swagger UI renders the API from
files this origin serves, under the page's strict CSP, and the browser asks no other host for anything."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from playwright.sync_api import sync_playwright

from local.testing import StackProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

CHROMIUM = "/usr/bin/chromium"


def test_docs_renders_under_its_csp_and_loads_nothing_from_another_host(stack: StackProcess):
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        try:
            page = browser.new_page()
            hosts: set[str] = set()
            violations: list[str] = []
            page.on("request", lambda request: hosts.add(urlsplit(request.url).netloc))
            page.on("console", lambda message: violations.append(message.text)
                    if "Content Security Policy" in message.text else None)

            page.goto(stack.base_url + "/docs")
            page.wait_for_selector(".opblock", timeout=30_000)
            page.locator(".opblock-summary").first.click()  # expanding renders models and highlighted code
            page.wait_for_selector(".opblock-body", timeout=10_000)

            assert page.locator(".opblock").count() > 20
            assert violations == []
            assert hosts == {urlsplit(stack.base_url).netloc}
        finally:
            browser.close()
