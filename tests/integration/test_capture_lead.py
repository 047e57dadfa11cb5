"""Quick Help capture in-process on moto: form and JSON posts, consent, attribution, limits, bad input."""

from __future__ import annotations

import json
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from referral_core import deps
from referral_core.bodies import validate
from referral_core.dal.leads import LeadRepository
from referral_core.errors import InvalidInput
from referral_core.models.leads import ReferAJobRequest
from referral_core.policy import POLICY_VERSION
from referral_core.services.leads import Requester, submit_refer_a_job
from tests.support.events import http_event, json_body, load_event
from tests.support.jobs import lead_inserted, referral
from tests.support.leads import (
    CAPTURE,
    DynamoCalls,
    create_referrer,
    flags_of,
    form_fields,
    lead_body,
    lead_items,
    post_form,
    post_lead,
    run_checks,
    update_code,
)

pytestmark = pytest.mark.integration

REDIRECT = "LinkRedirectFunction"


def set_env(stack, **values: str) -> None:
    """Override template settings of a function before its first invocation in the test."""
    for key, value in values.items():
        stack.env[key] = value
        stack.monkeypatch.setenv(key, value)


def click_through(stack, code: str) -> dict[str, str]:
    """Follow /r/{code} as a customer would; returns the ref/cid the landing receives."""
    response = stack.invoke(REDIRECT, http_event("GET", f"/r/{code}", route="/r/{code}",
                                                 path_params={"code": code}))
    assert response["statusCode"] == 302
    return {k: v[0] for k, v in parse_qs(urlsplit(response["headers"]["Location"]).query).items()}


def test_customer_from_a_share_link_sends_the_form_and_the_lead_is_attributed(stack):
    # Given a referrer's link that the customer clicked
    referrer = create_referrer(stack)
    carried = click_through(stack, referrer["code"])

    # When the Quick Help page opens with ref/cid
    event = load_event("capture_lead/get_quick_help_with_ref.json")
    event["queryStringParameters"] = carried
    event["rawQueryString"] = urlencode(carried)
    page = stack.invoke(CAPTURE, event)

    # Then the form carries them in hidden fields, shows the policy and asks for consent
    assert page["statusCode"] == 200
    assert page["headers"]["Content-Type"].startswith("text/html")
    html = page["body"]
    assert f'name="ref" value="{carried["ref"]}"' in html
    assert f'name="cid" value="{carried["cid"]}"' in html
    assert f'name="policy_version" value="{POLICY_VERSION}"' in html
    assert 'type="checkbox" id="consent_contact" name="consent_contact" required' in html
    assert "Never send passwords, PINs or banking codes" in html
    assert "eligible, not guaranteed" in html
    assert '<form method="post" action="/leads"' in html
    assert "<script" not in html

    # When the customer posts the form (no JavaScript: a url-encoded form post)
    response = post_form(stack, form_fields(**carried))

    # Then a thank-you page, and the lead is stored attributed, with a consent record
    assert response["statusCode"] == 201
    assert "Thanks, Sam Customer" in response["body"]
    [lead] = lead_items(stack)
    assert lead["source"] == "quick_help"
    assert lead["status"] == "received"
    assert (lead["ref"], lead["code"], lead["cid"]) == (referrer["code"], referrer["code"], carried["cid"])
    assert lead["referrer_id"] == referrer["referrer_id"]
    assert lead["ref_status"] == "attributed"
    assert lead["consent"] | {"given_at": "-"} == {
        "purpose": "contact_about_this_request", "policy_version": POLICY_VERSION, "given_at": "-",
        "given_by": "customer", "channel": "form"}
    # and the contact index is written beside it with hashes only; the referral item is not (stream's job)
    contacts = stack.items_of_type("contact")
    assert [(c["kind"], c["sk"]) for c in contacts] == [("email", f"LEAD#{lead['lead_id']}")] * 2
    assert {c["pk"] for c in contacts} == {f"CONTACT#{lead['email_hash']}", f"CONTACT#{lead['email_match_hash']}"}
    assert "sam@example.com" not in json.dumps(contacts)
    assert stack.items_of_type("referral") == []


