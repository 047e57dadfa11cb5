"""AttributeReferralFunction in-process on moto: the attribution scenario table, job linking and stages,
replays and concurrency. Leads, clicks and codes are seeded to the data-model contract."""

from __future__ import annotations

import pytest

from referral_core.dal.dynamo import deserialize
from tests.support.events import load_event, stream_event, stream_record
from tests.support.jobs import (
    ATTRIBUTE,
    MISSING_JOBS,
    WEBHOOK,
    configure_webhook_secrets,
    contact_hashes,
    invoke_concurrently,
    iso_days_ago,
    item,
    job_body,
    job_changed,
    lead_inserted,
    post_job_event,
    put,
    referral,
    seed_click,
    seed_lead,
    seed_legacy_program,
    seed_program,
    signed_event,
)

pytestmark = pytest.mark.integration

R1, R2, R3 = "R-CODE", "R-CLICK", "R-FRIEND"
SCHEDULED = load_event("flag_missing_job_links/scheduled.json")


def given_code_lead(stack, **kwargs):
    return seed_lead(stack, ref="K7QX3MZ", code_valid=True, referrer_id=R1, **kwargs)


def click_lead(stack, days_ago, **kwargs):
    seed_click(stack, "cid-1", "QRPARK2", R2, iso_days_ago(days_ago))
    return seed_lead(stack, cid="cid-1", **kwargs)


def code_and_other_click(stack):
    seed_click(stack, "cid-1", "QRPARK2", R2, iso_days_ago(3))
    return given_code_lead(stack, cid="cid-1")


def refer_a_job_then_direct(stack):
    first = seed_lead(stack, source="refer_a_job", referrer_id=R3, created_at=iso_days_ago(5))
    lead_inserted(stack, first)
    return seed_lead(stack)  # the same customer later asks directly, no code


def claim_only(stack):
    return seed_lead(stack, referred_by="my neighbour Jo from Park St")


def existing_customer(stack):
    put(stack, {"pk": f"CONTACT#{contact_hashes('sam.customer@example.com')['email_hash']}",
                "sk": "JOB#OLD-1", "type": "contact", "job_id": "OLD-1", "created_at": iso_days_ago(400)})
    return given_code_lead(stack)


SCENARIOS = [
    # id, arrange, expected (stage, referrer, source, code, review reason or not-eligible reason)
    ("code_only", given_code_lead, ("received", R1, "code", "K7QX3MZ", None)),
    ("click_only", lambda s: click_lead(s, 10), ("received", R2, "link", "QRPARK2", None)),
    ("click_expired", lambda s: click_lead(s, 91), None),
    ("code_and_different_click", code_and_other_click,
     ("under_review", R2, "link", "QRPARK2", "conflicting_sources")),
    ("refer_a_job_then_direct_lead", refer_a_job_then_direct, ("received", R3, "referral_form", None, None)),
    ("claim_only", claim_only, ("under_review", None, None, None, "claim_only")),
    ("existing_customer", existing_customer, ("not_eligible", R1, "code", "K7QX3MZ", "existing_customer")),
]


@pytest.mark.parametrize(("arrange", "expected"), [s[1:] for s in SCENARIOS], ids=[s[0] for s in SCENARIOS])
def test_attribution_scenarios(stack, arrange, expected):
    # Given the lead of the scenario; When its INSERT reaches the resolver
    lead = arrange(stack)
    response = lead_inserted(stack, lead)
    assert response == {"batchItemFailures": []}

    # Then the referral (if any) carries the expected decision and its evidence chain
    stored = referral(stack, lead["lead_id"])
    if expected is None:
        assert stored is None
        assert item(stack, f"LEAD#{lead['lead_id']}", "AWAITING_JOB") is None
        return
    stage, referrer_id, source, code, reason = expected
    assert stored["stage"] == stage
    assert stored.get("referrer_id") == referrer_id
    assert stored.get("source") == source
    assert stored.get("code") == code
    assert stored["progress_stage"] == "received"
    assert stored["masked_name"] == "Sa C."
    assert stored["postcode"] == "3000"
    assert stored["attribution"]["model"] == "last_touch"  # the one default (no programme saved)
    assert stored["attribution"]["evidence"], "the decision keeps its evidence"
    if referrer_id:
        assert stored["gsi1pk"] == f"REFERRER#{referrer_id}#REFERRALS"
        assert stored["gsi1sk"] == f"{lead['created_at']}#{lead['lead_id']}"
    else:
        assert "gsi1pk" not in stored
    flag = item(stack, f"LEAD#{lead['lead_id']}", "FLAG#unclear_source")
    if stage == "under_review":
        assert flag["evidence"]["reason"] == reason
        assert stored["review_status"] == "open"
    else:
        assert flag is None
    if stage == "not_eligible":
        assert stored["not_eligible_reason"] == reason
    awaiting = item(stack, f"LEAD#{lead['lead_id']}", "AWAITING_JOB")
    assert (awaiting is None) == (stage == "not_eligible")


