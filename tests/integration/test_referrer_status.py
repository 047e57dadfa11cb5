"""Suspended and erased referrers stop earning (issue 16, item 3): staff suspend/reactivate, erasure.

Their codes still take customers to Quick Help but without ``ref``/``cid`` and without a click; leads
naming their codes are not attributed to them; their sessions are revoked and every /me route refuses
them (QR images included); reactivation restores a suspended referrer's codes, never an erased one's.
"""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlsplit

import pytest

from referral_core.dal.dynamo import Table
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, http_event, json_body, load_event
from tests.support.leads import lead_body, post_lead
from tests.support.links import create_code, redirect
from tests.support.portal import ADMIN, create_referrer, portal, sign_in
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration

NOTE = "Offered cash for reviews: suspended pending a call"


def status_change(stack, referrer_id: str, action: str, body: dict | None = None) -> dict:
    """POST /admin/referrers/{id}/suspend|reactivate from the events/ samples."""
    event = load_event(f"staff_admin/{action}_referrer.json")
    path = f"/admin/referrers/{referrer_id}/{action}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"proxy": path.removeprefix("/admin/")}
    if body is not None:
        event["body"] = json.dumps(body)
    return stack.invoke(ADMIN, event)


def erase(stack, email: str) -> dict:
    event = http_event("POST", "/admin/people/erase", route="/admin/{proxy+}", claims=ADMIN_CLAIMS,
                       path_params={"proxy": "people/erase"}, body={"email": email, "note": "Request #12"})
    return stack.invoke(ADMIN, event)


def location(response: dict) -> tuple[str, dict[str, list[str]]]:
    assert response["statusCode"] == 302, response
    parts = urlsplit(response["headers"]["Location"])
    return parts.path, parse_qs(parts.query)


def codes(stack, referrer_id: str) -> list[dict]:
    return [c for c in stack.items_of_type("share_code") if c["referrer_id"] == referrer_id]


@pytest.fixture
def jo(portal_stack):
    # Codes change between redirects here: the redirect must not serve them from its 30 s cache (the lag
    # of a warm container is documented in docs/links.md).
    portal_stack.env["CODE_CACHE_SECONDS"] = "0"
    portal_stack.monkeypatch.setenv("CODE_CACHE_SECONDS", "0")
    referrer = create_referrer(portal_stack, email="jo@example.com")
    extra = create_code(portal_stack, referrer["referrer_id"], code="JO-VAN")
    assert extra["statusCode"] == 201, extra
    return referrer


# -- staff routes ----------------------------------------------------------------------------------
def test_suspend_and_reactivate_need_a_note_are_audited_and_404_for_unknown(portal_stack, jo):
    stack = portal_stack
    assert status_change(stack, jo["referrer_id"], "suspend", {})["statusCode"] == 422
    assert status_change(stack, jo["referrer_id"], "suspend", {"note": "  "})["statusCode"] == 422
    missing = status_change(stack, "NO-SUCH-REFERRER", "suspend")
    assert missing["statusCode"] == 404 and json_body(missing)["error"]["fields"] == {"referrer_id": "not found"}

    suspended = status_change(stack, jo["referrer_id"], "suspend", {"note": NOTE})
    assert suspended["statusCode"] == 200, suspended
    assert json_body(suspended) == {**json_body(suspended), "referrer_id": jo["referrer_id"],
                                    "status": "suspended", "previous_status": "active",
                                    "changed_by": "staff:staff@example.com", "share_codes_updated": 2}
    profile = Table(stack.table_name).get(f"REFERRER#{jo['referrer_id']}", "PROFILE")
    assert profile["status"] == "suspended" and profile["session_generation"] == 1
    assert {c["referrer_status"] for c in codes(stack, jo["referrer_id"])} == {"suspended"}

    back = status_change(stack, jo["referrer_id"], "reactivate")
    assert back["statusCode"] == 200 and json_body(back)["status"] == "active"
    assert {c["referrer_status"] for c in codes(stack, jo["referrer_id"])} == {"active"}
    audits = [a for a in stack.items_of_type("audit") if a["pk"] == f"REFERRER#{jo['referrer_id']}"]
    changes = [(a["action"], a["detail"].get("note")) for a in sorted(audits, key=lambda a: a["at"])
               if a["action"].startswith("referrer.") and a["action"] != "referrer.created"]
    assert changes[0] == ("referrer.suspended", NOTE)
    assert changes[1][0] == "referrer.active" and changes[1][1]


