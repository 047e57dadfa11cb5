"""Every JSON answer the staff and referrer APIs document with a model is checked against a real answer.

``Stack.invoke`` checks each answer against its route's declared model (tests/support/response_models.py);
this walk through both APIs makes sure every such route has answered at least once, in a state where its
optional parts (a job, a reward, a resolved dispute, a paid withdrawal) are filled in.
"""

from __future__ import annotations

import sys
from typing import Any

import pytest

from referral_core.auth import Role, required_role
from referral_core.dal.dynamo import Table
from referral_core.policy import TERMS_VERSION
from referral_core.services.auth_links import opt_out_token
from tests.support.admin import flag, seed_job, seed_lead, seed_reward, seed_stats, staff_pool
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, http_event, json_body
from tests.support.portal import (
    ADMIN,
    PORTAL,
    SIGNING_KEY,
    application_link,
    ask_magic_link,
    create_referrer,
    magic_token,
    portal,
    preview_event,
    seed_referral,
    sign_in,
)
from tests.support.response_models import declared

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def ok(response: dict[str, Any], status: int = 200) -> Any:
    assert response["statusCode"] == status, response.get("body")
    return json_body(response)


def test_every_documented_json_answer_of_the_staff_and_referrer_apis_is_its_model(portal_stack):
    stack = portal_stack

    def admin(method: str, path: str, status: int = 200, *, body: Any = None, query: Any = None) -> Any:
        claims = ADMIN_CLAIMS if required_role(method, path) is Role.ADMIN else STAFF_CLAIMS
        return ok(stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=claims)), status)

    # A referrer signs in, shares a code, passes on a friend and asks for two payouts...
    jo = create_referrer(stack, name="Jo Smith", email="jo@example.com")
    ask_magic_link(stack, "jo@example.com")
    ok(stack.invoke(PORTAL, preview_event(magic_token(stack, "jo@example.com"))))  # "Sign in as Jo S.?"
    session = sign_in(stack, "jo@example.com")
    ok(portal(stack, "POST", "/me/share-codes", session=session,
              body={"code": "JO-VAN", "visibility": "public", "placement": "van"}), 201)
    friend = ok(portal(stack, "POST", "/me/referrals", session=session, body={
        "friend_name": "Sam Lee", "friend_email": "sam@example.net", "postcode": "2000",
        "issue": "Printer offline", "friend_agreed": True}), 201)
    # ...paid to a bank account (the withdrawals keep it, masked)
    assert ok(portal(stack, "PUT", "/me/payout-method", session=session, body={
        "type": "bank_account", "bsb": "062-000", "account_number": "40912876", "account_name": "Jo Smith"}))
    assert ok(portal(stack, "GET", "/me/payout-method", session=session))["last_digits"] == "876"
    Table(stack.table_name).update(f"REFERRER#{jo['referrer_id']}", "BALANCE", "SET available_cents = :a",
                                   values={":a": 9_000})
    first, second, third = (ok(portal(stack, "POST", "/me/withdrawals", session=session,
                                      body={"amount_cents": 3_000}), 201) for _ in range(3))
    seed_referral(stack, friend["lead_id"], jo["referrer_id"])  # what attribution makes of the lead
    assert ok(portal(stack, "GET", "/me/referrals", session=session))["items"]
    ok(portal(stack, "GET", f"/me/referrals/{friend['lead_id']}", session=session))
    assert ok(portal(stack, "GET", "/me", session=session))["withdrawals"]
    assert ok(portal(stack, "PUT", "/me/preferences", session=session,
                     body={"show_name_on_landing": True}))["show_name_on_landing"] is True

    # Staff review a flagged referral with a paid job and a reward, decide, and fix its attribution
    lead = seed_lead(stack, name="Pat Person", email="pat@example.com", phone="+61412555666",
                     referrer_id=jo["referrer_id"], code=jo["code"])
    flag(stack, lead.lead_id, "duplicate_contact")
    seed_reward(stack, jo["referrer_id"], seed_job(stack, lead))
    assert admin("GET", "/admin/reviews")["items"]
    evidence = admin("GET", f"/admin/referrals/{lead.lead_id}")
    assert evidence["job"] and evidence["reward"] and evidence["flags"]
    decided = admin("POST", f"/admin/referrals/{lead.lead_id}/decisions",
                    body={"decision": "question", "note": "Called the customer", "expected_version": 0})
    admin("POST", f"/admin/referrals/{lead.lead_id}/attribution",
          body={"referrer_id": None, "note": "Came from the website", "expected_version": decided["version"]})

    # ... a dispute, opened and resolved
    dispute = admin("POST", "/admin/disputes", 201,
                    body={"referral_id": lead.lead_id, "subject": "Reward missing", "note": "Jo called"})
    admin("POST", f"/admin/disputes/{dispute['dispute_id']}/resolve", body={"outcome": "upheld", "note": "Paid"})
    assert admin("GET", "/admin/disputes", query={"status": "resolved"})["items"]

    # ... payouts, share codes, programme rules and the funnel
    assert admin("GET", "/admin/withdrawals")["items"]
    assert admin("POST", f"/admin/withdrawals/{first['withdrawal_id']}/payout-details/reveal")["bsb"] == "062-000"
    admin("POST", f"/admin/withdrawals/{first['withdrawal_id']}/paid", body={"payout_reference": "EFT-1"})
    admin("POST", f"/admin/withdrawals/{second['withdrawal_id']}/rejected", body={"note": "Wrong account"})
    assert ok(portal(stack, "GET", "/me/statements", session=session))["items"][0]["paid_cents"] == 3_000
    batch = admin("POST", "/admin/payout-batches", 201, body={"withdrawal_ids": [third["withdrawal_id"]]})
    assert admin("GET", "/admin/payout-batches")["items"]
    assert admin("GET", f"/admin/payout-batches/{batch['batch_id']}")["total_cents"] == 3_000
    admin("POST", f"/admin/payout-batches/{batch['batch_id']}/paid", body={"payout_reference": "BULK-1"})
    created = admin("POST", f"/admin/referrers/{jo['referrer_id']}/share-codes", 201,
                    body={"visibility": "private", "zones": ["2000-2234"], "max_uses": 5})
    admin("POST", f"/admin/share-codes/{created['code']}/disable")
    admin("POST", f"/admin/share-codes/{created['code']}/enable")
    seed_stats(stack, "JO-VAN", "van", clicks_link=4, clicks_qr=2, leads=1)
    admin("GET", "/admin/share-codes/JO-VAN")
    assert admin("GET", "/admin/reports/funnel")["rows"]
    admin("GET", "/admin/reports/funnel", query={"code": "JO-VAN"})
    program = admin("GET", "/admin/program")
    admin("PUT", "/admin/program", body={**program["rules"], "holding_days": 14, "expected_version": 0})
    assert admin("GET", "/admin/program/versions")["items"]

    # ... the console's queue counts, the referrer directory, a referrer's page and an adjustment
    assert admin("GET", "/admin/reviews/counts")["counts"]
    assert admin("GET", "/admin/referrers", query={"q": "jo"})["items"]
    assert admin("GET", f"/admin/referrers/{jo['referrer_id']}")["referrer"]["name"] == "Jo Smith"
    admin("POST", f"/admin/referrers/{jo['referrer_id']}/adjustments", 201,
          body={"amount_cents": 100, "reason": "Thank-you bonus"})

    # ... and staff management, on a staff pool of its own
    staff_pool(stack)
    sys.modules["staff_context"].settings.cache_clear()  # the staff function's settings (its route modules')
    tech = admin("POST", "/admin/staff", 201, body={"email": "tech@example.com", "role": "staff"})
    assert admin("GET", "/admin/staff")["items"]
    admin("POST", f"/admin/staff/{tech['username']}/role", body={"role": "viewer"})
    admin("POST", f"/admin/staff/{tech['username']}/disable")
    admin("POST", f"/admin/staff/{tech['username']}/enable")

    # ... and a person's export and erasure
    assert admin("GET", "/admin/people/export", query={"email": "pat@example.com"})["leads"]
    admin("POST", "/admin/people/erase", body={"email": "pat@example.com", "note": "Request #7"})

    # The opt-out link, answered as JSON
    ok(portal(stack, "POST", "/me/notifications/opt-out", headers={"accept": "application/json"},
              query={"token": opt_out_token(jo["referrer_id"], signing_key=SIGNING_KEY)}))

    # Staff make the referrer a local partner (their type's rules), then a referrer without a type again
    admin("PATCH", f"/admin/referrers/{jo['referrer_id']}", body={"referrer_type": "local_partner",
                                                                   "note": "Runs the cafe next door"})
    admin("PATCH", f"/admin/referrers/{jo['referrer_id']}", body={"referrer_type": None, "note": "Back"})

    # Staff suspend the referrer and reactivate them
    for action in ("suspend", "reactivate"):
        admin("POST", f"/admin/referrers/{jo['referrer_id']}/{action}", body={"note": "Complaint REQ-43"})

    # Two people apply to become referrers (one under 18: a guardian consents); staff ask, approve, decline
    ok(portal(stack, "GET", "/applications/terms"))
    applicants = []
    for email, band in (("alex@example.org", "16_17"), ("kim@example.org", "25_plus")):
        ok(portal(stack, "POST", "/applications", body={
            "name": "Alex Taylor", "email": email, "phone": "0412 345 678", "postcode": "2000",
            "how_known": "A customer", "referrer_type": "ambassador", "age_band": band,
            "guardian_email": "parent@example.org", "accept_terms": True, "terms_version": TERMS_VERSION}), 202)
        application_id, token = application_link(stack, email, "verify")
        ok(portal(stack, "POST", f"/applications/{application_id}/verification", body={"token": token},
                  route="/applications/{application_id}/verification", path_params={"application_id": application_id}))
        applicants.append(application_id)
    _, guardian_token = application_link(stack, "parent@example.org", "guardian")
    ok(portal(stack, "POST", f"/applications/{applicants[0]}/guardian-consent",
              route="/applications/{application_id}/guardian-consent", path_params={"application_id": applicants[0]},
              body={"token": guardian_token, "guardian_name": "Sam Taylor", "consent": True,
                    "terms_version": TERMS_VERSION}))
    assert admin("GET", "/admin/applications")["items"]
    admin("POST", f"/admin/applications/{applicants[0]}/request-info", body={"message": "Which campus?"})
    admin("POST", f"/admin/applications/{applicants[0]}/approve", body={"note": "Campus confirmed"})
    admin("POST", f"/admin/applications/{applicants[1]}/decline", body={"reason": "Outside our area"})

    documented = set(declared(stack.function(ADMIN).app)) | set(declared(stack.function(PORTAL).app))
    assert documented - stack.checked_answers == set()
