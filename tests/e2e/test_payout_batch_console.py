"""Pay in a batch from the staff console (issue 19, item 5), in headless Chromium on the local stack: an admin
sets the bank file settings on the Programme screen, staff tick two withdrawals to bank accounts, create one
payout batch, download its ABA file (which the ABA parser reads back, totals equal to the batch) and mark the
whole batch paid with the bank's reference."""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from local.resources import ADMIN_EMAIL, STAFF_EMAIL
from local.testing import StackProcess
from referral_core.services.aba import parse_aba
from tests.e2e.test_staff_console import accessible, browser, open_tab, page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.e2e]
__all__ = ["browser", "page"]  # the console's Chromium fixtures (CSP and script errors fail the test)


def bank_withdrawal(stack: StackProcess, name: str, account: str, cents: int) -> dict:
    from referral_core.dal.dynamo import serialize

    email = f"batch-{uuid.uuid4().hex[:8]}@example.com"
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    referrer = stack.request("POST", "/admin/referrers", headers=staff, body={"name": name, "email": email}).json()
    stack.aws("dynamodb").update_item(
        TableName=stack.info()["tables"]["Table"], Key=serialize({"pk": f"REFERRER#{referrer['referrer_id']}",
                                                                  "sk": "BALANCE"}),
        UpdateExpression="SET available_cents = :a", ExpressionAttributeValues=serialize({":a": 10_000}))
    assert stack.request("POST", "/auth/magic-link", body={"email": email}).status == 202
    mails = [m for m in stack.outbox() if email in m["to"] and m["subject"] == "Your sign-in link"]
    token = re.search(r"/dashboard#token=([\w-]+)", mails[-1]["html"] or mails[-1]["text"]).group(1)  # type: ignore[union-attr]
    session = stack.request("POST", "/auth/session", body={"token": token}).json()["session_token"]
    bearer = {"authorization": f"Bearer {session}"}
    assert stack.request("PUT", "/me/payout-method", headers=bearer, body={
        "type": "bank_account", "bsb": "062-000", "account_number": account, "account_name": name}).status == 200
    answer = stack.request("POST", "/me/withdrawals", body={"amount_cents": cents}, headers=bearer)
    assert answer.status == 201, answer.body
    return {**answer.json(), "referrer_id": referrer["referrer_id"]}


def test_staff_batch_withdrawals_download_the_aba_file_and_mark_the_batch_paid(stack: StackProcess, page: Page,
                                                                                 tmp_path: Path) -> None:
    admin = {"authorization": f"Bearer {stack.admin_token}"}
    before = stack.request("GET", "/admin/program", headers=admin).json()
    saved_version = before["version"]
    try:
        # An admin sets the bank file settings on the Programme screen (a bad APCA id is shown by its field)
        sign_in(page, stack, ADMIN_EMAIL)
        expect(page.locator("#view-queue")).to_be_visible()
        open_tab(page, "program")
        expect(page.locator("#program-version")).not_to_be_empty(timeout=15_000)
        for label, value in (("APCA user id (6 digits, from your bank)", "30150"),
                             ("Your name as the bank knows it (up to 26 characters)", "Fixit Computers Pty Ltd"),
                             ("Remitter name on payees' statements (up to 16)", "FIXIT COMPUTERS"),
                             ("Your bank's 3-letter code (CBA, WBC, NAB, ANZ…)", "CBA"),
                             ("Your account's BSB (NNN-NNN), the payments come from it", "062-111"),
                             ("Your account number (5 to 9 digits)", "10203040")):
            page.get_by_label(label).fill(value)
        page.click("#program-check")
        expect(page.locator("#program-summary")).to_contain_text("Bank file apca user id")
        page.click("#program-save")
        expect(page.locator("#program-pf-apca-error")).not_to_be_empty()
        page.get_by_label("APCA user id (6 digits, from your bank)").fill("301500")
        page.click("#program-check")
        page.click("#program-save")
        expect(page.locator("#status")).to_contain_text("Rules saved")
        saved_version = stack.request("GET", "/admin/program", headers=admin).json()["version"]

        # Staff tick two withdrawals to bank accounts and create one batch
        first = bank_withdrawal(stack, "Robin Batch", "40912876", 3_000)
        second = bank_withdrawal(stack, "Kim Batch", "123456789", 4_550)
        page.click("#signout")
        expect(page.locator("#signin-email")).to_be_visible()
        sign_in(page, stack, STAFF_EMAIL)
        expect(page.locator("#view-queue")).to_be_visible()
        open_tab(page, "withdrawals")
        for item in (first, second):
            row = page.locator(f"#withdrawals-list li[data-withdrawal-id='{item['withdrawal_id']}']")
            row.get_by_label("Add to a payout batch").check()
        page.click("#batch-create")
        expect(page.locator("#status")).to_contain_text("Payout batch created: 2 withdrawal(s), A$75.50")
        batch = page.locator("#batch-list li[data-batch-id]").first
        expect(batch).to_contain_text("2 withdrawal(s)")
        accessible(page, "payout-batch")

        # The ABA file downloads and parses, its totals equal to the batch
        with page.expect_download() as download:
            batch.get_by_role("button", name="Download the ABA file").click()
        path = tmp_path / "batch.aba"
        download.value.save_as(path)
        parsed = parse_aba(path.read_bytes().decode("ascii"))
        assert parsed.totals.credit_cents == 7_550 and parsed.totals.count == 2
        assert {d.account_number for d in parsed.details} == {"40912876", "123456789"}
        expect(page.locator("#status")).to_contain_text("recorded in the audit trail")

        # Mark the whole batch paid with the bank's reference: both withdrawals are paid
        batch.get_by_label("The bank's reference for the bulk payment").fill("BULK-20261208")
        batch.get_by_role("button", name="Mark the batch paid").click()
        expect(page.locator("#status")).to_contain_text("Batch paid: 2 withdrawal(s)")
        staff = {"authorization": f"Bearer {stack.staff_token}"}
        paid = stack.request("GET", "/admin/withdrawals?status=paid&limit=100", headers=staff)
        references = {w["withdrawal_id"]: w.get("payout_reference") for w in paid.json()["items"]}
        assert references[first["withdrawal_id"]] == references[second["withdrawal_id"]] == "BULK-20261208"
    finally:
        restore = stack.request("PUT", "/admin/program", headers=admin,
                                body={**before["rules"], "expected_version": saved_version})
        assert restore.status == 200, restore.body