def test_a_suspended_referrer_gets_no_new_share_codes(portal_stack, jo):
    status_change(portal_stack, jo["referrer_id"], "suspend")
    refused = create_code(portal_stack, jo["referrer_id"], code="JO-LATER")
    assert refused["statusCode"] == 409
    assert json_body(refused)["error"]["fields"] == {"referrer_id": "not active"}


# -- the redirect and lead capture -------------------------------------------------------------------
def test_a_suspended_referrers_codes_land_on_quick_help_without_ref_and_count_no_click(portal_stack, jo):
    stack = portal_stack
    path, query = location(redirect(stack, jo["code"]))
    assert set(query) == {"ref", "cid"}  # before: attributed
    clicks_before = len(stack.items_of_type("click"))

    status_change(stack, jo["referrer_id"], "suspend")
    for code in (jo["code"], "JO-VAN"):
        path, query = location(redirect(stack, code, source_ip="198.51.100.9"))
        assert (path, query) == ("/quick-help", {})
    assert len(stack.items_of_type("click")) == clicks_before

    status_change(stack, jo["referrer_id"], "reactivate")
    path, query = location(redirect(stack, "JO-VAN", source_ip="198.51.100.9"))
    assert query["ref"] == ["JO-VAN"] and query["cid"]


def test_a_lead_naming_a_suspended_referrers_code_is_not_attributed_to_them(portal_stack, jo):
    stack = portal_stack
    status_change(stack, jo["referrer_id"], "suspend")
    response = post_lead(stack, lead_body(ref=jo["code"], cid=None))
    assert response["statusCode"] == 201, response
    lead = next(i for i in stack.items_of_type("lead"))
    assert lead["ref_status"] == "referrer_inactive"
    assert "referrer_id" not in lead and "code" not in lead

    StreamPump(stack).drain()
    assert [r for r in stack.items_of_type("referral") if r.get("referrer_id") == jo["referrer_id"]] == []


def test_a_suspension_between_capture_and_attribution_still_credits_nobody(portal_stack, jo):
    stack = portal_stack
    pump = StreamPump(stack)
    assert post_lead(stack, lead_body(ref=jo["code"], cid=None))["statusCode"] == 201
    lead = next(i for i in stack.items_of_type("lead"))
    assert lead["referrer_id"] == jo["referrer_id"]  # captured while active
    status_change(stack, jo["referrer_id"], "suspend")

    pump.drain()
    assert [r for r in stack.items_of_type("referral") if r.get("referrer_id")] == []


# -- sessions and /me ---------------------------------------------------------------------------------
ME_ROUTES = [("GET", "/me", None, None), ("GET", "/me/referrals", None, None),
             ("POST", "/me/share-codes", None, {"visibility": "public"}),
             ("POST", "/me/withdrawals", None, {"amount_cents": 5000}),
             ("GET", "/me/share-codes/{code}/qr.png", "/me/share-codes/{code}/qr.png", None),
             ("GET", "/me/share-codes/{code}/qr.svg", "/me/share-codes/{code}/qr.svg", None)]


def me_calls(stack, session: str, code: str) -> dict[str, int]:
    out = {}
    for method, path, route, body in ME_ROUTES:
        concrete = path.format(code=code)
        response = portal(stack, method, concrete, session=session, body=body,
                          route=route, path_params={"code": code} if route else None)
        out[f"{method} {path}"] = response["statusCode"]
    return out


def test_suspension_revokes_sessions_and_every_me_route_refuses_them(portal_stack, jo):
    stack = portal_stack
    session = sign_in(stack, "jo@example.com")
    before = me_calls(stack, session, jo["code"])
    assert before["GET /me/share-codes/{code}/qr.png"] == 200 and before["GET /me"] == 200

    status_change(stack, jo["referrer_id"], "suspend")
    assert set(me_calls(stack, session, jo["code"]).values()) == {401}
    assert portal(stack, "POST", "/auth/magic-link", body={"email": "jo@example.com"})["statusCode"] == 202
    assert [m for m in stack.sent_emails() if m["subject"] == "Your sign-in link"][1:] == []  # none now

    # Reactivated: the old session stays revoked; a new sign-in works.
    status_change(stack, jo["referrer_id"], "reactivate")
    assert portal(stack, "GET", "/me/share-codes/JO-VAN/qr.png", session=session,
                  route="/me/share-codes/{code}/qr.png", path_params={"code": "JO-VAN"})["statusCode"] == 401
    fresh = sign_in(stack, "jo@example.com")
    assert portal(stack, "GET", "/me", session=fresh)["statusCode"] == 200