def test_json_post_with_ref_and_cid_returns_201_with_lead_id(stack):
    referrer = create_referrer(stack)
    carried = click_through(stack, referrer["code"])

    response = post_lead(stack, lead_body(**carried, referred_by="Jo"))

    assert response["statusCode"] == 201
    body = json_body(response)
    assert body == {"lead_id": body["lead_id"], "status": "received"}
    [lead] = lead_items(stack)
    assert lead["lead_id"] == body["lead_id"]
    assert lead["phone"] == "+61412345678"
    assert lead["email"] == "sam@example.com"
    assert lead["referred_by"] == "Jo"  # a claim for staff, stored as given
    assert lead["consent"]["channel"] == "api"
    assert {c["kind"] for c in stack.items_of_type("contact")} == {"email", "phone"}


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"consent": None}, "consent"),
        ({"consent": {"contact": False, "policy_version": POLICY_VERSION}}, "consent.contact"),
        # Consent is the JSON value true: 1, 1.0 and "true" are not (issue 16)
        ({"consent": {"contact": 1, "policy_version": POLICY_VERSION}}, "consent.contact"),
        ({"consent": {"contact": 1.0, "policy_version": POLICY_VERSION}}, "consent.contact"),
        ({"consent": {"contact": "true", "policy_version": POLICY_VERSION}}, "consent.contact"),
        # NUL and other control characters are refused, not stored (issue 16); see the walk over every
        # text field in test_hostile_bodies.py
        ({"name": "Sam\x00 Lee"}, "name"),
        ({"name": "Sam\nLee"}, "name"),
        ({"issue": "Wi-Fi\x00 down"}, "issue"),
        ({"issue": "Wi-Fi \x1b[31mdown"}, "issue"),
        ({"referred_by": "Jo\x7f"}, "referred_by"),
        ({"consent": {"contact": True, "policy_version": "2020-01-01"}}, "consent.policy_version"),
        ({"email": None, "phone": None}, "email"),
        ({"email": "", "phone": " "}, "phone"),
        ({"phone": "12"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"postcode": "ABC"}, "postcode"),
        ({"name": ""}, "name"),
        ({"issue": "x" * 2001}, "issue"),
        ({"cid": "../etc"}, "cid"),
        ({"is_admin": True}, "is_admin"),
    ],
)
def test_bad_input_is_422_naming_the_field_and_writes_nothing(stack, changes, field):
    response = post_lead(stack, lead_body(**changes))
    assert response["statusCode"] == 422
    error = json_body(response)["error"]
    assert error["code"] == "invalid_input"
    assert field in error["fields"]
    assert lead_items(stack) == []


def test_multi_line_issue_text_keeps_its_line_breaks_and_tabs(stack):
    response = post_lead(stack, lead_body(issue="Laptop:\r\n\tno Wi-Fi\nsince Monday"))
    assert response["statusCode"] == 201, response
    assert [lead["issue"] for lead in stack.items_of_type("lead")] == ["Laptop:\r\n\tno Wi-Fi\nsince Monday"]


def test_a_form_post_with_a_nul_in_the_name_shows_the_form_again(stack):
    response = post_form(stack, form_fields(name="Sam\x00"))
    assert response["statusCode"] == 422
    assert "control characters" in response["body"]
    assert lead_items(stack) == []


def test_body_over_the_limit_is_413_before_parsing(stack):
    response = post_lead(stack, raw_body="{" + " " * (1024 * 1024) + "}",
                         headers={"content-type": "application/json"})
    assert response["statusCode"] == 413
    assert json_body(response)["error"]["code"] == "payload_too_large"
    assert lead_items(stack) == []


@pytest.mark.parametrize("content_type", ["text/plain", "multipart/form-data; boundary=x", "application/xml"])
def test_other_content_types_are_415(stack, content_type):
    response = post_lead(stack, raw_body=json.dumps(lead_body()), headers={"content-type": content_type})
    assert response["statusCode"] == 415
    assert json_body(response)["error"]["code"] == "unsupported_media_type"


def test_invalid_json_is_400(stack):
    response = post_lead(stack, raw_body="{nope", headers={"content-type": "application/json"})
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "malformed_request"


@pytest.mark.parametrize("ref", ["NOPE123", "../../x", "x"])
def test_unknown_code_still_saves_the_lead_without_attribution(stack, ref):
    response = post_lead(stack, lead_body(ref=ref))
    assert response["statusCode"] == 201
    [lead] = lead_items(stack)
    assert lead["ref_status"] == "unknown"
    assert "referrer_id" not in lead
    assert "code" not in lead


