"""The staff console (GET /admin) in headless Chromium on the local stack, 360 px wide: sign in as a person
(first-login new password, wrong password, forgotten password with the emailed code, two-step sign-in,
sign-out, idle time-out), then the review queue and a referral's evidence card, deciding by keyboard,
the stale-version answer, and a viewer who can read but not decide.

Every screen is checked with axe-core (0 serious or critical violations) and saved to docs/img/ for
docs/admin.md. Any CSP or Trusted Types violation, or a script error, fails the test.
"""

from __future__ import annotations

import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Browser, Page, expect, sync_playwright

from local.resources import DEMO_PASSWORD, STAFF_EMAIL, VIEWER_EMAIL
from local.testing import StackProcess

pytestmark = [pytest.mark.browser, pytest.mark.e2e]

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "img"
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
AXE = Axe()


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser: Browser) -> Iterator[Page]:
    context = browser.new_context(viewport={"width": 360, "height": 800})
    page = context.new_page()
    problems: list[str] = []
    page.on("pageerror", lambda error: problems.append(f"script error: {error}"))
    page.on("console", lambda message: problems.append(message.text) if message.type == "error" and (
        "Content Security Policy" in message.text or "TrustedHTML" in message.text
        or "Trusted Type" in message.text) else None)
    yield page
    context.close()
    assert not problems, problems


def accessible(page: Page, screen: str) -> None:
    """axe-core on the page as it is: no serious or critical violation; the screenshot for the docs."""
    results = AXE.run(page)
    bad = [(v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
           for v in results.response["violations"] if v["impact"] in ("serious", "critical")]
    assert not bad, f"{screen}: {bad}"
    assert page.evaluate("document.documentElement.scrollWidth") <= 360, f"{screen} scrolls sideways at 360 px"
    IMAGES.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(IMAGES / f"console-{screen}.png"), full_page=True)


def pool(stack: StackProcess) -> tuple[Any, str, str]:
    info = stack.info()
    pool_id, client_id = info["user_pools"]["StaffUserPool"], info["user_pool_clients"]["StaffUserPoolClient"]
    return stack.aws("cognito-idp"), pool_id, client_id


def new_staff_user(stack: StackProcess, group: str = "staff", temporary: str = "Temp-Passw0rd-1") -> str:
    """A user as `admin-create-user` makes one after a deploy: a temporary password, the challenge pending."""
    idp, pool_id, _ = pool(stack)
    email = f"new-{uuid.uuid4().hex[:8]}@example.com"
    idp.admin_create_user(UserPoolId=pool_id, Username=email, TemporaryPassword=temporary, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email},
                                          {"Name": "email_verified", "Value": "true"}])
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=email, GroupName=group)
    return email


def emailed_code(stack: StackProcess, email: str, *, count: int) -> str:
    """The code of the ``count``-th reset email to ``email`` (waiting for it: the page sends it)."""
    deadline = time.monotonic() + 10
    while True:
        mails = [m for m in stack.outbox() if m["to"] == [email]]
        if len(mails) >= count or time.monotonic() > deadline:
            break
        time.sleep(0.1)
    assert len(mails) == count, mails
    found = re.search(r"\b(\d{6})\b", mails[-1]["text"])
    assert found, mails[-1]
    return found.group(1)


def sign_in(page: Page, stack: StackProcess, email: str, password: str = DEMO_PASSWORD) -> None:
    page.goto(f"{stack.base_url}/admin")
    page.fill("#signin-email", email)
    page.fill("#signin-password", password)
    page.press("#signin-password", "Enter")


def tokens_stay_out_of_the_url_and_the_page(page: Page) -> None:
    saved = json.loads(page.evaluate("sessionStorage.getItem('staffSession')"))
    assert saved["id"] and saved["refresh"]
    assert "eyJ" not in page.url
    html = page.content()
    assert saved["id"] not in html and saved["refresh"] not in html
    assert page.evaluate("Object.keys(localStorage).length") == 0


def flagged_referral(stack: StackProcess) -> str:
    """A lead that names a referrer twice with the same contact: the checks flag it for review."""
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    referrer = stack.request("POST", "/admin/referrers", headers=staff, body={
        "name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com"}).json()
    version = stack.request("GET", "/policy").json()["version"]
    customer = f"sam-{uuid.uuid4().hex[:8]}@example.com"
    lead_id = ""
    for issue in ("Laptop will not start", "Still broken"):
        created = stack.request("POST", "/leads", headers={"idempotency-key": uuid.uuid4().hex}, body={
            "name": "Sam Lee", "email": customer, "postcode": "3000", "issue": issue, "ref": referrer["code"],
            "referred_by": "Bob", "consent": {"contact": True, "policy_version": version}})
        assert created.status == 201, created.body
        lead_id = created.json()["lead_id"]
    stack.drain()
    return lead_id


# ------------------------------------------------------------------ signing in


