"""Referrer portal in-process on moto: magic-link sign-in, sessions, access to one's own data, masking."""

from __future__ import annotations

import time

import jwt
import pytest

from referral_core.dal.dynamo import Table
from referral_core.stages import Stage
from tests.support.events import json_body, load_event
from tests.support.portal import (
    PORTAL,
    SIGNING_KEY,
    ask_magic_link,
    create_referrer,
    exchange,
    magic_token,
    portal,
    seed_referral,
    sign_in,
)

pytestmark = pytest.mark.integration


def signin_emails(stack):
    return [m for m in stack.sent_emails() if m["subject"] == "Your sign-in link"]


# -- magic links --------------------------------------------------------------------------------------
def test_known_email_gets_a_one_time_link_and_only_its_hash_is_stored(portal_stack):
    stack = portal_stack
    referrer = create_referrer(stack, email="jo@example.com")

    response = ask_magic_link(stack, "JO@Example.com")

    assert response["statusCode"] == 202
    [email] = signin_emails(stack)
    assert email["to"] == ["jo@example.com"]
    token = magic_token(stack, "jo@example.com")
    assert "http://127.0.0.1:3000/dashboard#token=" in email["body"]  # the fragment: never sent to a server
    [link] = stack.items_of_type("magic_link")
    assert link["referrer_id"] == referrer["referrer_id"]
    assert token not in str(link)
    assert 14 * 60 <= link["expiration"] - time.time() <= 15 * 60


def test_unknown_email_gets_the_same_answer_and_no_email(portal_stack):
    stack = portal_stack
    create_referrer(stack, email="jo@example.com")

    known = ask_magic_link(stack, "jo@example.com")
    unknown = ask_magic_link(stack, "nobody@example.com")

    assert (unknown["statusCode"], unknown["body"]) == (known["statusCode"], known["body"])
    assert [m["to"] for m in signin_emails(stack)] == [["jo@example.com"]]
    assert len(stack.items_of_type("magic_link")) == 1


def test_a_malformed_email_is_422(portal_stack):
    response = ask_magic_link(portal_stack, "not-an-email")
    assert response["statusCode"] == 422
    assert "email" in json_body(response)["error"]["fields"]


def test_magic_links_are_rate_limited_per_email_and_per_ip(portal_stack):
    stack = portal_stack
    create_referrer(stack, email="jo@example.com")
    for index in range(5):
        assert ask_magic_link(stack, "jo@example.com", source_ip=f"198.51.100.{index}")["statusCode"] == 202

    per_email = ask_magic_link(stack, "jo@example.com", source_ip="198.51.100.99")
    assert per_email["statusCode"] == 429
    assert int(per_email["headers"]["Retry-After"]) >= 1
    assert json_body(per_email)["error"]["code"] == "rate_limited"

    for index in range(20 - 1):  # the IP already asked once above
        ask_magic_link(stack, f"someone{index}@example.com", source_ip="198.51.100.99")
    assert ask_magic_link(stack, "other@example.com", source_ip="198.51.100.99")["statusCode"] == 429
    assert len(signin_emails(stack)) == 5


# -- sessions -------------------------------------------------------------------------------------------
def test_token_opens_a_12_hour_referrer_session_once(portal_stack):
    stack = portal_stack
    referrer = create_referrer(stack, email="jo@example.com")
    ask_magic_link(stack, "jo@example.com")
    token = magic_token(stack, "jo@example.com")

    first = exchange(stack, token)
    again = exchange(stack, token)

    assert first["statusCode"] == 200
    body = json_body(first)
    claims = jwt.decode(body["session_token"], SIGNING_KEY, algorithms=["HS256"], audience="referrer")
    assert claims["sub"] == referrer["referrer_id"]
    assert 11.9 * 3600 < claims["exp"] - time.time() <= 12 * 3600
    assert body["expires_at"].endswith("Z")
    assert again["statusCode"] == 401
    assert json_body(again)["error"]["code"] == "unauthorized"


def test_an_expired_or_unknown_token_is_401(portal_stack):
    stack = portal_stack
    create_referrer(stack, email="jo@example.com")
    ask_magic_link(stack, "jo@example.com")
    token = magic_token(stack, "jo@example.com")
    [link] = stack.items_of_type("magic_link")
    Table(stack.table_name).update(link["pk"], link["sk"], "SET expiration = :past",
                                   values={":past": int(time.time()) - 1})  # TTL has not deleted it yet

    assert exchange(stack, token)["statusCode"] == 401
    assert exchange(stack, "x" * 43)["statusCode"] == 401


