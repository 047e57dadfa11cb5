"""Becoming a referrer (issue 19, items 1 and 2): apply, confirm the email, a guardian's consent for a minor,
the abuse defences, and staff's queue and decisions (docs/applications.md)."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

import pytest

from referral_core import clock
from referral_core.dal.dynamo import Table
from referral_core.event_filters import matches_any
from referral_core.hashing import email_match_hash
from referral_core.policy import TERMS_VERSION
from referral_core.services import applications as applications_service
from tests.support.admin import seed_lead
from tests.support.aws import PEPPER
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body, load_event
from tests.support.portal import ADMIN, PORTAL, application_link, create_referrer
from tests.support.stream_pump import StreamPump
from tests.support.stream_pump import readers as stream_readers

pytestmark = pytest.mark.integration

ROUTE_VERIFY = "/applications/{application_id}/verification"
ROUTE_GUARDIAN = "/applications/{application_id}/guardian-consent"


def body(**changes: Any) -> dict[str, Any]:
    base = {"name": "Alex Taylor", "email": "alex@example.com", "phone": "0412 345 678", "postcode": "2000",
            "how_known": "A customer since 2021: you fixed my laptop.", "referrer_type": "ambassador",
            "date_of_birth": "1990-05-01", "accept_terms": True, "terms_version": TERMS_VERSION}
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def apply(stack, payload: dict[str, Any], source_ip: str = "203.0.113.7") -> dict[str, Any]:
    return stack.invoke(PORTAL, http_event("POST", "/applications", body=payload, source_ip=source_ip))


def verify(stack, application_id: str, token: str) -> dict[str, Any]:
    return stack.invoke(PORTAL, http_event("POST", f"/applications/{application_id}/verification",
                                           route=ROUTE_VERIFY, path_params={"application_id": application_id},
                                           body={"token": token}))


def consent(stack, application_id: str, token: str, **changes: Any) -> dict[str, Any]:
    payload = {"token": token, "guardian_name": "Sam Taylor", "consent": True, "terms_version": TERMS_VERSION,
               **changes}
    return stack.invoke(PORTAL, http_event("POST", f"/applications/{application_id}/guardian-consent",
                                           route=ROUTE_GUARDIAN, path_params={"application_id": application_id},
                                           body=payload))


def admin(stack, method: str, path: str, payload: Any = None, claims=STAFF_CLAIMS, **kwargs: Any) -> dict[str, Any]:
    return stack.invoke(ADMIN, http_event(method, path, body=payload, claims=claims, **kwargs))


def applied_and_verified(stack, **changes: Any) -> str:
    payload = body(**changes)
    assert apply(stack, payload)["statusCode"] == 202
    application_id, token = application_link(stack, payload["email"], "verify")
    assert verify(stack, application_id, token)["statusCode"] == 200
    return application_id


def queue(stack, **query: str) -> dict[str, Any]:
    response = admin(stack, "GET", "/admin/applications", query=query or None)
    assert response["statusCode"] == 200, response
    return dict(json_body(response))


# -- applying ----------------------------------------------------------------------------------------------
def test_the_sample_event_applies(portal_stack):
    # events/referrer_portal/post_application.json: what `sam local invoke -e` sends
    response = portal_stack.invoke(PORTAL, load_event("referrer_portal/post_application.json"))
    assert response["statusCode"] == 202, response
    assert application_link(portal_stack, "alex.taylor@example.com", "verify")


def test_the_terms_are_versioned_like_the_policy(portal_stack):
    response = portal_stack.invoke(PORTAL, http_event("GET", "/applications/terms"))
    assert response["statusCode"] == 200
    terms = json_body(response)
    assert terms["version"] == TERMS_VERSION and terms["paragraphs"] and "not guaranteed" in terms["text"]


def test_apply_stores_the_application_with_its_terms_and_emails_a_verification_link(portal_stack):
    stack = portal_stack
    response = apply(stack, body())
    assert response["statusCode"] == 202, response
    accepted = json_body(response)
    assert accepted["status"] == "pending_verification"
    (application,) = stack.items_of_type("application")
    assert application["application_id"] == accepted["application_id"]
    assert application["phone"] == "+61412345678" and application["referrer_type"] == "ambassador"
    assert application["terms"]["version"] == TERMS_VERSION and application["terms"]["channel"] == "web"
    assert application["minor"] is False and "gsi1pk" not in application  # not in staff's queue yet
    # The token is stored only as its peppered hash
    application_id, token = application_link(stack, "alex@example.com", "verify")
    (stored,) = stack.items_of_type("application_token")
    assert token not in str(stored) and stored["kind"] == "verify" and stored["expiration"] > 0
    assert application_id == accepted["application_id"]
    # and the unverified application is not shown to staff
    assert queue(stack)["items"] == []


def test_verifying_puts_it_in_the_queue_and_the_link_works_once(portal_stack):
    stack = portal_stack
    apply(stack, body())
    application_id, token = application_link(stack, "alex@example.com", "verify")
    done = verify(stack, application_id, token)
    assert done["statusCode"] == 200, done
    assert json_body(done)["email_verified"] is True and json_body(done)["status"] == "verified"
    (item,) = queue(stack)["items"]
    assert item["application_id"] == application_id and item["waiting_for_guardian"] is False
    assert item["flags"] == []
    # Used once: a second use, a wrong token or another application's id are refused
    assert verify(stack, application_id, token)["statusCode"] == 401
    assert verify(stack, application_id, "x" * 43)["statusCode"] == 401
    assert verify(stack, "nope", token)["statusCode"] == 404


def test_an_expired_link_is_refused(portal_stack):
    stack = portal_stack
    apply(stack, body())
    application_id, token = application_link(stack, "alex@example.com", "verify")
    (stored,) = stack.items_of_type("application_token")
    Table(stack.table_name).update(stored["pk"], stored["sk"], "SET expiration = :past", values={":past": 1})
    before = stack.items()
    assert verify(stack, application_id, token)["statusCode"] == 401
    assert stack.items() == before


def later(monkeypatch, by: timedelta) -> None:
    """Move the clock (referral_core.clock and the service's imported ``now``) forward."""
    moment = clock.now() + by
    monkeypatch.setattr(clock, "now", lambda: moment)
    monkeypatch.setattr(applications_service, "now", lambda: moment)


def test_an_unverified_application_and_its_guard_expire_and_verifying_keeps_them(portal_stack):
    stack = portal_stack
    assert apply(stack, body())["statusCode"] == 202
    (application,) = stack.items_of_type("application")
    created = clock.parse_iso(application["created_at"])
    week = clock.epoch(created + timedelta(days=7))
    guards = [i for i in stack.items() if i["pk"].startswith("UNIQUE#APPEMAIL#")]
    entries = stack.items_of_type("application_contact")
    assert application["expiration"] == week and [g["expiration"] for g in guards] == [week]
    assert len(entries) == 2 and {e["expiration"] for e in entries} == {week}
    (token,) = stack.items_of_type("application_token")
    assert token["expiration"] == clock.epoch(created + timedelta(hours=48))
    application_id, link = application_link(stack, "alex@example.com", "verify")
    assert verify(stack, application_id, link)["statusCode"] == 200
    # verified: nothing of it expires any more
    kept = [i for i in stack.items() if i["pk"].startswith(("APPLICATION#", "UNIQUE#APPEMAIL#", "APPCONTACT#"))]
    assert kept and not [i for i in kept if "expiration" in i]


def test_an_expired_unverified_application_is_absent_and_the_email_may_apply_again(portal_stack, monkeypatch):
    stack = portal_stack
    assert apply(stack, body())["statusCode"] == 202
    old_id, old_token = application_link(stack, "alex@example.com", "verify")
    later(monkeypatch, timedelta(days=7, seconds=1))  # DynamoDB has not deleted it yet (moto never does)
    again = apply(stack, body(name="Alex Again"))
    assert again["statusCode"] == 202, again
    new_id = json_body(again)["application_id"]
    assert new_id != old_id
    (guard,) = [i for i in stack.items() if i["pk"].startswith("UNIQUE#APPEMAIL#")]
    assert guard["application_id"] == new_id  # the old guard replaced in the create transaction
    assert verify(stack, old_id, old_token)["statusCode"] == 404  # the expired one is absent
    _, new_token = application_link(stack, "alex@example.com", "verify")
    assert verify(stack, new_id, new_token)["statusCode"] == 200
    assert [i["application_id"] for i in queue(stack)["items"]] == [new_id]


def test_a_live_guard_is_not_replaced_and_a_resent_link_never_outlives_the_application(portal_stack, monkeypatch):
    stack = portal_stack
    assert apply(stack, body())["statusCode"] == 202
    (application,) = stack.items_of_type("application")
    later(monkeypatch, timedelta(days=6, hours=23))
    before = {i["pk"] for i in stack.items() if i["pk"].startswith("APPLICATION#")}
    assert apply(stack, body())["statusCode"] == 409  # still live: the link is sent again
    assert {i["pk"] for i in stack.items() if i["pk"].startswith("APPLICATION#")} == before
    newest = max(stack.items_of_type("application_token"), key=lambda t: t["created_at"])
    assert newest["expiration"] == application["expiration"]


def test_a_filled_honeypot_gets_the_same_answer_and_nothing_is_stored_or_sent(portal_stack):
    stack = portal_stack
    before = stack.items()
    response = apply(stack, body(website="https://spam.example"))
    assert response["statusCode"] == 202
    assert set(json_body(response)) == set(json_body(apply(stack, body(email="real@example.com"))))
    assert [i for i in stack.items() if i not in before and i.get("email") == "alex@example.com"] == []
    assert [m for m in stack.sent_emails() if m["to"] == ["alex@example.com"]] == []


def test_applying_twice_with_the_same_email_is_a_409_and_writes_nothing(portal_stack):
    stack = portal_stack
    application_id = applied_and_verified(stack)
    before = [i for i in stack.items() if i["type"] != "rate"]
    response = apply(stack, body(email="ALEX@example.com", name="Alex Again"))
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["fields"] == {"email": "already applied"}
    assert [i for i in stack.items() if i["type"] != "rate"] == before
    assert [i["application_id"] for i in stack.items_of_type("application")] == [application_id]


def test_applying_again_before_confirming_sends_the_link_again_and_still_409(portal_stack):
    # Given an application whose verification email was lost
    stack = portal_stack
    assert apply(stack, body())["statusCode"] == 202
    first_id, first_token = application_link(stack, "alex@example.com", "verify")

    # When the person applies again
    response = apply(stack, body(name="Alex Again"))

    # Then it is still a 409 (one application), and a new link for the same application is emailed
    assert response["statusCode"] == 409
    assert "emailed the confirmation link again" in json_body(response)["error"]["message"]
    assert len(stack.items_of_type("application")) == 1
    again_id, again_token = application_link(stack, "alex@example.com", "verify")
    assert again_id == first_id and again_token != first_token
    assert verify(stack, again_id, again_token)["statusCode"] == 200


@pytest.mark.parametrize(("changes", "field"), [
    ({"phone": "12"}, "phone"), ({"postcode": "ABC"}, "postcode"), ({"email": "not-an-email"}, "email"),
    ({"terms_version": "2020-01-01"}, "terms_version"), ({"accept_terms": "true"}, "accept_terms"),
    ({"referrer_type": "staff"}, "referrer_type"), ({"referrer_type": "provider"}, "referrer_type"),
    ({"date_of_birth": None}, "date_of_birth"), ({"date_of_birth": "2999-01-01"}, "date_of_birth"),
    ({"date_of_birth": "2012-01-01"}, "guardian_email"),
    ({"date_of_birth": "2012-01-01", "guardian_email": "Alex@Example.com"}, "guardian_email"),
    ({"role": "staff"}, "role"),
])
def test_invalid_input_is_a_422_naming_the_field_and_nothing_is_saved(portal_stack, changes, field):
    stack = portal_stack
    response = apply(stack, body(**changes))
    assert response["statusCode"] == 422, response
    assert field in json_body(response)["error"]["fields"], json_body(response)
    assert stack.items_of_type("application") == [] and stack.items_of_type("unique") == []
    assert stack.sent_emails() == []


def test_per_ip_and_per_email_limits(portal_stack):
    stack = portal_stack
    for n in range(10):
        assert apply(stack, body(email=f"p{n}@example.com"), source_ip="198.51.100.9")["statusCode"] == 202
    limited = apply(stack, body(email="p10@example.com"), source_ip="198.51.100.9")
    assert limited["statusCode"] == 429 and int(limited["headers"]["Retry-After"]) > 0
    # per email: the same address from many addresses (each attempt counts, even the 409s)
    answers = [apply(stack, body(email="same@example.com"), source_ip=f"192.0.2.{n}")["statusCode"]
               for n in range(5)]
    assert answers == [202, 409, 409, 429, 429]


# -- flags -------------------------------------------------------------------------------------------------
def test_an_applicant_with_a_referrers_or_customers_contact_is_flagged_for_staff(portal_stack):
    stack = portal_stack
    create_referrer(stack, name="Jo Smith", email="jo@example.com")
    lead = seed_lead(stack, name="Pat Person", email="pat@example.com", phone="+61412555666")
    Table(stack.table_name).put({"pk": f"CONTACT#{email_match_hash(PEPPER, 'pat@example.com')}",
                                 "sk": f"LEAD#{lead.lead_id}", "type": "contact", "kind": "email",
                                 "lead_id": lead.lead_id, "created_at": "2026-01-01T00:00:00Z"})
    applied_and_verified(stack, email="jo@example.com", phone="0411 111 111")
    applied_and_verified(stack, email="pat.other@example.com", phone="0412 555 666")
    applied_and_verified(stack, email="p\u0430t@example.com", phone="0413 333 333")  # a Cyrillic a (U+0430)
    by_email = {item["email"]: item["flags"] for item in queue(stack)["items"]}
    assert by_email["jo@example.com"] == [{"type": "existing_referrer", "contact": "email", "look_alike": False,
                                           "matches": 1}]
    assert by_email["pat.other@example.com"] == [{"type": "existing_customer", "contact": "phone",
                                                  "look_alike": False, "matches": 1}]
    assert by_email["p\u0430t@example.com"] == [{"type": "existing_customer", "contact": "email", "look_alike": True,
                                                 "matches": 1}]


# -- guardian consent --------------------------------------------------------------------------------------
def test_a_minor_needs_a_guardians_consent_before_approval(portal_stack):
    stack = portal_stack
    payload = body(email="kid@example.com", date_of_birth=None, age_band="16_17", referrer_type="campus_helper",
                   guardian_email="parent@example.net")
    assert apply(stack, payload)["statusCode"] == 202
    # No guardian email before the applicant confirmed their own address
    assert [m for m in stack.sent_emails() if m["to"] == ["parent@example.net"]] == []
    application_id, token = application_link(stack, "kid@example.com", "verify")
    progress = json_body(verify(stack, application_id, token))
    assert progress["needs_guardian_consent"] is True and progress["guardian_consented"] is False
    (item,) = queue(stack)["items"]
    assert item["minor"] is True and item["waiting_for_guardian"] is True
    # Staff cannot approve yet
    refused = admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})
    assert refused["statusCode"] == 409
    assert json_body(refused)["error"]["fields"] == {"guardian_consent": "not given yet"}
    assert stack.items_of_type("referrer") == []
    # The guardian consents from their link, to the current terms, once
    _, guardian_token = application_link(stack, "parent@example.net", "guardian")
    assert consent(stack, application_id, guardian_token, terms_version="2020-01-01")["statusCode"] == 422
    assert consent(stack, application_id, "y" * 43)["statusCode"] == 401
    assert consent(stack, application_id, token)["statusCode"] == 401  # the applicant's own token is not it
    given = consent(stack, application_id, guardian_token)
    assert given["statusCode"] == 200, given
    assert json_body(given)["guardian_consented"] is True
    assert consent(stack, application_id, guardian_token)["statusCode"] == 401
    (item,) = queue(stack)["items"]
    assert item["waiting_for_guardian"] is False
    assert item["guardian_consent"]["terms_version"] == TERMS_VERSION and item["guardian_consent"]["given_at"]
    assert admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})["statusCode"] == 200


