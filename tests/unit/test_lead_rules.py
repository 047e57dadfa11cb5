"""Lead capture and lead-check rules without AWS: bodies, forms, zones, claims, contact matches."""

from __future__ import annotations

import base64
import json

import pytest

from referral_core.bodies import FORM, read_submission, validate
from referral_core.errors import InvalidInput, MalformedRequest, PayloadTooLarge, UnsupportedMediaType
from referral_core.models.leads import LeadRequest, lead_fields_from_form
from referral_core.policy import POLICY_VERSION, policy_document
from referral_core.services.lead_checks import (
    CheckRules,
    claim_matches,
    contact_findings,
    is_referral_candidate,
    self_referral_finding,
    source_finding,
)
from referral_core.services.leads import Contact, carried_params, contact_refs
from referral_core.stages import FlagType, Severity

pytestmark = pytest.mark.unit

RULES = CheckRules(duplicate_window_days=90, velocity_window_hours=72, max_leads_per_code=10,
                   max_leads_per_ip=3)


def event(body: str, content_type: str = "application/json", *, b64: bool = False) -> dict:
    return {"headers": {"Content-Type": content_type}, "isBase64Encoded": b64,
            "body": base64.b64encode(body.encode()).decode() if b64 else body}


class TestBodies:
    def test_json_and_form_bodies_become_dicts(self):
        assert read_submission(event('{"a": 1}'), max_bytes=100).data == {"a": 1}
        form = read_submission(event("a=1&b=&c=%3Cx%3E", f"{FORM}; charset=utf-8", b64=True), max_bytes=100)
        assert form.is_form
        assert form.data == {"a": "1", "b": "", "c": "<x>"}

    @pytest.mark.parametrize(("body", "b64"), [("x" * 101, False), ("x" * 101, True)])
    def test_too_large_is_refused_before_parsing(self, body, b64):
        with pytest.raises(PayloadTooLarge):
            read_submission(event(body, b64=b64), max_bytes=100)

    @pytest.mark.parametrize("content_type", ["", "text/plain", "multipart/form-data"])
    def test_other_media_types_are_refused(self, content_type):
        with pytest.raises(UnsupportedMediaType):
            read_submission(event("{}", content_type), max_bytes=100)

    @pytest.mark.parametrize("body", ["{", "[1]", "\"x\""])
    def test_json_must_be_an_object(self, body):
        with pytest.raises(MalformedRequest):
            read_submission(event(body), max_bytes=100)

    def test_validation_errors_name_nested_fields(self):
        with pytest.raises(InvalidInput) as refused:
            validate(LeadRequest, {"name": "A", "postcode": "3000", "issue": "x",
                                   "consent": {"contact": False, "policy_version": "v"}})
        assert set(refused.value.fields) == {"consent.contact"}


def test_a_form_post_maps_the_checkbox_to_consent_and_ignores_unknown_fields():
    data = lead_fields_from_form({"name": "A", "consent_contact": "on", "policy_version": POLICY_VERSION,
                                  "submit": "Send"})
    assert data == {"name": "A", "consent": {"contact": True, "policy_version": POLICY_VERSION}}
    assert lead_fields_from_form({})["consent"] == {"contact": False, "policy_version": ""}


def test_empty_optional_form_fields_are_absent():
    request = LeadRequest.model_validate({"name": "A", "email": " ", "phone": "", "postcode": "3000",
                                          "issue": "x", "ref": "", "cid": "",
                                          "consent": {"contact": True, "policy_version": "v"}})
    assert (request.email, request.phone, request.ref, request.cid) == (None, None, None, None)


def test_policy_document_carries_the_version_and_the_wording():
    document = policy_document()
    assert document["version"] == POLICY_VERSION
    assert "not guaranteed" in str(document["text"])


def test_carried_params_keep_only_code_and_click_shapes():
    assert carried_params("k7qx3mz", "abc_123") == ("K7QX3MZ", "abc_123")
    assert carried_params('"><b>', "a b") == (None, None)
    assert carried_params(None, None) == (None, None)


