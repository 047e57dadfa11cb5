"""Staff tools on moto: auth matrix, disputes, funnel report, privacy export and erasure."""

from __future__ import annotations

import json

import pytest

from tests.support.admin import flag, seed_job, seed_lead, seed_referrer, seed_reward, seed_stats
from tests.support.events import ADMIN_CLAIMS, NO_ROLE_CLAIMS, STAFF_CLAIMS, http_event, json_body

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"
ROUTES = [
    ("POST", "/admin/referrers"), ("GET", "/admin/reviews"), ("GET", "/admin/referrals/x"),
    ("POST", "/admin/referrals/x/decisions"), ("POST", "/admin/referrals/x/attribution"),
    ("GET", "/admin/disputes"), ("POST", "/admin/disputes"), ("POST", "/admin/disputes/x/resolve"),
    ("GET", "/admin/reports/funnel"), ("GET", "/admin/people/export"), ("POST", "/admin/people/erase"),
]


def call(stack, method, path, *, body=None, query=None, claims=STAFF_CLAIMS):
    return stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=claims))


@pytest.mark.parametrize(("method", "path"), ROUTES)
def test_every_admin_route_needs_a_staff_token(stack, method, path):
    body = {} if method == "POST" else None
    assert call(stack, method, path, body=body, claims=None)["statusCode"] == 401
    assert call(stack, method, path, body=body, claims=NO_ROLE_CLAIMS)["statusCode"] == 403
    assert call(stack, method, path, body=body, claims=ADMIN_CLAIMS)["statusCode"] not in (401, 403)


def test_dispute_is_opened_listed_and_resolved_once_with_audit(stack):
    referrer_id, _ = seed_referrer(stack)
    lead = seed_lead(stack, referrer_id=referrer_id)
    opened = call(stack, "POST", "/admin/disputes", body={
        "referral_id": lead.lead_id, "referrer_id": referrer_id, "subject": "Reward not shown",
        "note": "Referrer called: says the job was paid last week"})
    assert opened["statusCode"] == 201, opened["body"]
    dispute_id = json_body(opened)["dispute_id"]
    listed = json_body(call(stack, "GET", "/admin/disputes"))["items"]
    assert [d["dispute_id"] for d in listed] == [dispute_id]
    path = f"/admin/disputes/{dispute_id}/resolve"
    resolved = call(stack, "POST", path, body={"outcome": "upheld", "note": "Job paid; reward released"})
    assert resolved["statusCode"] == 200
    assert json_body(resolved)["status"] == "resolved"
    assert len(json_body(resolved)["notes"]) == 2
    assert call(stack, "POST", path, body={"outcome": "upheld", "note": "again"})["statusCode"] == 409
    assert json_body(call(stack, "GET", "/admin/disputes"))["items"] == []
    assert len(json_body(call(stack, "GET", "/admin/disputes", query={"status": "resolved"}))["items"]) == 1
    audit = json_body(call(stack, "GET", f"/admin/referrals/{lead.lead_id}"))["audit"]
    assert [a["action"] for a in audit] == ["dispute.opened", "dispute.resolved"]
    bad = call(stack, "POST", "/admin/disputes", body={"subject": "x", "note": "y"})
    assert bad["statusCode"] == 422


def test_funnel_per_code_and_placement_and_for_all_codes(stack):
    seed_stats(stack, "ABC2345", "", clicks_link=10, leads=4, jobs=2, paid=1, rewarded=1)
    seed_stats(stack, "ABC2345", "van", clicks_qr=5, leads=1)
    seed_stats(stack, "ZZZ9999", "", clicks_link=3)
    one = json_body(call(stack, "GET", "/admin/reports/funnel", query={"code": "abc2345"}))
    assert one["totals"] == {"clicks": 15, "clicks_link": 10, "clicks_qr": 5, "leads": 5, "jobs": 2,
                             "paid": 1, "rewarded": 1}
    assert {r["placement"] for r in one["rows"]} == {None, "van"}
    first = json_body(call(stack, "GET", "/admin/reports/funnel", query={"limit": "2"}))
    rest = json_body(call(stack, "GET", "/admin/reports/funnel", query={"cursor": first["next_cursor"]}))
    assert len(first["rows"]) + len(rest["rows"]) == 3