def test_first_sign_in_asks_for_a_new_password_then_opens_the_queue(stack: StackProcess, page: Page) -> None:
    # Given a staff member whose account was just made, with an emailed temporary password
    email = new_staff_user(stack)

    # When they open the console, there is no token field, only email and password
    page.goto(f"{stack.base_url}/admin")
    expect(page.locator("#view-signin")).to_be_visible()
    assert page.locator("input[name=token]").count() == 0
    accessible(page, "sign-in")
    page.fill("#signin-email", email)
    page.fill("#signin-password", "Temp-Passw0rd-1")
    page.click("#signin-form button[type=submit]")

    # Then they are asked for a password of their own; a weak one is refused next to the field
    expect(page.locator("#view-newpassword")).to_be_visible()
    page.fill("#newpassword", "short")
    page.press("#newpassword", "Enter")
    expect(page.locator("#newpassword-error")).to_have_text(re.compile("12 characters"))
    expect(page.locator("#newpassword")).to_have_attribute("aria-invalid", "true")
    accessible(page, "new-password")
    page.fill("#newpassword", "My-Own-Passw0rd-9")
    page.press("#newpassword", "Enter")

    # And the review queue opens with their email and role; the tokens are in this tab's storage only
    expect(page.locator("#view-queue")).to_be_visible()
    expect(page.locator("#who")).to_have_text(f"{email} · staff")
    tokens_stay_out_of_the_url_and_the_page(page)


def test_a_wrong_password_is_explained_next_to_the_field(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL, "Not-The-Passw0rd-1")
    expect(page.locator("#signin-password-error")).to_have_text("The email or password is not right.")
    expect(page.locator("#signin-password")).to_be_focused()
    expect(page.locator("#view-queue")).to_be_hidden()
    accessible(page, "sign-in-error")


def test_a_forgotten_password_is_reset_with_the_emailed_code(stack: StackProcess, page: Page) -> None:
    email = new_staff_user(stack)
    idp, pool_id, _ = pool(stack)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password="Forgotten-Passw0rd-1", Permanent=True)
    page.goto(f"{stack.base_url}/admin")
    page.fill("#signin-email", email)
    page.click("#forgot-start")
    expect(page.locator("#forgot-email")).to_have_value(email)
    page.click("#forgot-form button[type=submit]")
    expect(page.locator("#reset-form")).to_be_visible()
    code = emailed_code(stack, email, count=1)

    # A wrong code is refused next to the code field; the right one sets the password
    page.fill("#reset-code", "000000" if code != "000000" else "111111")
    page.fill("#reset-password", "Remembered-Passw0rd-2")
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#reset-code-error")).not_to_be_empty()
    accessible(page, "reset-password")
    page.click("#forgot-form button[type=submit]")  # a new code
    code = emailed_code(stack, email, count=2)
    page.fill("#reset-code", code)
    page.click("#reset-form button[type=submit]")
    expect(page.locator("#status")).to_have_text("Your password is changed. Sign in with it now.")
    page.fill("#signin-password", "Remembered-Passw0rd-2")
    page.press("#signin-password", "Enter")
    expect(page.locator("#view-queue")).to_be_visible()


def test_two_step_sign_in_is_set_up_and_then_asked_for(stack: StackProcess, page: Page) -> None:
    email = new_staff_user(stack)
    idp, pool_id, _ = pool(stack)
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password="Two-Step-Passw0rd-1", Permanent=True)
    sign_in(page, stack, email, "Two-Step-Passw0rd-1")
    expect(page.locator("#view-queue")).to_be_visible()
    page.click("#mfa-start")
    expect(page.locator("#mfa-secret")).not_to_be_empty()
    accessible(page, "two-step-setup")
    page.fill("#mfasetup-code", "123456")  # moto accepts any code; AWS checks it against the key
    page.press("#mfasetup-code", "Enter")
    expect(page.locator("#status")).to_contain_text("Two-step sign-in is on")
    page.click("#signout")
    expect(page.locator("#view-signin")).to_be_visible()
    page.fill("#signin-email", email)
    page.fill("#signin-password", "Two-Step-Passw0rd-1")
    page.press("#signin-password", "Enter")
    expect(page.locator("#view-mfa")).to_be_visible()
    accessible(page, "two-step-code")
    page.fill("#mfa-code", "12")
    page.press("#mfa-code", "Enter")
    expect(page.locator("#mfa-code-error")).to_have_text("Enter the 6 digits your app shows.")
    page.fill("#mfa-code", "654321")
    page.press("#mfa-code", "Enter")
    expect(page.locator("#view-queue")).to_be_visible()


