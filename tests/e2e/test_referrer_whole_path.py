"""The whole path of becoming a referrer and getting paid, for a minor, in headless Chromium on the local stack
(issue 19, Quality): a 16-year-old applies on /become-a-referrer, confirms their email, their guardian consents
from the emailed link, staff approve in the console; the new referrer signs in and adds a bank account, a
referral earns a reward (the job system's events, the holding period released), the referrer asks for a
withdrawal on the dashboard; staff batch it in the console, download the ABA file (parsed back: the amount and
the BSB/account), mark the batch paid with the bank's reference; the referrer's dashboard shows it paid and
this financial year's statement CSV lists it.

It runs on a stack of its own: it changes the programme's rules, and its friend's contact details would
otherwise meet other tests' leads (a duplicate flag sends the referral to review) and their per-IP lead count."""

from __future__ import annotations

import re
import time
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from urllib.parse import quote

import pytest
from playwright.sync_api import Browser, Page, expect

from local.resources import STAFF_EMAIL
from local.testing import StackProcess
from referral_core.clock import now
from referral_core.models.program import Statements
from referral_core.services.aba import parse_aba
from referral_core.services.statements import year_of
from tests.e2e.conftest import running_stack
from tests.e2e.test_applications_browser import emailed_link
from tests.e2e.test_browser_journey import PHONE, job_event, reload_until_stage, sign_in_link, staff
from tests.e2e.test_staff_console import browser, open_tab, page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser", "page"]  # the console's Chromium fixtures (CSP and script errors fail the test)