def test_the_minimum_age_is_a_programme_setting(portal_stack):
    stack = portal_stack
    program = json_body(admin(stack, "GET", "/admin/program"))
    assert program["rules"]["applications"] == {"minimum_age": 18}
    from tests.support.events import ADMIN_CLAIMS
    saved = admin(stack, "PUT", "/admin/program", {**program["rules"], "applications": {"minimum_age": 16},
                                                   "expected_version": program["version"]}, claims=ADMIN_CLAIMS)
    assert saved["statusCode"] == 200, saved
    today = date.today()
    seventeen = date(today.year - 17, 1, 1).isoformat() if today.month > 1 else date(today.year - 18, 1, 1).isoformat()
    assert apply(stack, body(date_of_birth=seventeen))["statusCode"] == 202  # no guardian needed at 16+
    assert stack.items_of_type("application")[0]["minor"] is False


# -- staff decisions ---------------------------------------------------------------------------------------
def test_approve_creates_the_referrer_with_their_type_code_and_welcome_email_once(portal_stack):
    stack = portal_stack
    application_id = applied_and_verified(stack, referrer_type="local_partner")
    pump = StreamPump(stack)
    pump.new_records()
    approved = admin(stack, "POST", f"/admin/applications/{application_id}/approve", {"note": "Known shop"})
    assert approved["statusCode"] == 200, approved
    decision = json_body(approved)
    assert decision["status"] == "approved" and decision["code"] and decision["link"].endswith(decision["code"])
    (profile,) = stack.items_of_type("referrer")
    assert profile["referrer_type"] == "local_partner" and profile["referrer_id"] == decision["referrer_id"]
    assert profile["phone"] == "+61412345678" and "role" not in profile  # a referrer, never staff or provider
    codes = stack.items_of_type("share_code")
    assert [c["code"] for c in codes] == [decision["code"]]
    # audited in the application's partition, by the staff member
    audits = [i for i in stack.items_of_type("audit") if i["pk"] == f"APPLICATION#{application_id}"]
    assert {a["action"] for a in audits} == {"application.verified", "application.approved"}
    assert next(a for a in audits if a["action"] == "application.approved")["actor"] == "staff:staff@example.com"
    # the applicant's contact now finds the referrer (later leads and applications)
    assert {i["sk"] for i in stack.items_of_type("contact")} == {f"REFERRER#{decision['referrer_id']}"}
    # the welcome email with their link, from the stream, as for every referrer
    answers = pump.dispatch(pump.new_records())
    assert answers and all(a == {"batchItemFailures": []} for a in answers), answers
    assert pump.parked() == []
    welcome = [m for m in stack.sent_emails() if m["subject"] == "Your referral link is ready"]
    assert len(welcome) == 1 and decision["link"] in welcome[0]["body"] and welcome[0]["to"] == ["alex@example.com"]
    # never twice, and it left the queue
    before = stack.items()
    again = admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})
    assert again["statusCode"] == 409 and stack.items() == before
    assert queue(stack)["items"] == []
    assert admin(stack, "POST", f"/admin/applications/{application_id}/decline", {"reason": "x"})["statusCode"] == 409