def test_disabled_code_still_saves_the_lead_without_attribution(stack):
    code = create_referrer(stack)["code"]
    update_code(stack, code, status="disabled")
    assert post_lead(stack, lead_body(ref=code))["statusCode"] == 201
    [lead] = lead_items(stack)
    assert (lead["ref"], lead["ref_status"]) == (code, "inactive")
    assert "referrer_id" not in lead


def test_code_with_max_uses_counts_each_lead_and_a_used_up_code_leaves_the_lead_unattributed(stack):
    code = create_referrer(stack)["code"]
    update_code(stack, code, max_uses=1)

    assert post_lead(stack, lead_body(ref=code))["statusCode"] == 201
    assert post_lead(stack, lead_body(ref=code, email="other@example.com"))["statusCode"] == 201

    first, second = lead_items(stack)
    assert first["ref_status"] == "attributed"
    assert first["code"] == code
    assert second["ref_status"] == "used_up"
    assert "referrer_id" not in second
    assert stack.items_of_type("share_code")[0]["uses"] == 1


# -- a share code typed in "who referred you?" (the share message says "or mention code X") ------------
def test_a_code_typed_in_who_referred_you_attributes_like_the_code_path(stack):
    # Given Quick Help, which asks for a name or referral code under "Who referred you?"
    page = stack.invoke(CAPTURE, load_event("capture_lead/get_quick_help_with_ref.json"))["body"]
    assert "Who referred you?" in page and "A name or referral code" in page
    # and a referrer's code that a friend typed (any case, spaces around) instead of clicking the link
    referrer = create_referrer(stack)
    code = referrer["code"]
    response = post_lead(stack, lead_body(ref=None, cid=None, referred_by=f"  {code.lower()} "))
    assert response["statusCode"] == 201

    # Then the lead is attributed at capture exactly as with ?ref=CODE, and says where the code came from
    [lead] = lead_items(stack)
    assert (lead["ref"], lead["code"], lead["referrer_id"], lead["ref_status"], lead["ref_via"]) == (
        code, code, referrer["referrer_id"], "attributed", "referred_by")

    # and the checks see no unclear source, and the resolver attributes it from source "code"
    assert run_checks(stack, lead) == {"batchItemFailures": []}
    assert "unclear_source" not in flags_of(stack, lead["lead_id"])
    assert lead_inserted(stack, lead) == {"batchItemFailures": []}
    stored = referral(stack, lead["lead_id"])
    assert (stored["stage"], stored["source"], stored["referrer_id"], stored["code"]) == (
        "received", "code", referrer["referrer_id"], code)
    assert [(e["source"], e["value"], e["accepted"]) for e in stored["attribution"]["evidence"]] == [
        ("code", code, True)]


@pytest.mark.parametrize("claim", ["Jo Referrer", "code {code}", "{code}X", "{code} please"])
def test_who_referred_you_that_is_not_exactly_a_code_stays_a_claim(stack, claim):
    code = create_referrer(stack)["code"]
    assert post_lead(stack, lead_body(ref=None, cid=None, referred_by=claim.format(code=code)))["statusCode"] == 201
    [lead] = lead_items(stack)
    assert lead["referred_by"] == claim.format(code=code)
    assert not {"ref", "code", "referrer_id", "ref_status", "ref_via"} & set(lead)


def test_a_typed_code_that_is_disabled_or_used_up_stays_a_claim(stack):
    disabled, used_up = create_referrer(stack)["code"], create_referrer(stack, email="kim@example.com")["code"]
    update_code(stack, disabled, status="disabled")
    update_code(stack, used_up, max_uses=1, uses=1)
    for n, code in enumerate((disabled, used_up)):
        body = lead_body(ref=None, cid=None, referred_by=code, email=f"c{n}@example.com")
        assert post_lead(stack, body)["statusCode"] == 201
    for lead in lead_items(stack):
        assert not {"ref", "code", "referrer_id", "ref_status"} & set(lead)