def test_click_outside_the_window_is_refused_in_the_evidence_when_a_code_decides(stack):
    seed_click(stack, "cid-1", "QRPARK2", R2, iso_days_ago(120))
    lead = given_code_lead(stack, cid="cid-1")
    lead_inserted(stack, lead)
    evidence = referral(stack, lead["lead_id"])["attribution"]["evidence"]
    assert [(e["source"], e["accepted"], e["reason"]) for e in evidence] == [
        ("code", True, "valid code"), ("link", False, "outside_attribution_window")]
    assert referral(stack, lead["lead_id"])["stage"] == "received"


def test_programme_window_and_precedence_are_used(stack):
    # Given a programme saved as staff save it, that puts codes before links and keeps clicks 200 days
    seed_program(stack, {"window_days": 200, "precedence": ["code", "link", "referral_form", "referred_by"]})
    seed_click(stack, "cid-1", "QRPARK2", R1, iso_days_ago(150))
    lead = given_code_lead(stack, cid="cid-1")
    lead_inserted(stack, lead)
    stored = referral(stack, lead["lead_id"])
    assert (stored["source"], stored["referrer_id"], stored["stage"]) == ("code", R1, "received")
    assert [(e["source"], e["accepted"]) for e in stored["attribution"]["evidence"]] == [
        ("code", True), ("link", True)]  # the 150-day-old click is inside the saved window
    assert (stored["attribution"]["window_days"], stored["attribution"]["program_version"]) == (200, 1)


def test_returning_customer_via_a_then_b_stays_with_b_under_the_default_last_touch(stack):
    # Regression (issue 16): staff chose last touch (the default GET /admin/program shows), but the
    # resolver read a key that was never written and kept the customer with their first referrer.
    R_A, R_B = "R-A", "R-B"
    first = seed_lead(stack, ref="ACODE01", code_valid=True, referrer_id=R_A, created_at=iso_days_ago(20))
    lead_inserted(stack, first)
    seed_program(stack, {"model": "last_touch"})
    second = seed_lead(stack, ref="BCODE02", code_valid=True, referrer_id=R_B)
    lead_inserted(stack, second)
    stored = referral(stack, second["lead_id"])
    assert (stored["referrer_id"], stored["code"], stored["source"]) == (R_B, "BCODE02", "code")
    assert stored["attribution"]["evidence"][-1] | {"at": None} == {
        "source": "code", "value": first["lead_id"], "referrer_id": R_A, "at": None, "accepted": False,
        "reason": "last_touch: a later source wins"}


def test_a_programme_stored_in_the_old_top_level_shape_still_applies(stack):
    # Given an item written before issue 16: top-level attribution, the old names, no rules, no version
    seed_legacy_program(stack, {"model": "first_touch", "window_days": 200,
                                "precedence": ["code", "click", "refer_a_job", "claim"]})
    seed_click(stack, "cid-1", "QRPARK2", R1, iso_days_ago(150))
    lead = given_code_lead(stack, cid="cid-1")
    lead_inserted(stack, lead)
    stored = referral(stack, lead["lead_id"])
    assert (stored["source"], stored["attribution"]["model"]) == ("code", "first_touch")
    assert stored["attribution"]["window_days"] == 200


@pytest.mark.parametrize(("model", "expected"), [("first_touch", R3), ("last_touch", R1)])
def test_returning_customer_binds_to_first_or_last_touch(stack, model, expected):
    seed_program(stack, {"model": model})
    lead_inserted(stack, seed_lead(stack, source="refer_a_job", referrer_id=R3, created_at=iso_days_ago(5)))
    later = given_code_lead(stack)
    lead_inserted(stack, later)
    assert referral(stack, later["lead_id"])["referrer_id"] == expected


def test_earlier_referral_outside_the_window_does_not_bind(stack):
    lead_inserted(stack, seed_lead(stack, source="refer_a_job", referrer_id=R3, created_at=iso_days_ago(100)))
    later = given_code_lead(stack)
    lead_inserted(stack, later)
    assert referral(stack, later["lead_id"])["referrer_id"] == R1


