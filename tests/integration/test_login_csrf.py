"""Login CSRF through a share link (issue 16, item 7): a referrer's code whose landing is
``/dashboard?token=<their own magic-link token>`` signed every visitor into the referrer's account.

Referrers no longer set free landing URLs, no landing carries a credential-like parameter (refused on
write, and never followed by the redirect), the sign-in link carries the token in the fragment, and the
dashboard asks whom a link signs in (``POST /auth/session/preview``, which does not use the link) before
exchanging it.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest

from referral_core.dal.dynamo import Table
from tests.support.events import json_body, load_event
from tests.support.links import create_code, redirect
from tests.support.portal import (
    PORTAL,
    ask_magic_link,
    create_referrer,
    exchange,
    magic_token,
    portal,
    preview_event,
    sign_in,
)

pytestmark = pytest.mark.integration

LANDING = "http://127.0.0.1:3000/help/vans"


@pytest.fixture
def csrf_stack(portal_stack):
    for name, value in {"CODE_CACHE_SECONDS": "0", "REFERRER_LANDING_URLS": LANDING}.items():
        portal_stack.env[name] = value
        portal_stack.monkeypatch.setenv(name, value)
    return portal_stack


def preview(stack, token: str) -> dict:
    return stack.invoke(PORTAL, preview_event(token))


# -- share codes ---------------------------------------------------------------------------------------
def test_a_referrer_cannot_point_a_code_at_a_planted_sign_in_link(csrf_stack):
    stack = csrf_stack
    create_referrer(stack, email="mallory@example.com")
    session = sign_in(stack, "mallory@example.com")
    assert ask_magic_link(stack, "mallory@example.com")["statusCode"] == 202
    planted = f"http://127.0.0.1:3000/dashboard?token={magic_token(stack, 'mallory@example.com')}"

    for landing in (planted, "http://127.0.0.1:3000/quick-help?utm=x", "https://www.example.com/"):
        refused = portal(stack, "POST", "/me/share-codes", session=session,
                         body={"visibility": "public", "landing_url": landing})
        assert refused["statusCode"] == 422, landing
        assert "landing_url" in json_body(refused)["error"]["fields"]
    assert [c for c in stack.items_of_type("share_code") if not c.get("personal")] == []

    chosen = portal(stack, "POST", "/me/share-codes", session=session,
                    body={"visibility": "public", "landing_url": LANDING})
    assert chosen["statusCode"] == 201 and json_body(chosen)["landing_url"] == LANDING
    default = portal(stack, "POST", "/me/share-codes", session=session, body={"visibility": "public"})
    assert default["statusCode"] == 201 and json_body(default)["landing_url"] is None


def test_staff_cannot_store_a_landing_with_credentials_and_the_redirect_never_follows_one(csrf_stack):
    stack = csrf_stack
    referrer = create_referrer(stack, email="jo@example.com")
    refused = create_code(stack, referrer["referrer_id"],
                          landing_url="http://127.0.0.1:3000/dashboard?x=1&%74oken=abc")
    assert refused["statusCode"] == 422 and "landing_url" in json_body(refused)["error"]["fields"]

    # A landing stored before this rule (or edited by hand) is not followed: Quick Help instead.
    Table(stack.table_name).update(f"CODE#{referrer['code']}", "CODE", "SET landing_url = :u",
                                   values={":u": "http://127.0.0.1:3000/dashboard?token=planted#token=x"})
    response = redirect(stack, referrer["code"])
    assert response["statusCode"] == 302
    location = urlsplit(response["headers"]["Location"])
    assert location.path == "/quick-help" and "token" not in response["headers"]["Location"]


# -- sign-in: the fragment and the confirm step -----------------------------------------------------------
def test_the_emailed_link_carries_the_token_in_the_fragment(csrf_stack):
    create_referrer(csrf_stack, email="jo@example.com")
    ask_magic_link(csrf_stack, "jo@example.com")
    [mail] = [m for m in csrf_stack.sent_emails() if m["subject"] == "Your sign-in link"]
    assert "/dashboard#token=" in mail["body"] and "/dashboard?token=" not in mail["body"]


def test_preview_names_whom_a_link_signs_in_without_using_it(csrf_stack):
    stack = csrf_stack
    create_referrer(stack, name="Jo Smith", email="jo@example.com")
    ask_magic_link(stack, "jo@example.com")
    token = magic_token(stack, "jo@example.com")

    first, again = preview(stack, token), preview(stack, token)
    assert first["statusCode"] == again["statusCode"] == 200
    assert json_body(first) == {"masked_name": "Jo S."}
    assert "Smith" not in first["body"] and "jo@example.com" not in first["body"]

    session = exchange(stack, token)  # the preview did not use the link
    assert session["statusCode"] == 200 and json_body(session)["masked_name"] == "Jo S."
    used = preview(stack, token)
    assert used["statusCode"] == 401 and json_body(used)["error"]["code"] == "unauthorized"
    assert preview(stack, "x" * 43)["statusCode"] == 401


def test_the_dashboard_confirms_before_exchanging_and_reads_old_query_links(csrf_stack):
    page = csrf_stack.invoke(PORTAL, load_event("referrer_portal/get_dashboard_with_token.json"))
    body = page["body"]
    assert page["headers"]["Referrer-Policy"] == "no-referrer"
    assert 'id="confirm"' in body and 'id="confirm-yes"' in body
    script = body[body.index('<script type="module">'):]
    # the token leaves the address bar before anything else; the preview comes before the exchange
    assert script.index("history.replaceState") < script.index("fetch(")
    assert 'location.hash.slice(1)).get("token")' in script
    assert 'URLSearchParams(location.search).get("token")' in script
    assert script.index('"/auth/session/preview"') < script.index('postToken("/auth/session", token)')