def test_a_typed_code_is_matched_only_when_public_and_live(stack):
    # Given a public live code, an expired one, a paused (disabled) one and a private one
    codes = {name: create_referrer(stack, email=f"{name}@example.com")["code"]
             for name in ("public", "expired", "paused", "private")}
    update_code(stack, codes["expired"], expires_at="2000-01-01T00:00:00Z")
    update_code(stack, codes["paused"], status="disabled")
    update_code(stack, codes["private"], visibility="private")
    # When a customer types each into "Who referred you?"
    for name, code in codes.items():
        body = lead_body(ref=None, cid=None, referred_by=code, email=f"c-{name}@example.com")
        assert post_lead(stack, body)["statusCode"] == 201
    leads = {lead["referred_by"]: lead for lead in lead_items(stack)}
    # Then only the public live code is matched like a link; the others stay text for staff
    public = leads[codes["public"]]
    assert (public["code"], public["ref_status"], public["ref_via"]) == (codes["public"], "attributed", "referred_by")
    for name in ("expired", "paused", "private"):
        assert not {"ref", "code", "referrer_id", "ref_status", "ref_via"} & set(leads[codes[name]]), name


def test_a_private_code_still_attributes_through_its_link(stack):
    code = create_referrer(stack)["code"]
    update_code(stack, code, visibility="private")
    assert post_lead(stack, lead_body(ref=code, cid=None))["statusCode"] == 201
    [lead] = lead_items(stack)
    assert (lead["code"], lead["ref_status"]) == (code, "attributed")
    assert "ref_via" not in lead


def test_a_typed_code_that_loses_the_race_for_its_last_use_goes_back_to_a_claim(stack, monkeypatch):
    # Given a code with one use left when capture reads it, taken by someone else before the write
    code = create_referrer(stack)["code"]
    update_code(stack, code, max_uses=1, uses=0)
    read = LeadRepository.get_code

    def stale_read(self, wanted):
        item = read(self, wanted)
        update_code(stack, code, uses=1)
        return item

    monkeypatch.setattr(LeadRepository, "get_code", stale_read)
    assert post_lead(stack, lead_body(ref=None, cid=None, referred_by=code))["statusCode"] == 201
    [lead] = lead_items(stack)
    assert lead["referred_by"] == code
    assert not {"ref", "code", "referrer_id", "ref_status", "ref_via"} & set(lead)


def test_with_a_link_s_code_a_different_typed_code_stays_a_claim(stack):
    link_code = create_referrer(stack)["code"]
    typed = create_referrer(stack, email="kim@example.com")["code"]
    assert post_lead(stack, lead_body(ref=link_code, cid=None, referred_by=typed))["statusCode"] == 201
    [lead] = lead_items(stack)
    assert (lead["code"], lead["referred_by"]) == (link_code, typed)
    assert "ref_via" not in lead
    assert run_checks(stack, lead) == {"batchItemFailures": []}
    assert flags_of(stack, lead["lead_id"])["unclear_source"]["evidence"]["reasons"] == [
        "claim_differs_from_code"]


def test_markup_in_fields_is_stored_inert_and_escaped_when_shown(stack):
    name = '<script>alert("x")</script> Sam'
    response = post_form(stack, form_fields(name=name, issue="<img src=x onerror=alert(1)>"))

    assert response["statusCode"] == 201
    assert "<script>alert" not in response["body"]
    assert "<img" not in response["body"]
    assert "Thanks, &lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; Sam" in response["body"]
    [lead] = lead_items(stack)
    assert lead["name"] == name  # stored as given (data, never markup); escaped wherever it is shown


def test_form_post_with_a_problem_shows_the_form_again_filled_in(stack):
    response = post_form(stack, form_fields(consent_contact=None, name="Sam <b>", phone="12"))

    assert response["statusCode"] == 422
    assert response["headers"]["Content-Type"].startswith("text/html")
    html = response["body"]
    assert 'role="alert"' in html
    assert 'id="phone"' in html
    assert 'aria-invalid="true"' in html
    assert 'value="Sam &lt;b&gt;"' in html  # re-filled, escaped
    assert 'href="#consent_contact"' in html
    assert "Tick the box to agree to be contacted." in html
    assert lead_items(stack) == []


def test_too_many_leads_from_one_ip_is_429_with_retry_after(stack):
    set_env(stack, MAX_LEADS_PER_IP="2")
    for index in range(2):
        assert post_lead(stack, lead_body(email=f"p{index}@example.com"))["statusCode"] == 201
    response = post_lead(stack, lead_body(email="p3@example.com"))
    assert response["statusCode"] == 429
    assert 1 <= int(response["headers"]["Retry-After"]) <= 3600
    assert post_lead(stack, lead_body(email="p4@example.com"), source_ip="198.51.100.9")["statusCode"] == 201
    assert len(lead_items(stack)) == 3
    assert "203.0.113.7" not in json.dumps(stack.items())  # only hashes of IPs are stored