def test_sign_out_revokes_the_refresh_token(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    refresh = json.loads(page.evaluate("sessionStorage.getItem('staffSession')"))["refresh"]
    page.click("#signout")
    expect(page.locator("#status")).to_have_text("You are signed out.")
    assert page.evaluate("sessionStorage.getItem('staffSession')") is None
    _, _, client_id = pool(stack)

    def renewed() -> Any:
        return stack.request("POST", "/_local/cognito-idp", body=json.dumps({
            "AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client_id, "AuthParameters": {"REFRESH_TOKEN": refresh}}),
            headers={"content-type": "application/x-amz-json-1.1",
                     "x-amz-target": "AWSCognitoIdentityProviderService.InitiateAuth"})

    # The page forgets the tokens first, then revokes the refresh token (GlobalSignOut) in the background
    deadline = time.monotonic() + 10
    while (again := renewed()).status == 200 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert again.status == 400 and again.json()["__type"] == "NotAuthorizedException"


def test_idle_time_out_signs_out(stack: StackProcess, page: Page) -> None:
    page.clock.install()
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    page.clock.fast_forward("16:00")  # the template's STAFF_IDLE_MINUTES is 15
    expect(page.locator("#view-signin")).to_be_visible()
    expect(page.locator("#status")).to_have_text("You were signed out after 15 minutes without activity.")
    assert page.evaluate("sessionStorage.getItem('staffSession')") is None


def test_an_expired_id_token_is_renewed_with_the_refresh_token(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    before = json.loads(page.evaluate("sessionStorage.getItem('staffSession')"))
    # The ID token is replaced by one the API refuses (401): the page renews it and retries, no new sign-in
    page.evaluate("""() => { const s = JSON.parse(sessionStorage.getItem('staffSession'));
                             s.id = 'expired.token.value';
                             sessionStorage.setItem('staffSession', JSON.stringify(s)); }""")
    page.reload()
    expect(page.locator("#view-queue")).to_be_visible()
    expect(page.locator("#status")).to_contain_text("shown")
    after = json.loads(page.evaluate("sessionStorage.getItem('staffSession')"))
    assert after["id"] not in ("expired.token.value", before["id"]) and after["refresh"] == before["refresh"]


# ------------------------------------------------------------------ review queue and evidence


def test_queue_evidence_and_a_decision_by_keyboard_with_the_stale_version_answer(stack: StackProcess,
                                                                                  page: Page) -> None:
    # Given a referral the checks flagged for review
    lead_id = flagged_referral(stack)
    sign_in(page, stack, STAFF_EMAIL)

    # When staff filter the open queue by the flag type, the referral is listed by its masked name
    expect(page.locator("#view-queue")).to_be_visible()
    page.select_option("#queue-flag", "duplicate_contact")
    page.click("#queue-filters button[type=submit]")
    row = page.locator(f"#queue-list li[data-referral-id='{lead_id}']")
    expect(row).to_be_visible()
    expect(row).to_contain_text("Sa L.")
    expect(row).to_contain_text("Duplicate contact")
    # a date range is part of the query: today keeps it, a range that ended yesterday does not
    today = datetime.now(UTC).date()
    page.fill("#queue-from", today.isoformat())
    page.click("#queue-filters button[type=submit]")
    expect(row).to_be_visible()
    accessible(page, "queue")
    page.fill("#queue-from", "")
    page.fill("#queue-to", (today - timedelta(days=1)).isoformat())
    page.click("#queue-filters button[type=submit]")
    expect(page.locator(f"#queue-list li[data-referral-id='{lead_id}']")).to_have_count(0)
    page.fill("#queue-to", "")
    page.click("#queue-filters button[type=submit]")

    # And they open it with the keyboard: the evidence card, not JSON
    row.locator("button").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#view-referral")).to_be_visible()
    expect(page.locator("#referral-title")).to_have_text("Referral of Sa L.")
    body = page.locator("#referral-body")
    expect(body).to_contain_text("Where it came from")
    expect(body).to_contain_text("Another lead or referrer has the same email or phone number")
    expect(body).to_contain_text("No job linked yet.")
    assert "{" not in body.inner_text()
    accessible(page, "evidence")

    # When someone else decides first, this page's version is stale: it says so and offers a reload
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    first = stack.request("POST", f"/admin/referrals/{lead_id}/decisions", headers=staff,
                          body={"decision": "question", "note": "Called the customer", "expected_version": 0})
    assert first.status == 200, first.body
    page.focus("#decide-note")
    page.keyboard.press("Enter")  # an empty note is refused next to it (Enter in a textarea is a new line)
    page.locator("#decide-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#decide-note-error")).to_have_text("Write why: every decision needs a note.")
    page.fill("#decide-note", "Same person twice, one referral")
    page.locator("#decide-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#decide-conflict")).to_be_visible()
    expect(page.locator("#decide-conflict")).to_have_text("Someone else changed this — reload and decide again.")
    accessible(page, "evidence-conflict")

    # Then after the reload the other decision is in the history, and this one is recorded
    page.click("#decide-reload")
    expect(page.locator("#referral-body")).to_contain_text("Called the customer")
    page.fill("#decide-note", "Same person twice, one referral")
    page.locator("#decide-form button[type=submit]").focus()
    page.keyboard.press("Enter")
    expect(page.locator("#status")).to_have_text("Decision recorded: accept.")
    expect(page.locator("#referral-body")).to_contain_text("Same person twice, one referral")
    expect(page.locator("#referral-body")).to_contain_text("Review")


def test_a_viewer_reads_the_evidence_but_cannot_decide(stack: StackProcess, page: Page) -> None:
    lead_id = flagged_referral(stack)
    sign_in(page, stack, VIEWER_EMAIL)
    expect(page.locator("#who")).to_have_text(f"{VIEWER_EMAIL} · viewer")
    expect(page.locator("#view-queue")).to_be_visible()
    page.fill("#queue-id", lead_id)
    page.press("#queue-id", "Enter")
    expect(page.locator("#referral-title")).to_have_text("Referral of Sa L.")
    expect(page.locator("#decide-form")).to_be_hidden()
    # The API refuses it whatever the page shows
    status = page.evaluate("""async (id) => {
        const s = JSON.parse(sessionStorage.getItem('staffSession'));
        const r = await fetch('/admin/referrals/' + id + '/decisions', {method: 'POST',
            headers: {'Authorization': 'Bearer ' + s.id, 'Content-Type': 'application/json'},
            body: JSON.stringify({decision: 'accept', note: 'x', expected_version: 0})});
        return r.status; }""", lead_id)
    assert status == 403


# ------------------------------------------------------------------ referrers and withdrawals


def referrer_with_withdrawals(stack: StackProcess, name: str, amounts: list[int]) -> dict:
    """A referrer (created by staff) with 100.00 available who asks for ``amounts`` from the dashboard."""
    from referral_core.dal.dynamo import serialize

    email = f"wd-{uuid.uuid4().hex[:8]}@example.com"
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
    for amount in amounts:
        asked = stack.request("POST", "/me/withdrawals", body={"amount_cents": amount},
                              headers={"authorization": f"Bearer {session}"})
        assert asked.status == 201, asked.body
    return dict(referrer)


def test_referrers_are_searched_and_a_referrer_page_shows_codes_balance_and_withdrawals(stack: StackProcess,
                                                                                         page: Page) -> None:
    surname = f"Zed{uuid.uuid4().hex[:6]}"
    referrer = referrer_with_withdrawals(stack, f"Quinn {surname}", [2_500])
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    page.click("#tabs a[href='#referrers']")
    expect(page.locator("#view-referrers")).to_be_visible()
    page.fill("#referrers-q", f"quinn {surname.lower()}")
    page.press("#referrers-q", "Enter")
    row = page.locator(f"#referrers-list li[data-referrer-id='{referrer['referrer_id']}']")
    expect(row).to_contain_text(f"Quinn {surname}")
    expect(row).to_contain_text("active")
    expect(page.locator("#referrers-list li[data-referrer-id]")).to_have_count(1)
    accessible(page, "referrers")

    row.locator("button").click()
    expect(page.locator("#view-referrer")).to_be_visible()
    expect(page.locator("#referrer-title")).to_have_text(f"Quinn {surname}")
    body = page.locator("#referrer-body")
    expect(body).to_contain_text(referrer["code"])
    expect(body).to_contain_text("75.00")  # available after asking for 25.00 of 100.00
    expect(body).to_contain_text("requested")
    expect(page.locator("#tabs a[aria-current=page]")).to_have_text("Referrers")
    accessible(page, "referrer")

    # A manual adjustment: a correction larger than the available balance is refused next to the amount
    page.fill("#adjust-amount", "-80.00")
    page.fill("#adjust-reason", "Duplicate reward")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator("#adjust-amount-error")).to_have_text("more than the available balance")
    page.fill("#adjust-amount", "10.00")
    page.fill("#adjust-reason", "")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator("#adjust-reason-error")).to_have_text("Say why: it is kept with the entry.")
    page.fill("#adjust-reason", "Thank-you bonus")
    page.click("#adjust-form button[type=submit]")
    expect(page.locator("#status")).to_contain_text("available balance now")
    expect(page.locator("#status")).to_contain_text("85.00")
    expect(page.locator("#referrer-body")).to_contain_text("adjustment")

    # Suspend them (a note is required, next to its field), then reactivate them
    page.click("#status-submit")
    expect(page.locator("#status-note-error")).to_have_text("Say why: it is kept in the audit trail.")
    page.fill("#status-note", "Asked us to pause their codes")
    page.click("#status-submit")
    expect(page.locator("#status")).to_contain_text("Suspended: 1 share code(s) updated.")
    expect(page.locator("#referrer-body")).to_contain_text("suspended")
    expect(page.locator("#status-submit")).to_have_text("Reactivate")
    page.fill("#status-note", "Back from holiday")
    page.click("#status-submit")
    expect(page.locator("#status")).to_contain_text("Reactivated")
    expect(page.locator("#status-submit")).to_have_text("Suspend")

    # Their type (the programme's rules.by_type): a note is required; the details show it
    expect(page.locator("#referrer-body")).to_contain_text("none (the general rules)")
    page.select_option("#type-select", "local_partner")
    page.click("#referrer-type button[type=submit]")
    expect(page.locator("#type-note-error")).to_have_text("Say why: it is kept in the audit trail.")
    page.fill("#type-note", "Runs the cafe next door")
    page.click("#referrer-type button[type=submit]")
    expect(page.locator("#status")).to_have_text("Type set: local partner.")
    expect(page.locator("#referrer-body")).to_contain_text("local partner")
    expect(page.locator("#type-select")).to_have_value("local_partner")