BSB, ACCOUNT = "062-000", "40912876"
PAYOUT_FILE = {"apca_user_id": "301500", "user_name": "Fixit Computers Pty Ltd", "remitter_name": "FIXIT COMPUTERS",
               "financial_institution": "CBA", "bsb": "062-111", "account_number": "10203040"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """This module's own local stack (overrides the session's)."""
    with running_stack(tmp_path_factory.mktemp("local-stack-whole-path")) as process:
        yield process


def wait_for_mail(stack: StackProcess, to: str, subject: str, timeout_s: float = 30.0) -> dict:
    deadline = time.monotonic() + timeout_s
    while True:
        mails = [m for m in stack.outbox() if to in m["to"] and m["subject"] == subject]
        if mails or time.monotonic() > deadline:
            break
        stack.drain()
        time.sleep(0.5)
    assert mails, f"no {subject!r} emailed to {to}"
    return dict(mails[-1])


def sixteen_years_ago() -> str:
    today = date.today()
    return today.replace(year=today.year - 16, day=min(today.day, 28)).isoformat()


def test_a_minor_applies_is_approved_paid_in_a_batch_and_sees_it_on_the_statement(
        stack: StackProcess, page: Page, browser: Browser, tmp_path: Path) -> None:
    admin = {"authorization": f"Bearer {stack.admin_token}"}
    before = stack.request("GET", "/admin/program", headers=admin).json()
    # no holding days or review (the scheduler releases at once), and the bank file's settings
    changed = staff(stack, "PUT", "/admin/program", {
        **before["rules"], "holding_days": 0, "require_review": False, "min_withdrawal_cents": 1_000,
        "notifications": {**before["rules"].get("notifications", {}), "max_stage_emails_per_hour": 10},
        "payout_file": {**before["rules"].get("payout_file", {}), **PAYOUT_FILE},
        "expected_version": before["version"]}, token=stack.admin_token)
    saved_version = changed["version"]
    email = f"kid-{uuid.uuid4().hex[:8]}@example.com"
    guardian = f"parent-{uuid.uuid4().hex[:8]}@example.net"
    name = f"Kim Young {uuid.uuid4().hex[:4]}"
    context = browser.new_context(viewport={"width": 390, "height": 844}, user_agent=PHONE)
    try:
        me = context.new_page()

        # A 16-year-old applies on the public page, with their guardian's email
        me.goto(f"{stack.base_url}/become-a-referrer")
        expect(me.locator("#terms-version")).not_to_be_empty()
        me.fill("#name", name)
        me.fill("#email", email)
        me.fill("#phone", "0412 345 680")
        me.fill("#postcode", "2000")
        me.select_option("#referrer_type", "campus_helper")
        me.fill("#how_known", "My aunt is a customer")
        me.fill("#date_of_birth", sixteen_years_ago())
        me.fill("#guardian_email", guardian)
        me.check("#accept_terms")
        me.click("#apply-form button[type=submit]")
        expect(me.locator("#sent")).to_be_visible()

        # confirms their email from the emailed link: the guardian is asked next
        me.goto(f"{stack.base_url}{emailed_link(stack, email, 'verify')}")
        expect(me.locator("#verify-title")).to_have_text("Email confirmed")
        expect(me.locator("#verify-message")).to_contain_text("We've emailed your parent or guardian")

        # The guardian consents from their own link
        me.goto(f"{stack.base_url}{emailed_link(stack, guardian, 'guardian')}")
        expect(me.locator("#guardian")).to_be_visible()
        me.fill("#guardian_name", "Sam Young")
        me.check("#guardian_consent")
        me.click("#guardian-form button[type=submit]")
        expect(me.locator("#status")).to_contain_text("your consent is recorded")

        # Staff approve the application in the console
        sign_in(page, stack, STAFF_EMAIL)
        expect(page.locator("#view-queue")).to_be_visible()
        open_tab(page, "applications")
        row = page.locator("#applications-list li", has_text=email)
        expect(row).to_be_visible()
        row.get_by_role("button", name="Approve").click()
        expect(page.locator("#status")).to_contain_text(f"Approved: {name} is a referrer now")
        welcome = wait_for_mail(stack, email, "Your referral link is ready")
        code = re.search(r"/r/([\w-]+)", welcome["text"] or "")
        assert code, welcome

        # The new referrer signs in and adds a bank account
        me.goto(f"{stack.base_url}/dashboard")
        me.fill("#email", email)
        me.click("#signin-form button")
        expect(me.locator("#status")).to_contain_text("sign-in link is on its way")
        me.goto(f"{stack.base_url}{sign_in_link(stack, email)}")
        me.click("#confirm-yes")
        expect(me.locator("#dashboard")).to_be_visible()
        me.fill("#bsb", BSB)
        me.fill("#account_number", ACCOUNT)
        me.fill("#account_name", "Kim Young")
        me.click("#payout-form button[type=submit]")
        expect(me.locator("#payout-current")).to_contain_text("Bank account ending 876")
        assert ACCOUNT not in me.content()

        # A friend asks for help through the referrer's link; the job is done and paid; the reward released
        friend = context.new_page()
        friend.goto(f"{stack.base_url}/r/{code.group(1)}")
        expect(friend).to_have_url(re.compile(r"/quick-help\?.*ref="))
        friend.fill("#name", "Lee Friend")
        friend.fill("#email", f"lee-{uuid.uuid4().hex[:8]}@example.net")
        friend.fill("#phone", "0498 765 433")
        friend.fill("#postcode", "2000")
        friend.fill("#issue", "The printer will not print")
        friend.check("input[name=consent_contact]")
        friend.click("button[type=submit]")
        expect(friend.locator("h1")).to_contain_text("Thank")
        friend.close()
        stack.drain()
        me.reload()
        me.wait_for_selector("#referrals tr")
        lead_id = me.locator("#referrals tr").first.get_attribute("data-referral-id")
        assert lead_id
        job_id = f"J-{uuid.uuid4().hex[:8]}"
        for kind in ("job.created", "job.completed", "job.paid"):
            job_event(stack, kind, job_id, lead_id)
        reload_until_stage(me, stack, "reward_pending")
        stack.tick()
        reload_until_stage(me, stack, "reward_available")

        # The referrer asks for a withdrawal of the whole available balance on the dashboard
        available = re.sub(r"[^\d.]", "", me.locator("#available_cents").inner_text())
        cents = round(float(available) * 100)
        assert cents > 0
        me.fill("#amount", available)
        me.click("#withdraw-form button")
        expect(me.locator("#status")).to_contain_text("Withdrawal requested")
        expect(me.locator("#withdrawals tr").first).to_contain_text("requested")
        found = staff(stack, "GET", f"/admin/referrers?q={quote(email)}")["items"]
        assert len(found) == 1, found
        asked = staff(stack, "GET", "/admin/withdrawals?status=requested&limit=100")["items"]
        mine = [w for w in asked if w["referrer_id"] == found[0]["referrer_id"]]
        assert mine, asked
        withdrawal_id = mine[0]["withdrawal_id"]

        # Staff put it in a batch in the console and download the ABA file
        open_tab(page, "withdrawals")
        line = page.locator(f"#withdrawals-list li[data-withdrawal-id='{withdrawal_id}']")
        line.get_by_label("Add to a payout batch").check()
        page.click("#batch-create")
        expect(page.locator("#status")).to_contain_text("Payout batch created: 1 withdrawal(s)")
        batch = page.locator("#batch-list li[data-batch-id]").first
        with page.expect_download() as download:
            batch.get_by_role("button", name="Download the ABA file").click()
        path = tmp_path / "batch.aba"
        download.value.save_as(path)
        parsed = parse_aba(path.read_bytes().decode("ascii"))
        assert parsed.totals.credit_cents == cents and parsed.totals.count == 1
        detail = parsed.details[0]
        assert detail.account_number == ACCOUNT and detail.bsb == BSB and detail.amount_cents == cents

        # and mark the batch paid with the bank's reference
        reference = f"BULK-{uuid.uuid4().hex[:6].upper()}"
        batch.get_by_label("The bank's reference for the bulk payment").fill(reference)
        batch.get_by_role("button", name="Mark the batch paid").click()
        expect(page.locator("#status")).to_contain_text("Batch paid: 1 withdrawal(s)")

        # The referrer's dashboard shows it paid, and this financial year's statement CSV lists it
        stack.drain()
        me.reload()
        expect(me.locator("#withdrawals tr").first).to_contain_text("paid")
        rules = stack.request("GET", "/admin/program", headers=admin).json()["rules"]
        this_year = year_of(now(), Statements(**rules.get("statements", {})))
        item = me.locator(f"#statements li[data-year='{this_year.label}']")
        with me.expect_download() as statement:
            item.get_by_role("link", name="CSV").click()
        lines = Path(statement.value.path()).read_text(encoding="utf-8").splitlines()
        paid = [row.split(",") for row in lines[1:] if row.split(",")[1] == "paid"]
        amount = f"{cents // 100}.{cents % 100:02d}"
        assert any(row[3] == reference and row[4] == amount for row in paid), lines
    finally:
        context.close()
        restore = stack.request("PUT", "/admin/program", headers=admin,
                                body={**before["rules"], "expected_version": saved_version})
        assert restore.status == 200, restore.body
