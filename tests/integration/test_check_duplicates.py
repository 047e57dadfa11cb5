"""Lead checks from the stream in-process on moto: one scenario per flag type, replays, poison records."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from referral_core import deps
from referral_core.clock import iso, now
from referral_core.dal.dynamo import Table
from referral_core.dal.leads import LeadRepository
from referral_core.hashing import email_hash
from referral_core.models.leads import ReferAJobRequest
from referral_core.services.leads import Requester, submit_refer_a_job
from tests.support.aws import PEPPER
from tests.support.events import http_event, load_event
from tests.support.leads import (
    CAPTURE,
    CHECK,
    DynamoCalls,
    create_referrer,
    flags_of,
    lead_body,
    lead_items,
    post_lead,
    put_item,
    run_checks,
    update_code,
)

pytestmark = pytest.mark.integration


def new_lead(stack, **changes) -> dict:
    """Capture one lead through POST /leads and return its stored item."""
    before = {lead["lead_id"] for lead in lead_items(stack)}
    source_ip = changes.pop("source_ip", "203.0.113.7")
    assert post_lead(stack, lead_body(cid=None, **changes), source_ip=source_ip)["statusCode"] == 201
    return next(lead for lead in lead_items(stack) if lead["lead_id"] not in before)


def test_the_sample_event_is_checked(stack):
    # events/check_duplicates/lead_insert.json: a lead whose code, click and referrer are unknown here
    assert stack.consume(CHECK, load_event("check_duplicates/lead_insert.json")) == {"batchItemFailures": []}
    assert set(flags_of(stack, "01JF0000000000000000000000")) == {"unclear_source"}


def test_duplicate_contact_flags_the_later_lead_only(stack):
    code = create_referrer(stack)["code"]
    first = new_lead(stack, ref=code)
    second = new_lead(stack, ref=code, phone=None, source_ip="198.51.100.1")  # same email

    assert run_checks(stack, first, second) == {"batchItemFailures": []}

    assert flags_of(stack, first["lead_id"]) == {}
    flag = flags_of(stack, second["lead_id"])["duplicate_contact"]
    assert (flag["severity"], flag["status"]) == ("medium", "open")
    match = {"contact": "email", "lead_id": first["lead_id"], "days_before": 0}
    assert flag["evidence"]["matches"] == [match]
    # and the referral is in the review queue, the lead untouched
    referral = next(r for r in stack.items_of_type("referral") if r["lead_id"] == second["lead_id"])
    assert (referral["review_status"], referral["gsi2pk"]) == ("open", "REVIEW#open")
    assert len(lead_items(stack)) == 2


def test_existing_customer_from_a_job_under_the_same_contact(stack):
    code = create_referrer(stack)["code"]
    lead = new_lead(stack, ref=code)
    put_item(stack, {"pk": f"CONTACT#{lead['phone_hash']}", "sk": "JOB#J-100", "type": "contact",
                     "kind": "phone", "job_id": "J-100", "created_at": "2025-01-01T00:00:00.000000Z"})

    run_checks(stack, lead)

    flag = flags_of(stack, lead["lead_id"])["existing_customer"]
    assert flag["evidence"]["matches"] == [{"contact": "phone", "job_id": "J-100"}]


def test_existing_customer_from_a_lead_older_than_the_duplicate_window(stack):
    code = create_referrer(stack)["code"]
    lead = new_lead(stack, ref=code)
    old = iso(now() - timedelta(days=200))
    put_item(stack, {"pk": f"CONTACT#{lead['email_hash']}", "sk": "LEAD#OLD", "type": "contact",
                     "kind": "email", "lead_id": "OLD", "created_at": old})

    run_checks(stack, lead)

    flags = flags_of(stack, lead["lead_id"])
    assert "duplicate_contact" not in flags
    assert flags["existing_customer"]["evidence"]["matches"][0]["lead_id"] == "OLD"


def test_self_referral_when_the_friend_is_the_referrer(stack):
    created = create_referrer(stack, email="jo@example.com", phone="0412 555 666")
    profile = stack.items_of_type("referrer")[0]
    module = stack.function(CAPTURE)
    request = ReferAJobRequest(friend_name="Also Jo", friend_email="Jo@Example.com", postcode="3000",
                               issue="Printer", friend_agreed=True)
    submit_refer_a_job(profile, request, LeadRepository(deps.table()), module.rules(),
                       Requester(source_ip="203.0.113.7", channel="portal"))
    [lead] = lead_items(stack)

    run_checks(stack, lead)

    flag = flags_of(stack, lead["lead_id"])["self_referral"]
    assert flag["severity"] == "high"
    assert flag["evidence"]["matches"] == [{"contact": "email", "via": "referrer_profile"}]
    assert created["referrer_id"] == lead["referrer_id"]


@pytest.mark.parametrize("look_alike", [
    "\uff4aohn.doe@example.com",   # fullwidth j
    "j\u043ehn.doe@example.com",   # Cyrillic o
    "jo\u0301hn.doe@example.com",  # combining acute accent
    "John.Doe+x@\u0415XAMPLE.com",  # case, +tag, Cyrillic E
])
def test_a_look_alike_email_is_a_duplicate_contact(stack, look_alike):
    code = create_referrer(stack)["code"]
    first = new_lead(stack, ref=code, email="john.doe@example.com", phone=None)
    second = new_lead(stack, ref=code, email=look_alike, phone=None, source_ip="198.51.100.1")

    run_checks(stack, first, second)

    assert flags_of(stack, first["lead_id"]) == {}
    flag = flags_of(stack, second["lead_id"])["duplicate_contact"]
    assert flag["evidence"]["matches"] == [
        {"contact": "email", "lead_id": first["lead_id"], "days_before": 0, "look_alike": True}]


def test_a_lead_stored_before_look_alike_keys_still_catches_its_duplicates(stack):
    # Given a lead as the code before look-alike keys stored it: the exact hash and its index entry only
    code = create_referrer(stack)["code"]
    earlier = iso(now() - timedelta(days=3))
    put_item(stack, {"pk": "LEAD#BEFORE", "sk": "LEAD", "type": "lead", "lead_id": "BEFORE", "created_at": earlier,
                     "email": "john.doe@example.com", "email_hash": email_hash(PEPPER, "john.doe@example.com")})
    put_item(stack, {"pk": f"CONTACT#{email_hash(PEPPER, 'john.doe@example.com')}", "sk": "LEAD#BEFORE",
                     "type": "contact", "kind": "email", "lead_id": "BEFORE", "created_at": earlier})

    # When the same person comes again after the change
    lead = new_lead(stack, ref=code, email="John.Doe+again@Example.com", phone=None)
    run_checks(stack, lead)

    # Then the exact key, unchanged, still finds the earlier lead
    flag = flags_of(stack, lead["lead_id"])["duplicate_contact"]
    assert flag["evidence"]["matches"] == [{"contact": "email", "lead_id": "BEFORE", "days_before": 3}]


def test_the_backfill_gives_contacts_stored_before_look_alike_keys_their_look_alike_entries(stack, tmp_path,
                                                                                           capsys):
    from scripts.backfill_look_alike_keys import main, run

    # Given a referrer profile and a lead stored before look-alike keys, and an erased lead
    code = create_referrer(stack, email="jo.smith@example.com")["code"]
    profile = stack.items_of_type("referrer")[0]
    table = Table(stack.table_name)
    table.update(profile["pk"], profile["sk"], "REMOVE email_match_hash")  # as profiles were stored
    earlier = iso(now() - timedelta(days=3))
    exact = email_hash(PEPPER, "john.doe@example.com")
    put_item(stack, {"pk": "LEAD#BEFORE", "sk": "LEAD", "type": "lead", "lead_id": "BEFORE", "created_at": earlier,
                     "email": "john.doe@example.com", "email_hash": exact, "postcode": "3000"})
    put_item(stack, {"pk": f"CONTACT#{exact}", "sk": "LEAD#BEFORE", "type": "contact", "kind": "email",
                     "lead_id": "BEFORE", "created_at": earlier})
    erased = {"pk": "LEAD#GONE", "sk": "LEAD", "type": "lead", "lead_id": "GONE", "created_at": earlier,
              "email": "[erased]", "postcode": "3000"}
    put_item(stack, erased)

    # When the backfill runs (twice: the second run finds nothing to do)
    assert run(table, PEPPER) == {"updated": 2, "skipped": 0}
    (tmp_path / "pepper").write_text(PEPPER)
    assert main(["--table", stack.table_name, "--pepper-file", str(tmp_path / "pepper")]) == 0
    assert json.loads(capsys.readouterr().out) == {"updated": 0, "skipped": 0}

    # Then look-alikes of both are caught, and the erased lead got nothing back
    twin = new_lead(stack, ref=code, email="\uff4aohn.doe@example.com", phone=None)  # fullwidth j
    selfie = new_lead(stack, ref=code, email="j\u043e.smith@example.com", phone=None,  # Cyrillic o
                      source_ip="198.51.100.1")
    run_checks(stack, twin, selfie)
    [match] = flags_of(stack, twin["lead_id"])["duplicate_contact"]["evidence"]["matches"]
    assert (match["lead_id"], match["look_alike"]) == ("BEFORE", True)
    assert flags_of(stack, selfie["lead_id"])["self_referral"]["evidence"]["matches"] == [
        {"contact": "email", "via": "referrer_profile", "look_alike": True}]
    assert next(i for i in lead_items(stack) if i["lead_id"] == "GONE") == erased


def test_a_look_alike_street_is_a_duplicate_address(stack):
    code = create_referrer(stack)["code"]
    first = new_lead(stack, ref=code, email=None, phone="0412 000 001", street="12 Main St")
    second = new_lead(stack, ref=code, email=None, phone="0412 000 002", street="12 M\u0430in St",  # Cyrillic a
                      source_ip="198.51.100.1")

    run_checks(stack, first, second)

    [match] = flags_of(stack, second["lead_id"])["duplicate_contact"]["evidence"]["matches"]
    assert (match["contact"], match["lead_id"], match["look_alike"]) == ("address", first["lead_id"], True)


def test_self_referral_when_the_friend_has_a_look_alike_of_the_referrers_email(stack):
    code = create_referrer(stack, email="jo.smith@example.com")["code"]
    lead = new_lead(stack, ref=code, email="j\u043e.smith@\uff45xample.com", phone=None)  # Cyrillic o, fullwidth e

    run_checks(stack, lead)

    flag = flags_of(stack, lead["lead_id"])["self_referral"]
    assert flag["severity"] == "high"
    assert flag["evidence"]["matches"] == [{"contact": "email", "via": "referrer_profile", "look_alike": True}]


def test_a_disposable_email_gets_a_low_flag_and_the_lead_is_kept(stack):
    code = create_referrer(stack)["code"]
    lead = new_lead(stack, ref=code, email="someone@mailinator.com", phone=None)  # 201: never refused

    run_checks(stack, lead)

    flag = flags_of(stack, lead["lead_id"])["disposable_email"]
    assert (flag["severity"], flag["evidence"]) == ("low", {"contact": "email", "domain": "mailinator.com"})
    assert [item["lead_id"] for item in lead_items(stack)] == [lead["lead_id"]]
    run_checks(stack, lead)  # a replay adds nothing
    assert len([f for f in stack.items_of_type("flag") if f["flag_type"] == "disposable_email"]) == 1


def test_velocity_per_ip_flags_leads_beyond_the_limit(stack):
    code = create_referrer(stack)["code"]
    leads = [new_lead(stack, ref=code, email=f"v{i}@example.com", phone=None) for i in range(4)]

    run_checks(stack, *leads)

    flagged = [lead["lead_id"] for lead in leads if "velocity" in flags_of(stack, lead["lead_id"])]
    assert flagged == [leads[3]["lead_id"]]  # VELOCITY_MAX_LEADS_PER_IP is 3 in the template
    evidence = flags_of(stack, leads[3]["lead_id"])["velocity"]["evidence"]
    assert evidence["matches"] == [{"scope": "ip", "leads_in_window": 4, "limit": 3, "window_hours": 72}]


def test_zone_mismatch_when_the_postcode_is_outside_the_codes_zones(stack):
    code = create_referrer(stack)["code"]
    update_code(stack, code, zones=["2000", "21*"])
    inside = new_lead(stack, ref=code, postcode="2150")
    outside = new_lead(stack, ref=code, postcode="3000", email="x@example.com", phone=None,
                       source_ip="198.51.100.2")

    run_checks(stack, inside, outside)

    assert "zone_mismatch" not in flags_of(stack, inside["lead_id"])
    flag = flags_of(stack, outside["lead_id"])["zone_mismatch"]
    assert flag["evidence"] == {"code": code, "postcode": "3000", "zones": ["2000", "21*"], "zone_mode": "flag"}


def test_unclear_source_when_the_claim_names_someone_else(stack):
    code = create_referrer(stack, name="Jo Smith")["code"]
    matching = new_lead(stack, ref=code, referred_by="my friend jo")
    other = new_lead(stack, ref=code, referred_by="Bob from the pub", email="y@example.com", phone=None,
                     source_ip="198.51.100.3")
    claim_only = new_lead(stack, ref=None, referred_by="Jo Smith", email="z@example.com", phone=None,
                          source_ip="198.51.100.4")

    run_checks(stack, matching, other, claim_only)

    assert "unclear_source" not in flags_of(stack, matching["lead_id"])
    differs = flags_of(stack, other["lead_id"])["unclear_source"]
    assert differs["severity"] == "medium"
    assert differs["evidence"]["reasons"] == ["claim_differs_from_code"]
    assert "Bob" not in json.dumps(differs)
    without_code = flags_of(stack, claim_only["lead_id"])["unclear_source"]
    assert without_code["evidence"]["reasons"] == ["claim_without_code"]


def test_unclear_source_when_the_click_was_for_another_code(stack):
    first = create_referrer(stack, email="a@example.com")["code"]
    second = create_referrer(stack, email="b@example.com")["code"]
    redirect = stack.invoke("LinkRedirectFunction", http_event("GET", f"/r/{first}", route="/r/{code}",
                                                               path_params={"code": first}))
    cid = redirect["headers"]["Location"].split("cid=")[1]
    lead = new_lead(stack, ref=second)
    lead_with_cid = {**lead, "cid": cid}  # the customer typed another code over the link's

    run_checks(stack, lead_with_cid)

    evidence = flags_of(stack, lead["lead_id"])["unclear_source"]["evidence"]
    assert evidence["reasons"] == ["click_code_differs"]
    assert (evidence["ref"], evidence["click_code"]) == (second, first)


def test_a_lead_without_any_referral_signal_is_not_checked(stack):
    new_lead(stack, ref=None)
    lead = new_lead(stack, ref=None, source_ip="198.51.100.5")  # a duplicate, but nobody claims a reward
    run_checks(stack, lead)
    assert stack.items_of_type("flag") == []
    assert stack.items_of_type("referral") == []


def test_rerunning_the_same_batch_creates_no_second_flag(stack):
    code = create_referrer(stack)["code"]
    update_code(stack, code, zones=["2000"])
    first = new_lead(stack, ref=code)
    second = new_lead(stack, ref=code, referred_by="Bob", source_ip="198.51.100.6")

    run_checks(stack, first, second)
    flags = sorted((f["lead_id"], f["flag_type"]) for f in stack.items_of_type("flag"))
    referral = stack.items_of_type("referral")
    run_checks(stack, first, second)

    assert sorted((f["lead_id"], f["flag_type"]) for f in stack.items_of_type("flag")) == flags
    assert {t for lead_id, t in flags if lead_id == second["lead_id"]} == {
        "duplicate_contact", "zone_mismatch", "unclear_source"}
    assert stack.items_of_type("referral") == referral  # not even updated_at moved


def test_a_poison_record_is_reported_alone(stack):
    code = create_referrer(stack)["code"]
    good = new_lead(stack, ref=code, referred_by="Bob")
    poison = {**good, "lead_id": "POISON", "pk": "LEAD#POISON"}
    del poison["created_at"]

    result = run_checks(stack, good, poison)

    assert result == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert set(flags_of(stack, good["lead_id"])) == {"unclear_source"}


def test_dynamodb_calls_per_stream_record(stack):
    code = create_referrer(stack)["code"]
    lead = new_lead(stack, ref=code)  # email + phone, code, ip: the usual referral lead
    run_checks(stack, new_lead(stack, ref=None, referred_by="warm", email="w@example.com", phone=None,
                               source_ip="198.51.100.7"))  # cold start
    calls = DynamoCalls()

    run_checks(stack, lead)

    # 1 BatchGetItem (code, referrer, click) + 3 Query (email exact and look-alike, phone)
    # + 2 UpdateItem (velocity windows)
    assert sorted(calls.operations) == ["BatchGetItem", "Query", "Query", "Query", "UpdateItem", "UpdateItem"]