def test_a_withdrawal_shows_where_to_pay_it_masked_and_staff_reveal_the_details(stack: StackProcess,
                                                                                  page: Page) -> None:
    # Given a referrer who added a bank account on the dashboard, then asked for a withdrawal
    from referral_core.dal.dynamo import serialize

    email = f"pay-{uuid.uuid4().hex[:8]}@example.com"
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    referrer = stack.request("POST", "/admin/referrers", headers=staff,
                             body={"name": "Robin Payne", "email": email}).json()
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
        "type": "bank_account", "bsb": "062-000", "account_number": "40912876",
        "account_name": "Robin Payne"}).status == 200
    assert stack.request("POST", "/me/withdrawals", body={"amount_cents": 4_200}, headers=bearer).status == 201

    # When staff open the withdrawals, the row says where to pay it, masked
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    page.click("#tabs a[href='#withdrawals']")
    rows = page.locator("#withdrawals-list li[data-withdrawal-id]")
    row = rows.filter(has_text=f"Referrer {referrer['referrer_id']}")
    expect(row.locator(".payout")).to_have_text("Pay to: Bank account ending 876 (Ro P.)")
    assert "40912876" not in page.content()

    # Then revealing shows the details in the row (and it is audited)
    row.get_by_role("button", name="Show the payout details").click()
    expect(row.locator(".payout-details")).to_contain_text("062-000")
    expect(row.locator(".payout-details")).to_contain_text("40912876")
    expect(page.locator("#status")).to_contain_text("recorded in the audit trail")