@pytest.mark.parametrize("authorization", [
    None,
    "Bearer not-a-jwt",
    "Basic am86c2VjcmV0",
    "Bearer " + jwt.encode({"sub": "r1", "aud": "referrer", "exp": int(time.time()) - 10}, SIGNING_KEY),
    "Bearer " + jwt.encode({"sub": "r1", "aud": "referrer", "exp": int(time.time()) + 600}, "another-key-" * 4),
    "Bearer " + jwt.encode({"sub": "r1", "aud": "notifications-opt-out", "exp": int(time.time()) + 600},
                           SIGNING_KEY),
    "Bearer " + jwt.encode({"sub": "r1", "aud": "referrer"}, SIGNING_KEY),  # no expiry
], ids=["missing", "garbage", "basic", "expired", "wrong-key", "wrong-audience", "no-exp"])
def test_me_needs_a_valid_session(portal_stack, authorization):
    event = load_event("referrer_portal/get_me.json")
    event["headers"].pop("authorization")
    if authorization:
        event["headers"]["authorization"] = authorization
    response = portal_stack.invoke(PORTAL, event)
    assert response["statusCode"] == 401
    assert json_body(response)["error"]["code"] == "unauthorized"


def test_a_disabled_referrer_loses_access(portal_stack):
    stack = portal_stack
    referrer = create_referrer(stack, email="jo@example.com")
    session = sign_in(stack, "jo@example.com")
    Table(stack.table_name).update(f"REFERRER#{referrer['referrer_id']}", "PROFILE", "SET #s = :off",
                                   names={"#s": "status"}, values={":off": "disabled"})
    assert portal(stack, "GET", "/me", session=session)["statusCode"] == 401
    assert ask_magic_link(stack, "jo@example.com")["statusCode"] == 202
    assert len(signin_emails(stack)) == 1  # none for a disabled account


