"""The referrer portal on the real local stack over HTTP: magic link by email, session, /me, stage emails."""

from __future__ import annotations

import re
import uuid

import pytest

from local.testing import StackProcess

pytestmark = pytest.mark.e2e


def new_referrer(stack: StackProcess) -> tuple[str, dict]:
    email = f"portal-{uuid.uuid4().hex[:8]}@example.com"
    created = stack.request("POST", "/admin/referrers", body={"name": "Pat Portal", "email": email},
                            headers={"authorization": f"Bearer {stack.staff_token}"})
    assert created.status == 201, created.body
    return email, created.json()


def sign_in_link(stack: StackProcess, email: str) -> str:
    """The newest sign-in link in the local outbox for ``email``."""
    mails = [m for m in stack.outbox() if email in m["to"] and m["subject"] == "Your sign-in link"]
    assert mails, f"no sign-in email for {email}"
    match = re.search(r"(/dashboard#token=[\w-]+)", mails[-1]["html"] or mails[-1]["text"])
    assert match
    return match.group(1)


def test_magic_link_session_and_me_over_http(stack: StackProcess) -> None:
    email, referrer = new_referrer(stack)

    asked = stack.request("POST", "/auth/magic-link", body={"email": email})
    unknown = stack.request("POST", "/auth/magic-link", body={"email": f"x-{email}"})
    assert asked.status == unknown.status == 202
    assert asked.body == unknown.body

    link = sign_in_link(stack, email)
    assert link.startswith("/dashboard#token=")
    page = stack.request("GET", link.split("#", 1)[0])  # a browser never sends the fragment
    assert page.status == 200 and page.headers["content-type"].startswith("text/html")
    token = link.split("token=", 1)[1]
    session = stack.request("POST", "/auth/session", body={"token": token})
    assert session.status == 200, session.body
    assert stack.request("POST", "/auth/session", body={"token": token}).status == 401

    bearer = {"authorization": f"Bearer {session.json()['session_token']}"}
    me = stack.request("GET", "/me", headers=bearer)
    assert me.status == 200, me.body
    assert me.json()["referrer"]["personal_code"] == referrer["code"]
    assert stack.request("GET", "/me").status == 401


def test_payout_details_are_encrypted_with_the_stacks_kms_key_and_revealed_only_to_staff(stack: StackProcess) -> None:
    # Given a signed-in referrer (the local stack made the template's PayoutKey on moto's KMS)
    email, referrer = new_referrer(stack)
    assert stack.request("POST", "/auth/magic-link", body={"email": email}).status == 202
    token = sign_in_link(stack, email).split("token=", 1)[1]
    session = stack.request("POST", "/auth/session", body={"token": token}).json()["session_token"]
    bearer = {"authorization": f"Bearer {session}"}

    # When they add a bank account (the portal's role may only GenerateDataKey) and ask for a withdrawal
    saved = stack.request("PUT", "/me/payout-method", headers=bearer, body={
        "type": "bank_account", "bsb": "062-000", "account_number": "40912876", "account_name": "Pat Portal"})
    assert saved.status == 200, saved.body
    assert saved.json()["display"].startswith("Bank account ending 876")
    assert any(m["subject"] == "Your payout details changed" and email in m["to"] for m in stack.outbox())
    stack.aws("dynamodb").update_item(
        TableName=stack.info()["tables"]["Table"], Key={"pk": {"S": f"REFERRER#{referrer['referrer_id']}"},
                                                        "sk": {"S": "BALANCE"}},
        UpdateExpression="SET available_cents = :a", ExpressionAttributeValues={":a": {"N": "5000"}})
    withdrawal = stack.request("POST", "/me/withdrawals", headers=bearer, body={"amount_cents": 2_000})
    assert withdrawal.status == 201, withdrawal.body
    assert "40912876" not in withdrawal.body.decode()

    # Then staff (the staff role may Decrypt) see the details; a viewer may not
    path = f"/admin/withdrawals/{withdrawal.json()['withdrawal_id']}/payout-details/reveal"
    revealed = stack.request("POST", path, headers={"authorization": f"Bearer {stack.staff_token}"})
    assert revealed.status == 200, revealed.body
    assert (revealed.json()["bsb"], revealed.json()["account_number"]) == ("062-000", "40912876")
    assert stack.request("POST", path, headers={"authorization": f"Bearer {stack.viewer_token}"}).status == 403