def test_withdrawals_are_recorded_paid_with_a_reference_or_rejected_with_a_reason(stack: StackProcess,
                                                                                 page: Page) -> None:
    referrer = referrer_with_withdrawals(stack, "Pat Payee", [3_000, 2_000])
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    page.click("#tabs a[href='#withdrawals']")
    theirs = f"Referrer {referrer['referrer_id']}"
    rows = page.locator("#withdrawals-list li[data-withdrawal-id]").filter(has_text=theirs)
    expect(rows).to_have_count(2)
    accessible(page, "withdrawals")

    # Record the first as paid: a reference is required, next to its field
    first = rows.filter(has_text="30.00")
    first.get_by_role("button", name="Record as paid").click()
    expect(first.locator(".field-error").first).to_have_text("Enter the reference of the payment you made.")
    first.get_by_label("Payout reference (bank transfer id, receipt…)").fill("EFT-20261207-01")
    first.get_by_role("button", name="Record as paid").click()
    expect(page.locator("#status")).to_contain_text("Recorded as paid")
    expect(rows).to_have_count(1)

    # Reject the other with a reason
    second = rows.filter(has_text="20.00")
    second.get_by_label("Reason for rejecting (the referrer sees it)").fill("Bank details did not match")
    second.get_by_role("button", name="Reject").click()
    expect(page.locator("#status")).to_contain_text("Withdrawal rejected")
    expect(rows).to_have_count(0)

    # The paid list shows the reference
    page.select_option("#withdrawals-status", "paid")
    page.click("#withdrawals-filter button[type=submit]")
    paid = page.locator("#withdrawals-list li[data-withdrawal-id]").filter(has_text=theirs)
    expect(paid).to_contain_text("EFT-20261207-01")


def test_a_withdrawal_on_hold_shows_why_and_is_paid_anyway_only_with_a_note(stack: StackProcess,
                                                                             page: Page) -> None:
    from referral_core.dal.dynamo import serialize

    # Given a withdrawal that a refund's clawback put on hold (written as WithdrawalRepository.hold does)
    referrer = referrer_with_withdrawals(stack, "Hal Held", [4_000])
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    requested = stack.request("GET", "/admin/withdrawals?status=requested&limit=100", headers=staff)
    (withdrawal,) = [w for w in requested.json()["items"] if w["referrer_id"] == referrer["referrer_id"]]
    stack.aws("dynamodb").update_item(
        TableName=stack.info()["tables"]["Table"],
        Key=serialize({"pk": f"WITHDRAWAL#{withdrawal['withdrawal_id']}", "sk": "WITHDRAWAL"}),
        UpdateExpression="SET #status = :s, gsi1pk = :q, held_at = :at, hold_reason = :r, hold_cents = :c, "
                         "hold_jobs = :j",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=serialize({":s": "on_hold", ":q": "WITHDRAWALS#on_hold",
                                             ":at": "2026-12-07T01:00:00Z", ":r": "reward_clawed_back",
                                             ":c": 2_500, ":j": ["J-HELD-1"]}))

    # When staff list the withdrawals on hold
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    page.click("#tabs a[href='#withdrawals']")
    expect(page.locator("#view-withdrawals")).to_be_visible()
    page.select_option("#withdrawals-status", "on_hold")
    page.click("#withdrawals-filter button[type=submit]")
    row = page.locator(f"#withdrawals-list li[data-withdrawal-id='{withdrawal['withdrawal_id']}']")

    # Then it says why it is held, and which job
    expect(row).to_contain_text("a refunded job's reward was clawed back")
    expect(row).to_contain_text("J-HELD-1")
    expect(row).to_contain_text("25.00")
    accessible(page, "withdrawals-on-hold")

    # And paying it anyway needs a note, next to the note's field; with one it is paid over the hold
    row.get_by_label("Payout reference (bank transfer id, receipt…)").fill("EFT-HELD-01")
    row.get_by_role("button", name="Pay anyway").click()
    expect(row.locator(".field-error").nth(1)).to_have_text(
        "Say why you pay it despite the hold: it is kept in the audit trail.")
    row.get_by_label("Note (required: why pay it despite the hold)").fill("Transfer left before the refund")
    row.get_by_role("button", name="Pay anyway").click()
    expect(page.locator("#status")).to_contain_text("Recorded as paid")
    paid = stack.request("GET", "/admin/withdrawals?status=paid&limit=100", headers=staff)
    (done,) = [w for w in paid.json()["items"] if w["withdrawal_id"] == withdrawal["withdrawal_id"]]
    assert (done["override_hold"], done["note"], done["payout_reference"]) == (
        True, "Transfer left before the refund", "EFT-HELD-01")


# ------------------------------------------------------------------ the other staff tasks

ADMIN_EMAIL = "admin@example.com"


def open_tab(page: Page, name: str) -> None:
    page.click(f"#tabs a[href='#{name}']")
    expect(page.locator(f"#view-{name}")).to_be_visible()