def test_export_and_erasure_leave_no_pii_and_keep_ledger_totals(stack):
    # Given a customer who is also a referrer, with a lead, a job, a reward and a staff note
    email, phone, name = "pat.person@example.com", "+61412555666", "Pat Person"
    referrer_id, code = seed_referrer(stack, name=name, email=email)
    other_referrer, _ = seed_referrer(stack)
    lead = seed_lead(stack, name=name, email=email, phone=phone, referrer_id=other_referrer, code=code)
    flag(stack, lead.lead_id, "duplicate_contact")
    call(stack, "POST", f"/admin/referrals/{lead.lead_id}/decisions",
         body={"decision": "question", "note": f"Called {name} on {phone}", "expected_version": 0})
    job_id = seed_job(stack, lead)
    seed_reward(stack, referrer_id, job_id, 5_000)
    balance_before = [i for i in stack.items() if i["sk"] == "BALANCE"]

    exported = call(stack, "GET", "/admin/people/export", query={"email": email})
    assert exported["statusCode"] == 200
    assert "attachment" in exported["headers"]["Content-Disposition"]
    body = json_body(exported)
    assert [x["id"] for x in body["leads"]] == [lead.lead_id]
    assert len(body["referrers"]) == 1
    assert email in exported["body"]

    # When staff erase the person
    erased = call(stack, "POST", "/admin/people/erase", body={"email": email, "phone": phone,
                                                             "note": "Erasure request #42"}, claims=ADMIN_CLAIMS)
    assert erased["statusCode"] == 200, erased["body"]

    # Then nothing in the table names or reaches them, ledger totals are unchanged, audit is kept
    everything = json.dumps(stack.items(), default=str).lower()
    for secret in (email, phone, name.lower(), lead.email):
        assert secret.lower() not in everything
    assert not [i for i in stack.items() if (i.get("type") in {"contact", "unique"} and
                referrer_id in json.dumps(i)) or i["pk"].startswith("CONTACT#")]
    assert [i for i in stack.items() if i["sk"] == "BALANCE"] == balance_before
    assert sum(i["amount_cents"] for i in stack.items_of_type("ledger")) == 5_000
    actions = {i["action"] for i in stack.items_of_type("audit")}
    assert {"referral.question", "person.erased", "person.exported", "person.erasure_completed"} <= actions
    assert call(stack, "GET", "/admin/people/export", query={"email": email}).get("statusCode") == 200
    assert json_body(call(stack, "GET", "/admin/people/export", query={"email": email}))["leads"] == []


@pytest.mark.parametrize("note", [None, "", "   "])
def test_erasure_needs_a_note_and_changes_nothing_without_one(stack, note):
    seed_lead(stack, email="pat@example.com")
    before = stack.items()
    body = {"email": "pat@example.com", **({"note": note} if note is not None else {})}

    answer = call(stack, "POST", "/admin/people/erase", body=body, claims=ADMIN_CLAIMS)

    assert answer["statusCode"] == 422
    assert "note" in json_body(answer)["error"]["fields"]
    assert stack.items() == before


def test_erasure_removes_the_look_alike_entries_but_never_touches_a_look_alike_person(stack):
    # Given Pat, a customer of a job (written by the real webhook), and a lead of Pat's look-alike
    from tests.support.jobs import configure_webhook_secrets, post_job_event
    from tests.support.leads import lead_body, post_lead

    configure_webhook_secrets(stack)
    post_job_event(stack, "job.created", customer={"email": "pat@example.com", "postcode": "3000"})
    assert post_lead(stack, lead_body(email="p\u0430t@example.com", phone=None, ref=None, cid=None)  # Cyrillic a
                     )["statusCode"] == 201
    [other] = stack.items_of_type("lead")

    erased = call(stack, "POST", "/admin/people/erase", body={"email": "pat@example.com", "note": "Request #9"},
                  claims=ADMIN_CLAIMS)

    # Then Pat's job entries are gone, exact and look-alike, and the look-alike's lead is untouched
    assert (json_body(erased)["leads"], json_body(erased)["jobs"]) == (0, 1)
    left = [i for i in stack.items() if i["pk"].startswith("CONTACT#")]
    assert {i["sk"] for i in left} == {f"LEAD#{other['lead_id']}"}
    assert stack.items_of_type("lead") == [other]


def test_export_and_erasure_find_an_approved_applicants_application(portal_stack):
    # Given an applicant who was approved (a referrer now), found by the application's peppered hashes
    from tests.integration.test_applications import admin, applied_and_verified

    stack = portal_stack
    application_id = applied_and_verified(stack, name="Jo Applicant", email="jo.applicant@example.com",
                                          phone="0412 333 444")
    assert admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})["statusCode"] == 200

    exported = json_body(call(stack, "GET", "/admin/people/export", query={"phone": "0412 333 444"}))
    assert [x["id"] for x in exported["applications"]] == [application_id] and len(exported["referrers"]) == 1

    erased = json_body(call(stack, "POST", "/admin/people/erase", body={"email": "jo.applicant@example.com",
                                                                      "note": "Request #11"}, claims=ADMIN_CLAIMS))
    assert (erased["applications"], erased["referrers"]) == (1, 1)
    everything = json.dumps(stack.items(), default=str).lower()
    for secret in ("jo.applicant", "jo applicant", "+61412333444", "1990-05-01"):
        assert secret not in everything
    assert not [i for i in stack.items() if i["pk"].startswith(("APPCONTACT#", "CONTACT#", "UNIQUE#APPEMAIL#"))]
    assert {"application.approved", "person.erased"} <= {i["action"] for i in stack.items_of_type("audit")}