def test_the_referral_evidence_never_stores_the_claims_text(stack):
    # Given a claim beside a link's code, and a claim alone (docs/leads.md: evidence holds no free text)
    with_code = given_code_lead(stack, referred_by="Jo K7QX3MZ from Park St")
    alone = seed_lead(stack, referred_by="my neighbour Jo from Park St", email="other@example.com")
    for lead in (with_code, alone):
        lead_inserted(stack, lead)
    claims = {lead["lead_id"]: [e for e in referral(stack, lead["lead_id"])["attribution"]["evidence"]
                                if e["source"] == "referred_by"] for lead in (with_code, alone)}
    assert [e["value"] for e in claims[with_code["lead_id"]]] == ["K7QX3MZ"]
    assert [e["value"] for e in claims[alone["lead_id"]]] == ["free_text"]
    assert "Park St" not in str(referral(stack, alone["lead_id"]))


def test_lead_without_any_source_is_not_a_referral(stack):
    lead = seed_lead(stack)
    lead_inserted(stack, lead)
    assert referral(stack, lead["lead_id"]) is None


def test_replayed_lead_record_changes_nothing(stack):
    lead = code_and_other_click(stack)
    lead_inserted(stack, lead)
    before = stack.items()
    lead_inserted(stack, lead)
    assert stack.items() == before


def test_sample_stream_event_is_attributed(stack):
    # The sample lead record of events/attribute_referral (as lead capture writes it)
    event = load_event("attribute_referral/lead_insert_with_code.json")
    assert stack.consume(ATTRIBUTE, event) == {"batchItemFailures": []}
    stored = referral(stack, "01JDEMOLEAD0000000000000001")
    assert (stored["stage"], stored["source"]) == ("received", "code")
    assert stored["referrer_id"] == "01JDEMOREFERRER00000000001"


# -- jobs --------------------------------------------------------------------------------------------
@pytest.fixture
def webhook(stack):
    configure_webhook_secrets(stack)
    return stack


def test_job_with_lead_id_moves_the_referral_along(webhook):
    lead = given_code_lead(webhook)
    lead_inserted(webhook, lead)

    post_job_event(webhook, "job.created", lead_id=lead["lead_id"])
    job_changed(webhook, "J-1001")
    stored = referral(webhook, lead["lead_id"])
    assert (stored["stage"], stored["job_id"]) == ("job_booked", "J-1001")
    assert item(webhook, f"LEAD#{lead['lead_id']}", "AWAITING_JOB") is None
    assert item(webhook, f"LEAD#{lead['lead_id']}", "JOB#J-1001")["linked_by"] == "lead_id"
    assert item(webhook, "JOB#J-1001", "JOB")["linked_lead_id"] == lead["lead_id"]

    # paid arrives before completed: still completed + paid in the end
    old = item(webhook, "JOB#J-1001", "JOB")
    post_job_event(webhook, "job.paid", lead_id=lead["lead_id"], amount_cents=48000)
    job_changed(webhook, "J-1001", old=old)
    assert referral(webhook, lead["lead_id"])["stage"] == "job_booked"
    old = item(webhook, "JOB#J-1001", "JOB")
    post_job_event(webhook, "job.completed", lead_id=lead["lead_id"])
    job_changed(webhook, "J-1001", old=old)
    assert referral(webhook, lead["lead_id"])["stage"] == "customer_paid"


def test_job_without_lead_id_links_to_the_customers_newest_lead(webhook):
    older = seed_lead(webhook, ref="K7QX3MZ", code_valid=True, referrer_id=R1, created_at=iso_days_ago(20))
    lead_inserted(webhook, older)
    newer = seed_lead(webhook, phone="+61412345678", created_at=iso_days_ago(2))
    lead_inserted(webhook, newer)

    post_job_event(webhook, "job.completed", lead_id=None,
                   customer={"email": "Sam.Customer@example.com", "phone": "0412 345 678"})
    job_changed(webhook, "J-1001")

    assert item(webhook, "JOB#J-1001", "JOB")["linked_lead_id"] == newer["lead_id"]
    stored = referral(webhook, newer["lead_id"])
    assert (stored["referrer_id"], stored["stage"], stored["job_id"]) == (R1, "job_completed", "J-1001")


def test_job_of_a_stranger_links_nothing(webhook):
    lead_inserted(webhook, given_code_lead(webhook))
    post_job_event(webhook, "job.created", lead_id=None, customer={"email": "someone.else@example.com"})
    assert job_changed(webhook, "J-1001") == {"batchItemFailures": []}
    assert "linked_lead_id" not in item(webhook, "JOB#J-1001", "JOB")


def test_job_linked_before_the_lead_was_attributed_is_applied_by_the_attribution(webhook):
    lead = given_code_lead(webhook)
    post_job_event(webhook, "job.completed", lead_id=lead["lead_id"])
    job_changed(webhook, "J-1001")  # the referral does not exist yet: only the link is kept
    assert referral(webhook, lead["lead_id"]) is None

    lead_inserted(webhook, lead)
    stored = referral(webhook, lead["lead_id"])
    assert (stored["stage"], stored["job_id"]) == ("job_completed", "J-1001")
    assert item(webhook, f"LEAD#{lead['lead_id']}", "AWAITING_JOB") is None