def test_approve_of_an_applicant_who_is_already_a_referrer_is_a_409_and_writes_nothing(portal_stack):
    stack = portal_stack
    application_id = applied_and_verified(stack)
    create_referrer(stack, name="Alex Taylor", email="alex@example.com")
    before = stack.items()
    response = admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})
    assert response["statusCode"] == 409
    assert stack.items() == before


def test_an_unverified_application_cannot_be_decided(portal_stack):
    stack = portal_stack
    application_id = json_body(apply(stack, body()))["application_id"]
    response = admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["fields"] == {"status": "pending_verification"}
    assert admin(stack, "POST", "/admin/applications/unknown/approve", {})["statusCode"] == 404


def test_decline_emails_the_reason_and_request_info_keeps_it_in_the_queue(portal_stack):
    stack = portal_stack
    first = applied_and_verified(stack)
    second = applied_and_verified(stack, email="kim@example.com", phone="0422 222 222")
    asked = admin(stack, "POST", f"/admin/applications/{first}/request-info",
                  {"message": "Which shop of ours did you visit?"})
    assert asked["statusCode"] == 200 and json_body(asked)["status"] == "info_requested"
    mail = [m for m in stack.sent_emails() if m["subject"] == "About your referrer application"]
    assert mail and "Which shop of ours did you visit?" in mail[0]["body"] and mail[0]["to"] == ["alex@example.com"]
    statuses = {i["application_id"]: i["status"] for i in queue(stack)["items"]}
    assert statuses == {first: "info_requested", second: "verified"}

    declined = admin(stack, "POST", f"/admin/applications/{second}/decline",
                     {"reason": "We only take referrers in our service area."})
    assert declined["statusCode"] == 200 and json_body(declined)["status"] == "declined"
    mail = [m for m in stack.sent_emails() if m["subject"] == "Your referrer application"]
    assert mail and "service area" in mail[0]["body"] and mail[0]["to"] == ["kim@example.com"]
    assert [i["application_id"] for i in queue(stack)["items"]] == [first]
    audit = [i for i in stack.items_of_type("audit") if i["pk"] == f"APPLICATION#{second}"
             and i["action"] == "application.declined"]
    assert audit and audit[0]["detail"]["reason"].startswith("We only")
    # after more information, it can still be approved
    assert admin(stack, "POST", f"/admin/applications/{first}/approve", {})["statusCode"] == 200


