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