def test_a_referrer_is_added_and_given_a_share_code_with_its_qr(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "referrers")
    email = f"new-ref-{uuid.uuid4().hex[:8]}@example.com"
    page.get_by_text("Add a referrer", exact=True).click()  # a collapsed <details> above the list
    page.fill("#add-name", "Robin Added")
    page.click("#referrer-add button[type=submit]")
    expect(page.locator("#add-email-error")).to_have_text("Enter their email address: the welcome email goes there.")
    page.fill("#add-email", "not-an-email")
    page.click("#referrer-add button[type=submit]")
    expect(page.locator("#add-email-error")).not_to_be_empty()  # the API's 422 names the field
    page.fill("#add-email", email)
    page.click("#referrer-add button[type=submit]")
    expect(page.locator("#view-referrer")).to_be_visible()
    expect(page.locator("#referrer-title")).to_have_text("Robin Added")
    expect(page.locator("#status")).to_contain_text("welcome email is on its way")
    stack.drain()
    assert [m for m in stack.outbox() if email in m["to"]], "no welcome email"

    # A van code for two postcodes, limited to 50 uses; its QR downloads; it can be disabled
    page.select_option("#code-placement", "van")
    page.fill("#code-custom", "x")
    page.click("#code-add button[type=submit]")
    expect(page.locator("#code-custom-error")).to_have_text("4 to 20 letters, digits or “-”.")
    custom = f"VAN-{uuid.uuid4().hex[:6].upper()}"
    page.fill("#code-custom", custom)
    page.fill("#code-zones", "2000, 2010")
    page.fill("#code-max", "50")
    page.click("#code-add button[type=submit]")
    expect(page.locator("#status")).to_contain_text(f"Code {custom} created")
    row = page.locator("#referrer-body tr").filter(has_text=custom)
    expect(row).to_contain_text("0 of 50")
    accessible(page, "referrer-codes")
    with page.expect_download() as download:
        row.get_by_role("button", name=f"Download the QR code of {custom}").click()
    assert download.value.suggested_filename == f"{custom}.svg"
    assert "<svg" in Path(download.value.path()).read_text()
    row.get_by_role("button", name=f"Disable {custom}").click()
    expect(page.locator("#status")).to_have_text(f"{custom} is disabled.")
    expect(page.locator("#referrer-body tr").filter(has_text=custom)).to_contain_text("disabled")


def test_a_dispute_is_recorded_and_resolved_once(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "disputes")
    subject = f"Reward missing for a referral {uuid.uuid4().hex[:6]}"
    page.get_by_text("Record a dispute", exact=True).click()
    page.fill("#dispute-subject", subject)
    page.click("#dispute-open button[type=submit]")
    expect(page.locator("#dispute-note-error")).to_have_text("Write what the person said.")
    page.fill("#dispute-note", "The referrer says their friend booked in March")
    page.click("#dispute-open button[type=submit]")  # neither a referral nor a referrer: the API says which
    expect(page.locator("#dispute-open .field-error:not(:empty)")).to_have_count(1)
    page.fill("#dispute-referrer", "NO-SUCH-REFERRER")
    page.click("#dispute-open button[type=submit]")
    expect(page.locator("#dispute-referrer-error")).not_to_be_empty()
    referrer = stack.request("POST", "/admin/referrers", headers={"authorization": f"Bearer {stack.staff_token}"},
                             body={"name": "Dee Spute", "email": f"dee-{uuid.uuid4().hex[:8]}@example.com"}).json()
    page.fill("#dispute-referrer", referrer["referrer_id"])
    page.click("#dispute-open button[type=submit]")
    expect(page.locator("#status")).to_have_text("Dispute recorded.")
    row = page.locator("#disputes-list li[data-dispute-id]").filter(has_text=subject)
    expect(row).to_contain_text("booked in March")
    accessible(page, "disputes")
    row.get_by_label("Outcome").select_option("not_upheld")
    row.get_by_role("button", name="Resolve").click()
    expect(row.locator(".field-error")).to_have_text("Write how it was resolved.")
    row.get_by_label("Note (why)").fill("The booking came through the website, no code")
    row.get_by_role("button", name="Resolve").click()
    expect(page.locator("#status")).to_have_text("Dispute resolved: Not upheld.")
    page.select_option("#disputes-status", "resolved")
    page.click("#disputes-filter button[type=submit]")
    expect(page.locator("#disputes-list li[data-dispute-id]").filter(has_text=subject)).to_contain_text("not upheld")