def test_the_queue_pages_with_the_one_cursor_codec_and_viewers_may_read_it(portal_stack):
    stack = portal_stack
    ids = [applied_and_verified(stack, email=f"a{n}@example.com", phone=f"0412 000 00{n}") for n in range(3)]
    page = queue(stack, limit="2")
    assert [i["application_id"] for i in page["items"]] == ids[:2] and page["next_cursor"]
    rest = queue(stack, limit="2", cursor=page["next_cursor"])
    assert [i["application_id"] for i in rest["items"]] == ids[2:] and rest["next_cursor"] is None
    bad = admin(stack, "GET", "/admin/applications", query={"cursor": "eyJwayI6IngifQ"})
    assert bad["statusCode"] == 400 and "cursor" in json_body(bad)["error"]["fields"]
    assert admin(stack, "GET", "/admin/applications", claims=VIEWER_CLAIMS)["statusCode"] == 200
    refused = admin(stack, "POST", f"/admin/applications/{ids[0]}/approve", {}, claims=VIEWER_CLAIMS)
    assert refused["statusCode"] == 403


# -- privacy ------------------------------------------------------------------------------------------------
def minor_with_consent(stack) -> str:
    payload = body(name="Kim Young", email="kim.young@example.com", phone="0412 111 222", date_of_birth="2010-03-04",
                   guardian_email="guardian.young@example.net")
    assert apply(stack, payload)["statusCode"] == 202
    application_id, token = application_link(stack, "kim.young@example.com", "verify")
    assert verify(stack, application_id, token)["statusCode"] == 200
    _, guardian_token = application_link(stack, "guardian.young@example.net", "guardian")
    assert consent(stack, application_id, guardian_token, guardian_name="Robin Young")["statusCode"] == 200
    return application_id