# -- what a referrer sees -------------------------------------------------------------------------------
def test_me_shows_profile_and_masked_referrals_newest_first_without_contact_details(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    other = create_referrer(stack, name="Al Other", email="al@example.com")
    seed_referral(stack, "lead-1", jo["referrer_id"], name="Samantha Lee", email="sam@example.net",
                  created_at="2026-11-20T09:00:00.000000Z")
    seed_referral(stack, "lead-2", jo["referrer_id"], name="Kim Park", email="kim@example.net",
                  phone="+61411111111", stage=Stage.JOB_BOOKED, created_at="2026-11-21T09:00:00.000000Z")
    seed_referral(stack, "lead-3", other["referrer_id"], name="Not Yours", email="nope@example.net")
    session = sign_in(stack, "jo@example.com")

    response = portal(stack, "GET", "/me", session=session)

    assert response["statusCode"] == 200
    assert response["headers"]["Cache-Control"] == "no-store"
    me = json_body(response)
    assert me["referrer"]["referrer_id"] == jo["referrer_id"]
    assert me["referrer"]["link"] == jo["link"]
    assert me["referrer"]["personal_code"] == jo["code"]
    items = me["referrals"]["items"]
    assert [(r["referral_id"], r["masked_name"], r["stage"]) for r in items] == [
        ("lead-2", "Ki P.", "job_booked"), ("lead-1", "Sa L.", "received")]
    assert items[0]["stage_label"] == "Job booked"
    assert items[0]["postcode"] == "2000"
    for secret in ("sam@example.net", "kim@example.net", "+61411111111", "+61498765432", "Samantha", "Park",
                   "Not Yours", "nope@example.net"):
        assert secret not in response["body"]


def test_referrals_are_paginated_with_an_opaque_cursor(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    for day in range(1, 26):
        seed_referral(stack, f"lead-{day:02d}", jo["referrer_id"], created_at=f"2026-11-{day:02d}T09:00:00.000000Z")
    session = sign_in(stack, "jo@example.com")

    first = json_body(portal(stack, "GET", "/me", session=session))["referrals"]
    second = json_body(portal(stack, "GET", "/me/referrals", session=session,
                              query={"cursor": first["next_cursor"]}))

    assert [r["referral_id"] for r in first["items"]] == [f"lead-{d:02d}" for d in range(25, 5, -1)]
    assert [r["referral_id"] for r in second["items"]] == [f"lead-{d:02d}" for d in range(5, 0, -1)]
    assert second["next_cursor"] is None
    bad = portal(stack, "GET", "/me/referrals", session=session, query={"cursor": "%%%"})
    assert bad["statusCode"] == 400 and "cursor" in json_body(bad)["error"]["fields"]

    # And a cursor of another referrer's list is refused, not read from their partition
    al = create_referrer(stack, name="Al Other", email="al@example.com")
    for day in range(1, 23):
        seed_referral(stack, f"al-{day:02d}", al["referrer_id"], created_at=f"2026-10-{day:02d}T09:00:00.000000Z")
    theirs = json_body(portal(stack, "GET", "/me", session=sign_in(stack, "al@example.com")))["referrals"]
    foreign = portal(stack, "GET", "/me/referrals", session=session, query={"cursor": theirs["next_cursor"]})
    assert foreign["statusCode"] == 400 and "cursor" in json_body(foreign)["error"]["fields"]


def test_one_referral_in_detail_and_someone_elses_is_404(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    al = create_referrer(stack, name="Al Other", email="al@example.com")
    seed_referral(stack, "lead-jo", jo["referrer_id"], stage=Stage.NOT_ELIGIBLE)
    Table(stack.table_name).update("LEAD#lead-jo", "REFERRAL", "SET not_eligible_reason = :r",
                                   values={":r": "existing_customer"})
    seed_referral(stack, "lead-al", al["referrer_id"])
    session = sign_in(stack, "jo@example.com")

    def detail(referral_id):
        return portal(stack, "GET", f"/me/referrals/{referral_id}", route="/me/referrals/{referral_id}",
                      path_params={"referral_id": referral_id}, session=session)

    mine = detail("lead-jo")
    assert mine["statusCode"] == 200
    assert json_body(mine) | {"created_at": "", "updated_at": ""} == {
        "referral_id": "lead-jo", "masked_name": "Sa L.", "suburb": None, "postcode": "2000",
        "stage": "not_eligible", "stage_label": "Not eligible", "reason": "existing_customer",
        "reason_label": "they were already a customer", "created_at": "", "updated_at": ""}
    theirs, missing = detail("lead-al"), detail("lead-none")
    assert theirs["statusCode"] == missing["statusCode"] == 404
    assert theirs["body"] == missing["body"]


def test_dashboard_page_is_html_with_a_strict_policy_and_no_data(portal_stack):
    response = portal_stack.invoke(PORTAL, load_event("referrer_portal/get_dashboard_with_token.json"))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"].startswith("text/html")
    csp = response["headers"]["Content-Security-Policy"]
    assert "script-src 'sha256-" in csp and "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]
    assert response["headers"]["Referrer-Policy"] == "no-referrer"
    body = response["body"]
    assert "innerHTML" not in body
    assert "REPLACE-WITH-THE-TOKEN" not in body  # the token is read by the script, never echoed
    assert '<html lang="en">' in body and 'name="viewport"' in body


# -- acting as a referrer ---------------------------------------------------------------------------------
def test_me_has_share_codes_with_counters_balances_tier_and_withdrawals(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    Table(stack.table_name).update(f"STATS#{jo['code']}", "PLACEMENT#-", "SET clicks_link = :l, clicks_qr = :q, "
                                   "leads = :n, jobs = :j", values={":l": 3, ":q": 2, ":n": 1, ":j": 1})
    session = sign_in(stack, "jo@example.com")

    me = json_body(portal(stack, "GET", "/me", session=session))

    [code] = me["share_codes"]
    assert code["code"] == jo["code"] and code["personal"] is True
    assert code["url"] == jo["link"]
    assert code["qr"]["png"] == f"http://127.0.0.1:3000/me/share-codes/{jo['code']}/qr.png"
    assert jo["link"] in code["share_message"] and "not guaranteed" in code["share_message"]
    assert code["stats"] == {"clicks": 5, "clicks_qr": 2, "leads": 1, "jobs": 1}
    assert me["balance"]["pending_cents"] == me["balance"]["available_cents"] == me["balance"]["paid_cents"] == 0
    assert me["tier"]["name"] == "Bronze" and me["tier"]["next_tier"] == "Silver"
    assert me["withdrawals"] == [] and me["currency"] == "AUD"


def test_a_referrer_creates_a_share_code_and_downloads_only_their_own_qr_codes(portal_stack):
    stack = portal_stack
    create_referrer(stack, email="jo@example.com")
    al = create_referrer(stack, name="Al Other", email="al@example.com")
    session = sign_in(stack, "jo@example.com")

    created = portal(stack, "POST", "/me/share-codes", session=session,
                     body={"code": "JO-FLYER", "visibility": "public", "placement": "flyer"})
    assert created["statusCode"] == 201, created["body"]
    assert [c["code"] for c in json_body(portal(stack, "GET", "/me", session=session))["share_codes"]][1] == "JO-FLYER"

    def qr(code, kind):
        path = f"/me/share-codes/{code}/qr.{kind}"
        return portal(stack, "GET", path, route=f"/me/share-codes/{{code}}/qr.{kind}", path_params={"code": code},
                      session=session)

    png, svg = qr("JO-FLYER", "png"), qr("jo-flyer", "svg")
    assert png["statusCode"] == 200 and png["headers"]["Content-Type"] == "image/png"
    assert png["isBase64Encoded"] is True
    assert svg["statusCode"] == 200 and svg["body"].startswith("<svg")
    assert qr(al["code"], "png")["statusCode"] == 404
    assert qr("NOPE-404", "svg")["statusCode"] == 404


def test_withdrawals_need_the_minimum_and_the_available_balance(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    Table(stack.table_name).update(f"REFERRER#{jo['referrer_id']}", "BALANCE", "SET available_cents = :a",
                                   values={":a": 6_000})
    session = sign_in(stack, "jo@example.com")
    minimum = json_body(portal(stack, "GET", "/me", session=session))["min_withdrawal_cents"]

    def withdraw(cents):
        return portal(stack, "POST", "/me/withdrawals", session=session, body={"amount_cents": cents})

    assert withdraw(minimum - 1)["statusCode"] == 422
    assert withdraw(6_001)["statusCode"] == 409
    done = withdraw(6_000)
    assert done["statusCode"] == 201
    assert json_body(done)["status"] == "requested"
    me = json_body(portal(stack, "GET", "/me", session=session))
    assert (me["balance"]["available_cents"], me["balance"]["held_cents"]) == (0, 6_000)
    assert [w["amount_cents"] for w in me["withdrawals"]] == [6_000]


def test_refer_a_job_saves_a_lead_attributed_to_the_referrer(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    session = sign_in(stack, "jo@example.com")
    friend = {"friend_name": "Sam Lee", "friend_email": "sam@example.net", "postcode": "2000",
              "issue": "Printer offline", "friend_agreed": True}

    response = portal(stack, "POST", "/me/referrals", session=session, body=friend)

    assert response["statusCode"] == 201, response["body"]
    [lead] = stack.items_of_type("lead")
    assert (lead["lead_id"], lead["referrer_id"], lead["source"]) == (
        json_body(response)["lead_id"], jo["referrer_id"], "refer_a_job")
    assert portal(stack, "POST", "/me/referrals", session=session,
                  body={**friend, "friend_agreed": False})["statusCode"] == 422


@pytest.mark.parametrize(("method", "path", "body"), [
    ("POST", "/me/share-codes", {"visibility": "public"}),
    ("POST", "/me/withdrawals", {"amount_cents": 5000}),
    ("POST", "/me/referrals", {"friend_name": "A", "friend_email": "a@example.net", "postcode": "2000",
                               "issue": "x", "friend_agreed": True}),
    ("GET", "/me/referrals", None),
])
def test_every_me_route_needs_a_session(portal_stack, method, path, body):
    response = portal(portal_stack, method, path, body=body)
    assert response["statusCode"] == 401
    assert portal_stack.items_of_type("lead") == [] and portal_stack.items_of_type("withdrawal") == []


# -- suburb (issue 16: in the contract, and no longer always null) ------------------------------------
def test_the_suburb_a_customer_gives_on_quick_help_is_shown_on_the_referrers_masked_referral(portal_stack):
    from tests.support.leads import CAPTURE, lead_body, post_lead
    from tests.support.stream_pump import StreamPump

    stack = portal_stack
    referrer = create_referrer(stack, email="jo@example.com")
    # Given a customer who came with the referrer's code and gave a suburb
    created = post_lead(stack, lead_body(ref=referrer["code"], suburb="  Surry Hills "))
    assert created["statusCode"] == 201, created
    lead_id = json_body(created)["lead_id"]
    StreamPump(stack).drain()  # attribution makes the referral

    # When the referrer looks at their referrals
    session = sign_in(stack, "jo@example.com")
    [item] = json_body(portal(stack, "GET", "/me", session=session))["referrals"]["items"]

    # Then the referral shows the suburb beside the postcode, and still no contact details
    assert (item["referral_id"], item["suburb"], item["postcode"]) == (lead_id, "Surry Hills", "3000")
    assert item["masked_name"] == "Sa C."
    # A suburb over 60 characters (or with a control character) is refused naming it, and nothing is written
    before = stack.items()
    for suburb in ("x" * 61, "Surry\x00Hills"):
        refused = post_lead(stack, lead_body(suburb=suburb), source_ip="198.51.100.9")
        assert refused["statusCode"] == 422 and set(json_body(refused)["error"]["fields"]) == {"suburb"}
    assert stack.items() == before
    # The Quick Help form asks for it too
    assert 'name="suburb"' in stack.invoke(CAPTURE, load_event("capture_lead/get_quick_help_with_ref.json"))["body"]
