"""The whole journey in headless Chromium on the local stack: staff create a referrer, a friend follows the
link to Quick Help, the referrer signs in with the emailed magic link and follows the referral from
`received` to `reward_available` on the dashboard, then asks for a withdrawal.

Screenshots go to test-artifacts/ (git-ignored).
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright
from standardwebhooks import Webhook

from local.testing import StackProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM = "/usr/bin/chromium"
PHONE = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
         "Version/17.0 Mobile/15E148 Safari/604.1")


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                             args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"])
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    # A phone: mobile-first layout, and a real browser's user agent (HeadlessChrome counts as a bot, whose
    # visits are redirected but never counted as clicks).
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE)
    page = context.new_page()
    yield page
    context.close()


def shot(page: Page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"journey-{name}.png"), full_page=True)


def staff(stack: StackProcess, method: str, path: str, body: dict | None = None, *, token: str | None = None) -> dict:
    response = stack.request(method, path, body=body,
                             headers={"authorization": f"Bearer {token or stack.staff_token}"})
    assert response.status in (200, 201), response.body
    return dict(response.json())


def job_event(stack: StackProcess, kind: str, job_id: str, lead_id: str) -> None:
    """A job-system event signed with the stack's webhook secret (Standard Webhooks)."""
    body = json.dumps({"type": kind, "data": {"job_id": job_id, "lead_id": lead_id, "amount_cents": 20_000,
                                              "currency": "AUD", "occurred_at": datetime.now(UTC).isoformat()}})
    webhook_id, now = f"msg_{uuid.uuid4().hex}", datetime.now(UTC)
    signature = Webhook(stack.webhook_secret).sign(webhook_id, now, body)
    response = stack.request("POST", "/webhooks/jobs", body=body, headers={
        "content-type": "application/json", "webhook-id": webhook_id,
        "webhook-timestamp": str(int(now.timestamp())), "webhook-signature": signature})
    assert response.status in (200, 202), response.body
    stack.drain()


def sign_in_link(stack: StackProcess, email: str) -> str:
    """The path of the newest sign-in link emailed to ``email`` (the token is in the fragment)."""
    mails = [m for m in stack.outbox() if email in m["to"] and m["subject"] == "Your sign-in link"]
    link = re.search(r"/dashboard#token=[\w-]+", mails[-1]["html"] or mails[-1]["text"])
    assert link, mails[-1]
    return link.group(0)


def referral_row(page: Page):
    return page.locator("#referrals tr").first


def reload_until_stage(page: Page, stack: StackProcess, stage: str, timeout_s: float = 30.0) -> None:
    """Stream consumers run one after another (webhook -> job -> attribution -> rewards): reload the
    dashboard until the referral shows ``stage``."""
    deadline = time.monotonic() + timeout_s
    while True:
        stack.drain()
        page.reload()
        page.wait_for_selector("#referrals tr")
        if referral_row(page).get_attribute("data-stage") == stage or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    expect(referral_row(page)).to_have_attribute("data-stage", stage)