def people(stack, method: str, **data: str) -> dict[str, Any]:
    if method == "GET":
        response = admin(stack, "GET", "/admin/people/export", query=data)
    else:
        response = admin(stack, "POST", "/admin/people/erase", {**data, "note": "Request #7"}, claims=ADMIN_CLAIMS)
    assert response["statusCode"] == 200, response
    return dict(json_body(response))


def test_privacy_export_finds_applications_as_applicant_and_as_guardian(portal_stack):
    stack = portal_stack
    application_id = minor_with_consent(stack)
    by_phone = people(stack, "GET", phone="0412 111 222")
    (exported,) = by_phone["applications"]
    assert exported["id"] == application_id
    (record,) = [i for i in exported["items"] if i.get("type") == "application"]
    assert record["date_of_birth"] == "2010-03-04" and record["email"] == "kim.young@example.com"
    assert by_phone["guardian_of"] == []
    as_guardian = people(stack, "GET", email="guardian.young@example.net")
    assert as_guardian["applications"] == []
    (guarded,) = as_guardian["guardian_of"]
    (part,) = guarded["items"]
    assert guarded["id"] == application_id and part["guardian_email"] == "guardian.young@example.net"
    assert part["guardian_consent"]["guardian_name"] == "Robin Young"
    assert "2010-03-04" not in str(as_guardian) and "kim.young" not in str(as_guardian)  # the minor's own details