def test_a_session_issued_while_a_suspension_was_written_is_403(portal_stack, jo):
    stack = portal_stack
    session = sign_in(stack, "jo@example.com")
    Table(stack.table_name).update(f"REFERRER#{jo['referrer_id']}", "PROFILE", "SET #s = :s",
                                   names={"#s": "status"}, values={":s": "suspended"})
    response = portal(stack, "GET", "/me/share-codes/JO-VAN/qr.svg", session=session,
                      route="/me/share-codes/{code}/qr.svg", path_params={"code": "JO-VAN"})
    assert response["statusCode"] == 403
    assert json_body(response)["error"]["code"] == "account_suspended"


# -- erasure ------------------------------------------------------------------------------------------
def test_erasure_marks_the_referrer_erased_everywhere_and_nothing_brings_them_back(portal_stack, jo):
    stack = portal_stack
    session = sign_in(stack, "jo@example.com")
    assert erase(stack, "jo@example.com")["statusCode"] == 200

    assert {c["referrer_status"] for c in codes(stack, jo["referrer_id"])} == {"erased"}
    assert location(redirect(stack, jo["code"])) == ("/quick-help", {})
    assert set(me_calls(stack, session, jo["code"]).values()) == {401}
    assert post_lead(stack, lead_body(ref="JO-VAN", cid=None))["statusCode"] == 201
    assert next(i for i in stack.items_of_type("lead"))["ref_status"] == "referrer_inactive"

    for action in ("reactivate", "suspend"):
        refused = status_change(stack, jo["referrer_id"], action)
        assert refused["statusCode"] == 409 and json_body(refused)["error"]["fields"] == {"referrer_id": "erased"}
    assert {c["referrer_status"] for c in codes(stack, jo["referrer_id"])} == {"erased"}


def test_staff_cannot_attribute_a_referral_to_a_suspended_referrer(portal_stack, jo):
    from tests.support.admin import flag, seed_lead

    stack = portal_stack
    lead = seed_lead(stack, name="Pat Person")
    flag(stack, lead.lead_id, "unclear_source")
    status_change(stack, jo["referrer_id"], "suspend")

    def attribute(referrer_id):
        return stack.invoke(ADMIN, http_event(
            "POST", f"/admin/referrals/{lead.lead_id}/attribution", route="/admin/{proxy+}", claims=STAFF_CLAIMS,
            path_params={"proxy": f"referrals/{lead.lead_id}/attribution"},
            body={"referrer_id": referrer_id, "note": "Customer named Jo", "expected_version": 0}))

    refused = attribute(jo["referrer_id"])
    assert refused["statusCode"] == 409 and json_body(refused)["error"]["fields"] == {"referrer_id": "not active"}
    assert Table(stack.table_name).get(f"LEAD#{lead.lead_id}", "REFERRAL").get("referrer_id") is None
    status_change(stack, jo["referrer_id"], "reactivate")
    assert attribute(jo["referrer_id"])["statusCode"] == 200


@pytest.mark.parametrize("how", ["suspend", "erase"])
def test_suspended_or_erased_referrers_get_no_stage_emails(portal_stack, jo, how):
    from tests.integration.test_stage_notifications import sample, stage_emails
    from tests.support.portal import NOTIFY

    stack = portal_stack
    if how == "suspend":
        status_change(stack, jo["referrer_id"], "suspend")
    else:
        assert erase(stack, "jo@example.com")["statusCode"] == 200
    assert stack.consume(NOTIFY, sample("referral_received", jo["referrer_id"])) == {"batchItemFailures": []}
    assert stage_emails(stack) == []


def test_a_referrer_with_more_codes_than_one_transaction_holds_gets_every_code(portal_stack, jo):
    stack = portal_stack
    table = Table(stack.table_name)
    for n in range(120):  # codes as create_code stores them (gsi1 lists a referrer's codes)
        table.put({"pk": f"CODE#BULK-{n:03d}", "sk": "CODE", "type": "share_code", "code": f"BULK-{n:03d}",
                   "referrer_id": jo["referrer_id"], "status": "active", "visibility": "public",
                   "gsi1pk": f"REFERRER#{jo['referrer_id']}#CODES", "gsi1sk": f"CODE#2026-11-23T09:00:{n:02d}Z"})
    changed = status_change(stack, jo["referrer_id"], "suspend")
    assert json_body(changed)["share_codes_updated"] == 122
    assert {c.get("referrer_status") for c in codes(stack, jo["referrer_id"])} == {"suspended"}