def test_referral_journey_on_the_dashboard(stack: StackProcess, page: Page) -> None:
    # Given a programme without a holding period or required review, and a new referrer; its six stage
    # changes within minutes each get their own email (above the default hourly limit of 4, past which
    # they would wait for the digest: tests/integration/test_stage_notifications.py)
    program = staff(stack, "GET", "/admin/program")
    staff(stack, "PUT", "/admin/program", {**program["rules"], "holding_days": 0, "require_review": False,
                                           "min_withdrawal_cents": 1_000,
                                           "notifications": {"max_stage_emails_per_hour": 10},
                                           "expected_version": program["version"]},
          token=stack.admin_token)  # programme rules: admin
    email = f"jo-{uuid.uuid4().hex[:8]}@example.com"
    referrer = staff(stack, "POST", "/admin/referrers", {"name": "Jo Smith", "email": email})
    stack.drain()

    # When a friend opens the link, lands on Quick Help and asks for help
    friend_email, friend_phone = f"sam-{uuid.uuid4().hex[:8]}@example.net", "0498 765 432"
    page.goto(f"{stack.base_url}/r/{referrer['code']}")
    expect(page).to_have_url(re.compile(r"/quick-help\?.*ref="))
    page.fill("#name", "Sam Lee")
    page.fill("#email", friend_email)
    page.fill("#phone", friend_phone)
    page.fill("#postcode", "2000")
    page.fill("#issue", "The laptop will not start")
    page.check("input[name=consent_contact]")
    shot(page, "1-quick-help")
    page.click("button[type=submit]")
    expect(page.locator("h1")).to_contain_text("Thank")
    stack.drain()

    # And the referrer asks for a sign-in link on the dashboard and opens it
    page.goto(f"{stack.base_url}/dashboard")
    page.fill("#email", email)
    page.click("#signin-form button")
    expect(page.locator("#status")).to_contain_text("sign-in link is on its way")
    page.goto(f"{stack.base_url}{sign_in_link(stack, email)}")

    # Then the page asks whom the link signs in before using it, and the referrer confirms
    expect(page.locator("#confirm")).to_be_visible()
    expect(page.locator("#confirm-title")).to_have_text("Sign in as Jo S.?")
    assert "token=" not in page.url
    expect(page.locator("#dashboard")).to_be_hidden()
    shot(page, "1b-confirm-sign-in")
    page.click("#confirm-yes")

    # And the dashboard shows the link, the QR code and the referral as received
    expect(page.locator("#dashboard")).to_be_visible()
    assert "token=" not in page.url
    expect(page.locator("#link")).to_have_text(referrer["link"])
    expect(page.locator("#codes img").first).to_have_attribute("src", re.compile(r"^blob:"))
    expect(referral_row(page)).to_have_attribute("data-stage", "received")
    expect(referral_row(page)).to_contain_text("Sa L.")
    # the rules that apply to them: no type, so the general tiers (issue 19, item 3)
    expect(page.locator("#rules-tiers tr")).to_have_count(len(program["rules"]["tiers"]))
    expect(page.locator("#rules-tiers tr").first).to_contain_text(program["rules"]["tiers"][0]["name"])
    shot(page, "2-received")
    content = page.content()
    assert friend_email not in content and "498 765 432" not in content and "+61498765432" not in content
    lead_id = referral_row(page).get_attribute("data-referral-id")
    assert lead_id

    # When the job system reports the job created, completed and paid
    job_id = f"J-{uuid.uuid4().hex[:8]}"
    for kind in ("job.created", "job.completed", "job.paid"):
        job_event(stack, kind, job_id, lead_id)
    reload_until_stage(page, stack, "reward_pending")
    expect(page.locator("#pending_cents")).not_to_have_text(re.compile(r"^\D*0[.,]00$"))
    shot(page, "3-reward-pending")

    # And the holding period (zero days) is released by the scheduler
    stack.tick()
    reload_until_stage(page, stack, "reward_available")
    available = page.locator("#available_cents").inner_text()
    shot(page, "4-reward-available")

    # Then the referrer asks for a withdrawal of the available balance
    amount = re.sub(r"[^\d.]", "", available)
    page.fill("#amount", amount)
    page.click("#withdraw-form button")
    expect(page.locator("#status")).to_contain_text("Withdrawal requested")
    expect(page.locator("#withdrawals tr").first).to_contain_text("requested")
    expect(page.locator("#available_cents")).to_have_text(re.compile(r"^\D*0[.,]00$"))
    shot(page, "5-withdrawal")

    # and the stage emails followed the referral, without the friend's details
    updates = [m for m in stack.outbox() if email in m["to"] and m["subject"].startswith("Referral update")]
    assert {m["subject"] for m in updates} >= {"Referral update: Request received",
                                               "Referral update: Reward available"}
    assert not any(friend_email in (m["text"] or "") + (m["html"] or "") for m in updates)


def test_a_planted_sign_in_link_signs_nobody_in_without_confirmation(stack: StackProcess, page: Page) -> None:
    # Given an attacker's own sign-in link, planted where a visitor opens it (a share code's landing could
    # carry it before issue 16; an email or a chat message still can), in the old ?token= form
    email = f"mallory-{uuid.uuid4().hex[:8]}@example.com"
    staff(stack, "POST", "/admin/referrers", {"name": "Mallory Jones", "email": email})
    assert stack.request("POST", "/auth/magic-link", body={"email": email}).status == 202
    planted = sign_in_link(stack, email).replace("#token=", "?token=")
    requests: list[str] = []
    page.on("request", lambda request: requests.append(request.url))

    # When a visitor opens it
    page.goto(f"{stack.base_url}{planted}")

    # Then the token leaves the address bar, the page names the account, and nothing signs them in
    expect(page.locator("#confirm-title")).to_have_text("Sign in as Ma J.?")
    assert "token=" not in page.url
    assert not any(url.endswith("/auth/session") for url in requests)
    assert page.evaluate("sessionStorage.getItem('referralSession')") is None
    shot(page, "planted-link-confirm")

    # And "No, that's not me" leaves them signed out, with the link unused
    page.click("#confirm-no")
    expect(page.locator("#signin")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("Not signed in")
    assert page.evaluate("sessionStorage.getItem('referralSession')") is None
    token = planted.split("token=", 1)[1]
    assert stack.request("POST", "/auth/session/preview", body={"token": token}).status == 200