def test_erasing_a_guardian_keeps_the_consent_record_and_the_applicants_details(portal_stack):
    stack = portal_stack
    application_id = minor_with_consent(stack)
    summary = people(stack, "POST", email="guardian.young@example.net")
    assert (summary["applications"], summary["guardian_of"]) == (0, 1)
    (item,) = stack.items_of_type("application")
    assert item["guardian_email"] == "[erased]" and "guardian_email_hash" not in item
    assert item["guardian_consent"]["guardian_name"] == "[erased]"
    assert item["guardian_consent"]["terms_version"] == TERMS_VERSION and item["guardian_consent"]["given_at"]
    assert item["email"] == "kim.young@example.com" and item["status"] == "verified"
    assert "guardian.young" not in str(stack.items()) and "Robin Young" not in str(stack.items())
    assert [i["role"] for i in stack.items_of_type("application_contact")] == ["applicant", "applicant"]
    assert people(stack, "GET", email="guardian.young@example.net")["guardian_of"] == []
    assert application_id in str(queue(stack))


def test_erasing_an_applicant_erases_the_application_and_keeps_its_audit(portal_stack):
    stack = portal_stack
    minor_with_consent(stack)
    summary = people(stack, "POST", email="kim.young@example.com")
    assert summary["applications"] == 1 and summary["lookups_deleted"] >= 4  # 3 index entries + the guard
    (item,) = stack.items_of_type("application")
    assert item["status"] == "erased" and "gsi1pk" not in item
    everything = str(stack.items()).lower()
    for secret in ("kim.young", "kim young", "2010-03-04", "+61412111222", "guardian.young", "robin young"):
        assert secret not in everything
    assert not [i for i in stack.items() if i["pk"].startswith(("APPCONTACT#", "UNIQUE#APPEMAIL#"))]
    assert not [k for k in item if k.endswith("_hash")]
    assert item["terms"]["version"] == TERMS_VERSION and item["guardian_consent"]["given_at"]
    assert {"application.verified", "application.guardian_consented", "person.erased"} <= {
        i["action"] for i in stack.items_of_type("audit")}
    assert queue(stack)["items"] == []
    # and the address may apply again
    assert apply(stack, body(email="kim.young@example.com"))["statusCode"] == 202