def test_programme_rules_are_changed_by_an_admin_after_a_plain_summary(stack: StackProcess, page: Page) -> None:
    # A staff member sees the rules but cannot change them
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "program")
    expect(page.locator("#program-version")).not_to_be_empty(timeout=15_000)  # a cold start on a busy machine
    expect(page.locator("#program-holding")).to_be_disabled()
    expect(page.locator("#program-check")).to_be_hidden()
    page.click("#signout")
    expect(page.locator("#view-signin")).to_be_visible()

    sign_in(page, stack, ADMIN_EMAIL)
    expect(page.locator("#who")).to_have_text(f"{ADMIN_EMAIL} · admin")
    open_tab(page, "program")
    expect(page.locator("#program-version")).not_to_be_empty()
    before = int(page.input_value("#program-holding"))
    page.fill("#program-holding", "400")
    page.click("#program-check")
    expect(page.locator("#program-holding-error")).to_have_text("Days from 0 to 365.")
    after = 21 if before != 21 else 14
    page.fill("#program-holding", str(after))
    page.locator(".tier input[name=reward]").first.fill("30.00")
    # a local partner business earns its own amount in the first tier (rules.by_type, issue 19 item 3)
    page.fill("#bytype-local_partner-0", "80.00")
    # the minimum age for applying without a guardian's consent (docs/applications.md)
    age_before = page.input_value("#program-minage")
    page.fill("#program-minage", "30")
    page.click("#program-check")
    expect(page.locator("#program-minage-error")).to_have_text("An age from 13 to 25.")
    age_after = "16" if age_before != "16" else "17"
    page.fill("#program-minage", age_after)
    page.click("#program-check")
    summary = page.locator("#program-summary")
    expect(summary).to_contain_text(f"Holding period: {before} days → {after} days")
    expect(summary).to_contain_text("30.00")
    expect(summary).to_contain_text("Rewards by referrer type: the general tiers → Local partner business:")
    expect(summary).to_contain_text("80.00")
    expect(summary).to_contain_text(f"Minimum age without a guardian's consent: {age_before} → {age_after}")
    accessible(page, "program")

    # Someone else saves first: this page's version is stale
    rules = stack.request("GET", "/admin/program", headers={"authorization": f"Bearer {stack.admin_token}"}).json()
    saved = stack.request("PUT", "/admin/program", headers={"authorization": f"Bearer {stack.admin_token}"},
                          body={**rules["rules"], "expected_version": rules["version"]})
    assert saved.status == 200, saved.body
    page.click("#program-save")
    expect(page.locator("#program-conflict")).to_be_visible()
    page.click("#program-reload")
    expect(page.locator("#program-conflict")).to_be_hidden()  # the form is filled with the saved rules again
    expect(page.locator("#program-version")).to_contain_text(f"Version {rules['version'] + 1},")
    page.fill("#program-holding", str(after))
    page.click("#program-check")
    page.click("#program-save")
    expect(page.locator("#status")).to_have_text(f"Rules saved: version {rules['version'] + 2}.")
    expect(page.locator("#program-holding")).to_have_value(str(after))
    newest = page.locator("#program-versions li").first
    expect(newest).to_have_attribute("data-version", str(rules["version"] + 2))
    expect(newest).to_contain_text(f"holding {after} days")
    expect(newest).to_contain_text(f"by staff:{ADMIN_EMAIL}")
    # leave the journey's assumptions alone: back to the rules as they were
    restore = stack.request("PUT", "/admin/program", headers={"authorization": f"Bearer {stack.admin_token}"},
                            body={**rules["rules"], "expected_version": rules["version"] + 2})
    assert restore.status == 200, restore.body


def test_reports_draw_the_funnel_and_download_a_csv(stack: StackProcess, page: Page) -> None:
    flagged_referral(stack)  # some clicks and leads to count
    sign_in(page, stack, VIEWER_EMAIL)  # a viewer may read reports and exports
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "reports")
    chart = page.locator("#funnel-chart svg[role=img]")
    expect(chart).to_be_visible()
    expect(chart.locator("desc")).to_contain_text("Leads:")
    expect(page.locator("#funnel-chart table")).to_be_visible()
    accessible(page, "reports")
    with page.expect_download() as download:
        page.click("#exports-form button[type=submit]")
    assert download.value.suggested_filename.startswith("referrals-")
    assert Path(download.value.path()).read_text().startswith("referral_id,")


def test_privacy_export_and_erasure_with_a_confirmation(stack: StackProcess, page: Page) -> None:
    email = f"gone-{uuid.uuid4().hex[:8]}@example.com"
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    created = stack.request("POST", "/admin/referrers", headers=staff, body={"name": "Gone Person", "email": email})
    assert created.status == 201
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "privacy")
    expect(page.locator("#privacy-erase")).to_be_hidden()  # erasure is an admin's
    page.click("#privacy-form button[type=submit]")
    expect(page.locator("#privacy-email-error")).to_have_text("Give an email or a phone number.")
    page.fill("#privacy-email", email)
    with page.expect_download() as download:
        page.click("#privacy-form button[type=submit]")
    assert email in Path(download.value.path()).read_text()
    expect(page.locator("#privacy-result")).to_contain_text("Referrers")
    page.click("#signout")
    expect(page.locator("#view-signin")).to_be_visible()

    sign_in(page, stack, ADMIN_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "privacy")
    page.fill("#privacy-email", email)
    page.click("#privacy-erase")
    expect(page.locator("#privacy-note-error")).to_contain_text("reference")
    page.fill("#privacy-note", "Request #77 by email")
    page.click("#privacy-erase")
    expect(page.locator("#privacy-confirm")).to_be_visible()
    accessible(page, "privacy-confirm")
    page.fill("#privacy-confirm-text", "erase")
    page.click("#privacy-confirm button[type=submit]")
    expect(page.locator("#privacy-confirm-text-error")).to_have_text("Type ERASE in capitals to confirm.")
    page.fill("#privacy-confirm-text", "ERASE")
    page.click("#privacy-confirm button[type=submit]")
    expect(page.locator("#status")).to_have_text("The person is erased.")
    expect(page.locator("#privacy-result")).to_contain_text("Items changed")
    found = stack.request("GET", f"/admin/referrers?q={email}", headers=staff).json()
    assert found["items"] == []


