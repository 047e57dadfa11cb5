"""Issue 20, provider-neutral part: a share code entered in the job system (``data.referral_code``) links a
job that matches no lead to the code's referrer, and ``job.disputed`` holds the job's reward for staff.

Flows run through the signed job webhook and the table's real stream (StreamPump), as in production.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.dal.dynamo import Table
from referral_core.dal.jobs import JobRepository
from referral_core.models.jobs import JobWebhookEvent
from referral_core.services.attribution import job_lead_id
from referral_core.services.providers.ingest import ProviderIngest
from referral_core.services.rewards import on_staff_accept, release_due
from tests.support.aws import PEPPER
from tests.support.jobs import configure_webhook_secrets, item, job_body, post_job_event, referral
from tests.support.leads import create_referrer, update_code
from tests.support.rewards import repos, save_rules
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration

LATER_THAN_HOLDING = iso(now() + timedelta(days=365))
CUSTOMER = {"email": "pat.newcustomer@example.com", "phone": "0412 000 111", "postcode": "3000"}


@pytest.fixture
def coded(stack):
    """A referrer with a live share code, the webhook configured and the stream read from here on."""
    configure_webhook_secrets(stack)
    referrer = create_referrer(stack, email="jo.referrer@example.com")
    pump = StreamPump(stack)
    pump.drain()
    return {"stack": stack, "pump": pump, "referrer_id": referrer["referrer_id"], "code": referrer["code"]}


def job_events(ctx, job_id, *types, code=None, **data):
    for event_type in types:
        answer = post_job_event(ctx["stack"], event_type, job_id, lead_id=None, customer=CUSTOMER,
                                referral_code=code if code is not None else ctx["code"].lower(), **data)
        assert answer["statusCode"] == 200, answer["body"]
    ctx["pump"].drain()


def test_a_job_with_a_live_code_and_no_lead_is_credited_to_the_codes_referrer(coded):
    # Given a job whose customer never filled in a form, with the code typed (lower case) in the job system
    job_events(coded, "J-CODE-1", "job.created", "job.completed", "job.paid", amount_cents=30_000)

    # Then the job has a lead of its own, attributed to the code, that reached customer_paid or beyond
    lead_id = job_lead_id("J-CODE-1")
    job = item(coded["stack"], "JOB#J-CODE-1", "JOB")
    assert (job["referral_code"], job["linked_lead_id"], job["linked_by"]) == (
        coded["code"], lead_id, "referral_code")
    lead = item(coded["stack"], f"LEAD#{lead_id}", "LEAD")
    assert (lead["source"], lead["ref_via"], lead["code"], lead["referrer_id"]) == (
        "job_system", "job_system", coded["code"], coded["referrer_id"])
    assert "email" not in lead and "name" not in lead, "no contact details: only the job's hashes"
    assert lead["email_hash"] and lead["phone_hash"]
    stored = referral(coded["stack"], lead_id)
    assert (stored["referrer_id"], stored["source"], stored["code"], stored["job_id"]) == (
        coded["referrer_id"], "code", coded["code"], "J-CODE-1")
    assert stored["stage_rank"] >= 4, stored
    assert stored["stage"] in ("customer_paid", "reward_pending", "under_review"), stored
    evidence = stored["attribution"]["evidence"]
    assert [(e["source"], e["accepted"], e["reason"]) for e in evidence] == [
        ("code", True, "code entered in the job system")]


def test_the_code_credits_a_reward_when_the_job_is_completed_and_paid(coded):
    save_rules(coded["stack"], require_review=False)
    job_events(coded, "J-CODE-2", "job.completed", "job.paid", amount_cents=30_000)
    reward = repos(coded["stack"]).rewards.get("J-CODE-2")
    assert reward is not None and reward["referrer_id"] == coded["referrer_id"]
    assert referral(coded["stack"], job_lead_id("J-CODE-2"))["stage"] == "reward_pending"


@pytest.mark.parametrize("code", ["NOSUCHCODE", "not a code!"])
def test_an_unknown_or_malformed_code_links_nothing(coded, code):
    job_events(coded, "J-CODE-3", "job.created", code=code)
    assert "linked_lead_id" not in item(coded["stack"], "JOB#J-CODE-3", "JOB")
    assert item(coded["stack"], f"LEAD#{job_lead_id('J-CODE-3')}", "LEAD") is None


def test_an_inactive_code_links_nothing(coded):
    update_code(coded["stack"], coded["code"], status="disabled")
    job_events(coded, "J-CODE-4", "job.created")
    assert item(coded["stack"], f"LEAD#{job_lead_id('J-CODE-4')}", "LEAD") is None


def test_a_job_that_matches_a_lead_keeps_that_lead_and_the_code_is_not_used(coded):
    job_events(coded, "J-CODE-5", "job.created")
    lead_id = job_lead_id("J-CODE-5")
    # a second job of the same customer, with the code again, matches the lead the first one made
    job_events(coded, "J-CODE-6", "job.created")
    job = item(coded["stack"], "JOB#J-CODE-6", "JOB")
    assert (job["linked_lead_id"], job["linked_by"]) == (lead_id, "contact")
    assert item(coded["stack"], f"LEAD#{job_lead_id('J-CODE-6')}", "LEAD") is None


def test_replayed_job_changes_make_one_lead(coded):
    job_events(coded, "J-CODE-7", "job.created")
    from referral_core.dal.attribution import AttributionRepository
    from referral_core.dal.referrals import ReferralRepository
    from referral_core.services.attribution import on_job_changed

    table = Table(coded["stack"].table_name)
    job = item(coded["stack"], "JOB#J-CODE-7", "JOB")
    job.pop("linked_lead_id")  # the image before the link, as a stream replay would deliver it
    assert on_job_changed(AttributionRepository(table), ReferralRepository(table), job) == job_lead_id("J-CODE-7")
    assert len([i for i in coded["stack"].items_of_type("lead") if i.get("job_id") == "J-CODE-7"]) == 1


# -- disputes ----------------------------------------------------------------------------------------
def test_a_dispute_before_the_credit_sends_the_referral_to_review(coded):
    save_rules(coded["stack"], require_review=False)
    job_events(coded, "J-DISP-1", "job.completed", "job.disputed", "job.paid", amount_cents=30_000)
    lead_id = job_lead_id("J-DISP-1")
    assert repos(coded["stack"]).rewards.get("J-DISP-1") is None
    stored = referral(coded["stack"], lead_id)
    assert stored["stage"] == "under_review"
    assert "job_disputed" in stored["eligibility"]["reasons"]
    # staff accept: credited (a person has looked at the dispute)
    on_staff_accept(repos(coded["stack"]), lead_id)
    assert repos(coded["stack"]).rewards.get("J-DISP-1")["state"] == "pending"


def test_a_dispute_after_the_credit_holds_the_release_until_staff_accept(coded):
    save_rules(coded["stack"], require_review=False)
    job_events(coded, "J-DISP-2", "job.completed", "job.paid", amount_cents=30_000)
    lead_id = job_lead_id("J-DISP-2")
    assert repos(coded["stack"]).rewards.get("J-DISP-2")["state"] == "pending"

    job_events(coded, "J-DISP-2", "job.disputed")
    reward = repos(coded["stack"]).rewards.get("J-DISP-2")
    assert reward["release_held_at"] and "gsi2pk" not in reward
    flag = item(coded["stack"], f"LEAD#{lead_id}", "FLAG#refund_hold")
    assert (flag["severity"], flag["evidence"]["reason"]) == ("high", "job_disputed")
    assert referral(coded["stack"], lead_id)["stage"] == "under_review"
    assert release_due(repos(coded["stack"]), at=LATER_THAN_HOLDING) == 0
    assert repos(coded["stack"]).rewards.get("J-DISP-2")["state"] == "pending"

    on_staff_accept(repos(coded["stack"]), lead_id)
    assert "release_held_at" not in repos(coded["stack"]).rewards.get("J-DISP-2")
    assert release_due(repos(coded["stack"]), at=LATER_THAN_HOLDING) == 1
    assert repos(coded["stack"]).rewards.get("J-DISP-2")["state"] == "available"


# -- the provider-neutral ingest ---------------------------------------------------------------------
def test_provider_ingest_records_once_per_provider_event_and_ignores_none(coded):
    ingest = ProviderIngest(provider="acme", table=Table(coded["stack"].table_name), pepper=lambda: PEPPER,
                            phone_region="AU")
    event = JobWebhookEvent.model_validate(job_body("job.paid", "J-ING-1", lead_id=None, amount_cents=100))
    first = ingest.record("evt_1", "invoice.paid", event)
    assert (first.ignored, first.applied, first.job_id, first.type) == (False, True, "J-ING-1", "job.paid")
    again = ingest.record("evt_1", "invoice.paid", event)
    assert again == first, "a replay gets the first answer"
    other = ingest.record("evt_2", "invoice.paid", event)
    assert (other.applied, other.statuses) == (False, ["paid"])
    events = JobRepository(Table(coded["stack"].table_name)).load("J-ING-1").events
    assert [e["webhook_id"] for e in events] == ["acme:evt_1"]
    ignored = ingest.record("evt_3", "customer.created", None)
    assert (ignored.ignored, ignored.applied, ignored.job_id) == (True, False, None)


def test_provider_refs_lead_a_later_event_without_the_job_id_to_the_named_job(coded):
    ingest = ProviderIngest(provider="acme", table=Table(coded["stack"].table_name), pepper=lambda: PEPPER,
                            phone_region="AU")
    paid = JobWebhookEvent.model_validate(job_body("job.paid", "J-REF-1", lead_id=None, amount_cents=500))
    ingest.record("evt_p", "invoice.paid", paid, refs=["in_1", "pi_1", "bad ref!"])
    # the refund names only the charge and the payment: the payment is known, so it reaches J-REF-1
    refund = JobWebhookEvent.model_validate(job_body("job.refunded", "ch_1", lead_id=None, amount_cents=500))
    answer = ingest.record("evt_r", "charge.refunded", refund, refs=["ch_1", "pi_1"], job_id_given=False)
    assert (answer.job_id, answer.statuses) == ("J-REF-1", ["paid", "refunded"])
    table = Table(coded["stack"].table_name)
    assert JobRepository(table).job_of_refs("acme", ["ch_1"]) == "J-REF-1", "the new ref is remembered too"
    assert JobRepository(table).job_of_refs("other", ["pi_1"]) is None, "refs are per provider"
    assert table.get("JOBREF#acme#bad ref!", "JOBREF") is None
    # an unknown ref and no given job id: the adapter's first ref is the job
    lone = JobWebhookEvent.model_validate(job_body("job.disputed", "ch_9", lead_id=None))
    assert ingest.record("evt_d", "charge.dispute.created", lone, refs=["ch_9"], job_id_given=False).job_id == "ch_9"