def test_the_page_is_served_with_a_strict_csp(portal_stack):
    response = portal_stack.invoke(PORTAL, http_event("GET", "/become-a-referrer"))
    assert response["statusCode"] == 200
    csp = response["headers"]["Content-Security-Policy"]
    assert "script-src 'sha256-" in csp and "'unsafe-inline'" not in csp and "trusted-types 'none'" in csp
    html = response["body"]
    assert 'name="website"' in html and 'id="apply-form"' in html and "<script" in html


def test_no_contact_detail_date_of_birth_or_token_is_logged(portal_stack, capsys, caplog, monkeypatch):
    # Every application flow, with the stream's records delivered to its reader as the event source would:
    # a minor (date of birth, guardian) applies, verifies, is consented to and approved; another applicant
    # is asked for information and declined; an unverified one expires and applies again; staff export and
    # erase an applicant.
    stack = portal_stack
    pump = StreamPump(stack)
    minor = body(name="Secret Minor", email="secret.minor@example.com", phone="0412 987 654",
                 date_of_birth="2010-03-04", guardian_email="secret.guardian@example.net")
    assert apply(stack, minor)["statusCode"] == 202
    assert apply(stack, minor)["statusCode"] == 409  # the link sent again
    application_id, token = application_link(stack, "secret.minor@example.com", "verify")
    assert verify(stack, application_id, token)["statusCode"] == 200
    _, guardian_token = application_link(stack, "secret.guardian@example.net", "guardian")
    assert consent(stack, application_id, guardian_token, guardian_name="Secret Guardian")["statusCode"] == 200
    assert admin(stack, "POST", f"/admin/applications/{application_id}/approve", {})["statusCode"] == 200
    other = applied_and_verified(stack, name="Quiet Other", email="quiet.other@example.org", phone="0413 222 333",
                                 date_of_birth="1988-07-09")
    assert admin(stack, "POST", f"/admin/applications/{other}/request-info",
                 {"message": "Which shop do you run?"})["statusCode"] == 200
    assert admin(stack, "POST", f"/admin/applications/{other}/decline", {"reason": "Outside our area"}
                 )["statusCode"] == 200
    records = pump.new_records()
    images = [r for r in records if r["dynamodb"].get("NewImage", {}).get("type", {}).get("S", "").startswith(
        "application")]
    assert images and "2010-03-04" in str(images)  # the stream images hold them (like a lead's contact) ...
    answers = pump.dispatch(records)  # ... but the reader's filter never lets an application record in
    assert all(a == {"batchItemFailures": []} for a in answers), answers
    (reader,) = stream_readers()
    assert not [r for r in images if matches_any(reader.filter_patterns, r)]
    pump.drain()
    assert apply(stack, body(email="late.applicant@example.com", phone="0414 555 666"))["statusCode"] == 202
    later(monkeypatch, timedelta(days=8))
    assert apply(stack, body(email="late.applicant@example.com", phone="0414 555 666"))["statusCode"] == 202
    assert admin(stack, "GET", "/admin/people/export", query={"email": "quiet.other@example.org"}
                 )["statusCode"] == 200
    assert admin(stack, "POST", "/admin/people/erase", {"email": "secret.guardian@example.net", "note": "Req 1"},
                 claims=ADMIN_CLAIMS)["statusCode"] == 200
    assert admin(stack, "POST", "/admin/people/erase", {"phone": "0413 222 333", "note": "Req 2"},
                 claims=ADMIN_CLAIMS)["statusCode"] == 200
    pump.drain()
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "application received" in logs
    for secret in ("secret.minor", "secret.guardian", "Secret Minor", "Secret Guardian", "quiet.other",
                   "Quiet Other", "late.applicant", "2010-03-04", "1988-07-09", "0412 987 654", "+61412987654",
                   "412987654", "413222333", "414555666", "Which shop", "Outside our area", token,
                   guardian_token):
        assert secret not in logs, secret