def test_a_refused_capture_keeps_no_idempotency_record_so_its_key_works_once_allowed(stack):
    # Given an IP at its limit, a keyed request is refused inside the idempotent capture (429)
    set_env(stack, MAX_LEADS_PER_IP="1")
    assert post_lead(stack, lead_body(email="first@example.com"))["statusCode"] == 201
    headers = {"Idempotency-Key": "2f6c1b9e-0d4a-4e1b-8c3f-5a6b7c8d9e0f"}
    assert post_lead(stack, lead_body(email="second@example.com"), headers=headers)["statusCode"] == 429
    # Then Powertools deleted the in-progress record (the function needs dynamodb:DeleteItem on it) ...
    assert not [i for i in stack.items() if i["pk"] == "idempotency#capture_lead"]
    # ... so the same key, from an IP under its limit, captures the lead
    again = post_lead(stack, lead_body(email="second@example.com"), headers=headers, source_ip="198.51.100.9")
    assert again["statusCode"] == 201
    assert len(lead_items(stack)) == 2


def test_too_many_leads_for_one_code_is_429(stack):
    set_env(stack, MAX_LEADS_PER_CODE="1")
    code = create_referrer(stack)["code"]
    assert post_lead(stack, lead_body(ref=code))["statusCode"] == 201
    response = post_lead(stack, lead_body(ref=code, email="b@example.com"), source_ip="198.51.100.9")
    assert response["statusCode"] == 429
    assert "Retry-After" in response["headers"]
    assert len(lead_items(stack)) == 1


def test_idempotency_key_replays_the_first_answer_and_refuses_a_different_body(stack):
    headers = {"Idempotency-Key": "8d0e2c8e-3a5b-4f4c-9a57-1f2e3d4c5b6a"}
    first = post_lead(stack, lead_body(), headers=headers)
    again = post_lead(stack, lead_body(), headers=headers)

    assert first["statusCode"] == again["statusCode"] == 201
    assert json_body(first) == json_body(again)
    assert len(lead_items(stack)) == 1
    records = [i for i in stack.items() if i["pk"] == "idempotency#capture_lead"]
    assert len(records) == 1
    assert "expiration" in records[0]

    other = post_lead(stack, lead_body(issue="something else"), headers=headers)
    assert other["statusCode"] == 422
    assert "idempotency-key" in json_body(other)["error"]["fields"]
    assert len(lead_items(stack)) == 1


def test_policy_is_json_by_default_and_html_for_browsers(stack):
    as_json = stack.invoke(CAPTURE, load_event("capture_lead/get_policy.json"))
    assert as_json["statusCode"] == 200
    body = json_body(as_json)
    assert body["version"] == POLICY_VERSION
    for wording in ("eligible, not guaranteed", "manual review", "employment", "pressure or mislead",
                    "passwords, PINs or banking codes"):
        assert wording in body["text"]

    browser = http_event("GET", "/policy", headers={"accept": "text/html,application/xhtml+xml,*/*;q=0.8"})
    as_html = stack.invoke(CAPTURE, browser)
    assert as_html["headers"]["Content-Type"].startswith("text/html")
    assert f"Policy version {POLICY_VERSION}" in as_html["body"]


def test_logs_never_carry_raw_email_or_phone(stack, capsys, caplog):
    post_lead(stack, lead_body(email="private.person@example.com", phone="0412 999 888"))
    post_form(stack, form_fields(email="formy@example.com", phone="0412 777 666", consent_contact=None))
    from tests.support.leads import run_checks

    code = create_referrer(stack)["code"]
    post_lead(stack, lead_body(ref=code, email="private.person@example.com", phone="0412 999 888"))
    run_checks(stack, *lead_items(stack))

    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "lead captured" in logs
    assert "lead checked" in logs
    for secret in ("private.person", "formy@", "0412 999 888", "+61412999888", "412999888", "+61412777666"):
        assert secret not in logs