def test_contact_hashes_normalise_before_hashing():
    one = Contact(name="A", email="Jo.Smith+x@gmail.com", phone="+61412345678", postcode="3000",
                  street="12  Main St.", issue="x")
    two = Contact(name="B", email="josmith@googlemail.com", phone="+61412345678", postcode="3000",
                  street="12 main st", issue="y")
    assert contact_refs("p", one) == contact_refs("p", two)
    # exact and look-alike entries (a phone in E.164 has no look-alikes)
    assert [ref.kind for ref in contact_refs("p", one)] == ["email", "email", "phone", "address", "address"]
    assert contact_refs("other-pepper", one) != contact_refs("p", one)


@pytest.mark.parametrize(
    ("claim", "allowed"),
    [("Jo", True), ("my friend jo smith", True), ("K7QX3MZ", True), ("Bob", False), ("J", False)],
)
def test_claim_matches_code_or_a_name_word(claim, allowed):
    assert claim_matches(claim, code="K7QX3MZ", referrer_name="Jo Smith") is allowed


LEAD = {"lead_id": "L2", "created_at": "2026-11-23T00:00:00.000000Z", "referrer_id": "R1", "ref": "K7QX3MZ",
        "code": "K7QX3MZ", "ref_status": "attributed", "email_hash": "e", "phone_hash": "p"}


def contact(sk: str, created_at: str = "2026-11-20T00:00:00.000000Z") -> dict:
    return {"sk": sk, "created_at": created_at}


class TestContactFindings:
    def test_earlier_recent_lead_is_duplicate_older_one_or_job_is_existing_customer(self):
        matches = {
            "email": [contact("LEAD#L2", LEAD["created_at"]), contact("LEAD#L1"),
                      contact("LEAD#L0", "2026-01-01T00:00:00.000000Z")],
            "phone": [contact("JOB#J9"), contact("LEAD#L3", "2026-11-24T00:00:00.000000Z")],
        }
        found = {f.flag_type: f for f in contact_findings(LEAD, matches, RULES)}
        assert set(found) == {FlagType.DUPLICATE_CONTACT, FlagType.EXISTING_CUSTOMER}
        assert found[FlagType.DUPLICATE_CONTACT].evidence["matches"] == [
            {"contact": "email", "lead_id": "L1", "days_before": 3}]
        assert found[FlagType.EXISTING_CUSTOMER].evidence["count"] == 2

    def test_contact_index_entry_of_the_referrer_is_self_referral(self):
        [finding] = contact_findings(LEAD, {"phone": [contact("REFERRER#R1")]}, RULES)
        assert (finding.flag_type, finding.severity) == (FlagType.SELF_REFERRAL, Severity.HIGH)
        assert contact_findings(LEAD, {"phone": [contact("REFERRER#R2")]}, RULES) == []


def test_self_referral_from_the_profile_hashes():
    assert self_referral_finding(LEAD, {"email_hash": "e", "phone_hash": None}) is not None
    assert self_referral_finding(LEAD, {"email_hash": "x"}) is None
    assert self_referral_finding(LEAD, None) is None


class TestSourceFinding:
    def test_consistent_sources_are_clear(self):
        assert source_finding({**LEAD, "cid": "c"}, {"code": "K7QX3MZ"}, {"name": "Jo"}) is None

    @pytest.mark.parametrize(
        ("changes", "click", "reasons", "severity"),
        [
            ({"cid": "c"}, None, ["click_not_found"], Severity.LOW),
            ({"cid": "c"}, {"code": "OTHER12"}, ["click_code_differs"], Severity.MEDIUM),
            ({"referred_by": "Bob"}, None, ["claim_differs_from_code"], Severity.MEDIUM),
            ({"referrer_id": None, "code": None, "ref": None, "referred_by": "Jo"}, None,
             ["claim_without_code"], Severity.LOW),
            ({"referrer_id": None, "code": None, "ref_status": "used_up"}, None, ["code_used_up"],
             Severity.LOW),
        ],
    )
    def test_conflicts_and_unusable_sources(self, changes, click, reasons, severity):
        finding = source_finding({**LEAD, **changes}, click, {"name": "Jo Smith"})
        assert finding is not None
        assert (finding.evidence["reasons"], finding.severity) == (reasons, severity)
        assert "Bob" not in json.dumps(finding.evidence)


def test_only_leads_with_a_referral_signal_are_checked():
    assert is_referral_candidate({"referred_by": "Jo"})
    assert not is_referral_candidate({"email_hash": "e", "ref": None})