def test_no_op_job_modify_is_ignored(webhook):
    lead = given_code_lead(webhook)
    lead_inserted(webhook, lead)
    post_job_event(webhook, "job.created", lead_id=lead["lead_id"])
    job = item(webhook, "JOB#J-1001", "JOB")
    job_changed(webhook, "J-1001", old=job)  # same image: nothing to do
    assert "job_id" not in referral(webhook, lead["lead_id"])


def test_referred_lead_without_a_job_is_flagged_after_missing_job_days(webhook):
    stale = given_code_lead(webhook, created_at=iso_days_ago(31))
    lead_inserted(webhook, stale)
    recent = seed_lead(webhook, ref="K7QX3MZ", code_valid=True, referrer_id=R1, email="new@example.com",
                       created_at=iso_days_ago(3))
    lead_inserted(webhook, recent)

    result = webhook.invoke(MISSING_JOBS, SCHEDULED)

    assert result == {"flagged": [stale["lead_id"]]}
    flag = item(webhook, f"LEAD#{stale['lead_id']}", "FLAG#missing_job_link")
    assert flag["severity"] == "low"
    assert referral(webhook, stale["lead_id"])["review_status"] == "open"
    assert item(webhook, f"LEAD#{recent['lead_id']}", "AWAITING_JOB") is not None
    # the next day nothing is flagged twice
    assert webhook.invoke(MISSING_JOBS, SCHEDULED) == {"flagged": []}


def test_linked_lead_is_not_flagged_as_missing_a_job(webhook):
    lead = given_code_lead(webhook, created_at=iso_days_ago(40))
    lead_inserted(webhook, lead)
    post_job_event(webhook, "job.created", lead_id=lead["lead_id"])
    job_changed(webhook, "J-1001")
    assert webhook.invoke(MISSING_JOBS, SCHEDULED) == {"flagged": []}


# -- concurrency ---------------------------------------------------------------------------------------
def test_fifty_concurrent_deliveries_of_one_lead_make_one_attribution(stack, monkeypatch):
    lead = code_and_other_click(stack)
    records = [stream_event(stream_record("INSERT", new=lead)) for _ in range(50)]
    results = invoke_concurrently(stack, ATTRIBUTE, records)
    assert all(r == {"batchItemFailures": []} for r in results)
    kinds = sorted(i["sk"] for i in stack.items() if i["pk"] == f"LEAD#{lead['lead_id']}")
    assert kinds == ["AWAITING_JOB", "FLAG#unclear_source", "LEAD", "REFERRAL"]
    assert referral(stack, lead["lead_id"])["stage"] == "under_review"


def test_concurrent_job_events_and_stream_records_make_one_state_and_one_link(webhook, monkeypatch):
    lead = given_code_lead(webhook)
    lead_inserted(webhook, lead)
    events = [signed_event(job_body(kind, lead_id=lead["lead_id"],
                                    amount_cents=48000 if kind == "job.paid" else None))
              for kind in ["job.completed", "job.paid"] * 25]
    invoke_concurrently(webhook, WEBHOOK, events)
    job = item(webhook, "JOB#J-1001", "JOB")
    records = [stream_event(stream_record("MODIFY", new=job, old={**job, "statuses": []})) for _ in range(50)]
    assert all(r == {"batchItemFailures": []} for r in invoke_concurrently(webhook, ATTRIBUTE, records))

    stored = referral(webhook, lead["lead_id"])
    assert (stored["stage"], stored["job_id"]) == ("customer_paid", "J-1001")
    links = [i for i in webhook.items() if i.get("type") == "job_link"]
    assert len(links) == 1
    assert job["statuses"] == ["completed", "paid"]
    assert job["version"] == 2


def test_sample_job_stream_events_advance_the_sample_referral(stack):
    lead_event = load_event("attribute_referral/lead_insert_with_code.json")
    stack.consume(ATTRIBUTE, lead_event)
    # the lead item itself, as lead capture stored it
    put(stack, deserialize(lead_event["Records"][0]["dynamodb"]["NewImage"]))

    response = stack.consume(ATTRIBUTE, load_event("attribute_referral/job_insert.json"))
    assert response == {"batchItemFailures": []}
    assert referral(stack, "01JDEMOLEAD0000000000000001")["stage"] == "job_booked"
    stack.consume(ATTRIBUTE, load_event("attribute_referral/job_modify_completed_and_paid.json"))
    stored = referral(stack, "01JDEMOLEAD0000000000000001")
    assert (stored["stage"], stored["job_id"]) == ("customer_paid", "J-1001")