def test_an_admin_invites_staff_changes_their_role_and_disables_them(stack: StackProcess, page: Page) -> None:
    sign_in(page, stack, STAFF_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    expect(page.locator("#tabs a[href='#staff']")).to_be_hidden()  # staff management is an admin's
    page.click("#signout")
    expect(page.locator("#view-signin")).to_be_visible()

    sign_in(page, stack, ADMIN_EMAIL)
    expect(page.locator("#view-queue")).to_be_visible()
    open_tab(page, "staff")
    mine = page.locator("#staff-list li").filter(has_text=ADMIN_EMAIL)
    expect(mine.get_by_role("button", name=f"Disable {ADMIN_EMAIL}")).to_be_disabled()  # not yourself
    email = f"tech-{uuid.uuid4().hex[:8]}@example.com"
    page.fill("#invite-email", email)
    page.click("#staff-invite button[type=submit]")
    expect(page.locator("#status")).to_contain_text(f"{email} is invited")
    row = page.locator("#staff-list li").filter(has_text=email)
    expect(row).to_contain_text("invited")
    accessible(page, "staff")
    page.fill("#invite-email", email)
    page.click("#staff-invite button[type=submit]")
    expect(page.locator("#invite-email-error")).to_have_text("already a staff member")

    row.get_by_label("Role").select_option("viewer")
    expect(page.locator("#status")).to_have_text(f"{email} is now viewer.")
    row.get_by_role("button", name=f"Disable {email}").click()
    expect(page.locator("#status")).to_have_text(f"{email} is disabled and signed out everywhere.")
    expect(page.locator("#staff-list li").filter(has_text=email)).to_contain_text("disabled")
    idp, pool_id, _ = pool(stack)
    user = idp.admin_get_user(UserPoolId=pool_id, Username=email)
    groups = idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=email)["Groups"]
    assert (user["Enabled"], [g["GroupName"] for g in groups]) == (False, ["viewer"])


def test_the_console_works_by_keyboard_alone(stack: StackProcess, page: Page) -> None:
    created = stack.request("POST", "/admin/referrers", headers={"authorization": f"Bearer {stack.staff_token}"},
                            body={"name": "Jo Keys", "email": f"keys-{uuid.uuid4().hex[:8]}@example.com"})
    assert created.status == 201
    page.goto(f"{stack.base_url}/admin")
    expect(page.locator("#view-signin")).to_be_visible()

    def tab_to(selector: str, limit: int = 40) -> None:
        for _ in range(limit):
            page.keyboard.press("Tab")
            if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
                return
        raise AssertionError(f"Tab never reached {selector}")

    # Sign in: Tab to the fields, type, Enter
    tab_to("#signin-email")
    page.keyboard.type(STAFF_EMAIL)
    page.keyboard.press("Tab")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    expect(page.locator("#view-queue")).to_be_visible()

    # Move to the referrers with the tab bar: focus lands on the new screen's title
    tab_to("#tabs a[href='#referrers']")
    page.keyboard.press("Enter")
    expect(page.locator("#view-referrers")).to_be_visible()
    expect(page.locator("#referrers-title")).to_be_focused()
    tab_to("#referrers-q")
    page.keyboard.type("jo")
    page.keyboard.press("Enter")
    first = page.locator("#referrers-list li[data-referrer-id] button").first
    expect(first).to_be_visible()
    tab_to("#referrers-list li[data-referrer-id] button")
    page.keyboard.press("Enter")
    expect(page.locator("#view-referrer")).to_be_visible()
    expect(page.locator("#referrer-title")).to_be_focused()

    # Back (the browser's back key) returns to the list; sign out by keyboard
    page.go_back()
    expect(page.locator("#view-referrers")).to_be_visible()
    tab_to("#signout")
    page.keyboard.press("Enter")
    expect(page.locator("#view-signin")).to_be_visible()


def test_an_admin_adds_a_webhook_sees_its_secret_once_and_its_deliveries(stack: StackProcess, page: Page) -> None:
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
    from threading import Thread

    received: list[dict[str, Any]] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            received.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/crm"
    try:
        sign_in(page, stack, ADMIN_EMAIL)
        expect(page.locator("#view-queue")).to_be_visible()
        open_tab(page, "webhooks")
        page.fill("#webhook-url", url)
        page.click("#webhook-add button[type=submit]")
        expect(page.locator("#webhook-events-error")).to_have_text("Choose at least one event.")
        page.get_by_label("A lead is received (lead.received)").check()
        page.fill("#webhook-description", "Our CRM")
        page.click("#webhook-add button[type=submit]")
        expect(page.locator("#status")).not_to_have_text("Loading the webhooks…", timeout=15_000)
        expect(page.locator("#webhooks-secret code")).to_contain_text("whsec_", timeout=15_000)
        row = page.locator("#webhooks-list li[data-webhook-id]").filter(has_text=url)
        expect(row).to_contain_text("A lead is received")

        # A customer asks for help: the receiver hears of it, and the console lists the delivery
        version = stack.request("GET", "/policy").json()["version"]
        created = stack.request("POST", "/leads", headers={"idempotency-key": uuid.uuid4().hex}, body={
            "name": "Sam Lee", "email": f"sam-{uuid.uuid4().hex[:8]}@example.com", "postcode": "3000",
            "issue": "Printer jams", "consent": {"contact": True, "policy_version": version}})
        assert created.status == 201, created.body
        stack.drain()
        deadline = time.monotonic() + 15
        while not received and time.monotonic() < deadline:
            time.sleep(0.2)
        assert [r["type"] for r in received] == ["lead.received"]
        row.get_by_role("button", name=f"Deliveries to {url}").click()
        expect(row.locator("li[data-delivery-id]")).to_contain_text("delivered")
        accessible(page, "webhooks")

        # Rotating shows the new secret once; a reload shows none
        row.get_by_role("button", name=f"Rotate the secret of {url}").click()
        expect(page.locator("#webhooks-secret")).to_contain_text("The old one keeps signing until")
        page.reload()
        expect(page.locator("#view-webhooks")).to_be_visible()
        expect(page.locator("#webhooks-secret")).to_be_hidden()
    finally:
        server.shutdown()
        server.server_close()