def test_a_lead_costs_at_most_three_dynamodb_calls(stack):
    code = create_referrer(stack)["code"]
    post_lead(stack, lead_body(email="warm@example.com"))  # cold start: settings, pepper
    calls = DynamoCalls()

    post_lead(stack, lead_body(ref=code, email="a@example.com"))
    with_ref = list(calls.operations)
    calls.reset()
    post_lead(stack, lead_body(ref=None, cid=None, email="b@example.com"))
    without_ref = list(calls.operations)
    calls.reset()
    post_lead(stack, lead_body(ref=None, cid=None, referred_by=code.lower(), email="c@example.com"))
    typed_code = list(calls.operations)
    calls.reset()
    post_lead(stack, lead_body(ref=None, cid=None, referred_by="Jo from Park St", email="d@example.com"))
    named = list(calls.operations)

    assert with_ref == typed_code == ["UpdateItem", "GetItem", "TransactWriteItems"]
    assert without_ref == named == ["UpdateItem", "TransactWriteItems"]


def test_refer_a_job_creates_a_lead_for_the_signed_in_referrer(stack):
    # Given a signed-in referrer (the portal wires POST /me/referrals to this service later)
    created = create_referrer(stack)
    profile = next(i for i in stack.items_of_type("referrer") if i["referrer_id"] == created["referrer_id"])
    stack.function(CAPTURE)  # the capture function's settings and environment
    rules = stack.function(CAPTURE).rules()
    repo = LeadRepository(deps.table())
    requester = Requester(source_ip="203.0.113.8", channel="portal")

    # When the friend did not agree, the request is refused naming friend_agreed
    data = {"friend_name": "Pat Friend", "friend_phone": "0412 000 111", "postcode": "3000", "issue": "Wi-Fi"}
    with pytest.raises(InvalidInput) as refused:
        validate(ReferAJobRequest, {**data, "friend_agreed": False})
    assert "friend_agreed" in refused.value.fields
    with pytest.raises(InvalidInput) as missing:
        validate(ReferAJobRequest, data)
    assert "friend_agreed" in missing.value.fields

    # When they pass on a friend who agreed
    result = submit_refer_a_job(profile, validate(ReferAJobRequest, {**data, "friend_agreed": True}), repo,
                                rules, requester)

    # Then the lead is the referrer's, with the friend's agreement recorded as consent
    [lead] = lead_items(stack)
    assert lead["lead_id"] == result.lead_id
    assert (lead["source"], lead["referrer_id"]) == ("refer_a_job", created["referrer_id"])
    assert lead["phone"] == "+61412000111"
    assert lead["consent"]["given_by"] == "referrer_for_friend"
    assert lead["consent"]["policy_version"] == POLICY_VERSION
    assert [c["kind"] for c in stack.items_of_type("contact")] == ["phone"]


def test_refer_a_job_needs_a_friend_contact(stack):
    stack.function(CAPTURE)
    rules = stack.function(CAPTURE).rules()
    request = validate(ReferAJobRequest, {"friend_name": "Pat", "postcode": "3000", "issue": "Wi-Fi",
                                          "friend_agreed": True})
    with pytest.raises(InvalidInput) as refused:
        submit_refer_a_job({"referrer_id": "r1", "status": "active"}, request,
                           LeadRepository(deps.table()), rules, Requester(source_ip="x", channel="portal"))
    assert set(refused.value.fields) == {"friend_email", "friend_phone"}


def test_quick_help_drops_ref_and_cid_that_do_not_look_right(stack):
    event = http_event("GET", "/quick-help", query={"ref": '"><script>', "cid": "a b"})
    html = stack.invoke(CAPTURE, event)["body"]
    assert 'name="ref" value=""' in html
    assert 'name="cid" value=""' in html
    assert "<script" not in html


def test_the_sample_events_work_as_they_are(stack):
    # The files in events/capture_lead are what `sam local invoke -e` uses.
    page = stack.invoke(CAPTURE, load_event("capture_lead/get_quick_help_with_ref.json"))
    assert page["statusCode"] == 200
    assert 'name="ref" value="K7QX3MZ"' in page["body"]
    assert stack.invoke(CAPTURE, load_event("capture_lead/get_policy.json"))["statusCode"] == 200
    assert stack.invoke(CAPTURE, load_event("capture_lead/post_lead_json.json"))["statusCode"] == 201
    assert stack.invoke(CAPTURE, load_event("capture_lead/post_lead_form.json"))["statusCode"] == 201
    assert {lead["ref_status"] for lead in lead_items(stack)} == {"unknown"}  # no such code here
