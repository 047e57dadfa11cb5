"""Stage notifications in-process on moto: one email and one EventBridge event per referral stage change,
nothing for replays or no-op writes, and the per-referrer opt-out."""

from __future__ import annotations

import itertools
import json
import re

import pytest

from referral_core.dal.dynamo import deserialize
from referral_core.stages import PROGRESS, Stage
from tests.support.events import json_body, load_event, stream_event, stream_record
from tests.support.portal import (
    NOTIFY,
    EventCapture,
    create_referrer,
    moved,
    portal,
    seed_referral,
)

pytestmark = pytest.mark.integration

SAMPLE_REFERRER = "01JREFERRER000000000000001"  # the referrer id in events/notify_status/*.json


def sample(name: str, referrer_id: str) -> dict:
    """A scenario from events/notify_status/ for a real referrer of this test."""
    return json.loads(json.dumps(load_event(f"notify_status/{name}.json")).replace(SAMPLE_REFERRER, referrer_id))


def stage_emails(stack):
    return [m for m in stack.sent_emails() if m["subject"].startswith("Referral update")]


@pytest.fixture
def events(portal_stack):
    return EventCapture()


def test_each_stage_change_sends_one_email_and_one_event(portal_stack, events):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")

    assert stack.consume(NOTIFY, sample("referral_received", jo["referrer_id"])) == {"batchItemFailures": []}
    assert stack.consume(NOTIFY, sample("referral_job_booked", jo["referrer_id"])) == {"batchItemFailures": []}

    emails = stage_emails(stack)
    assert [m["subject"] for m in emails] == ["Referral update: Request received", "Referral update: Job booked"]
    assert all(m["to"] == ["jo@example.com"] for m in emails)
    booked = emails[1]["body"]
    assert "A job has been booked for Sa L. (2000)." in booked
    assert "http://127.0.0.1:3000/dashboard" in booked
    assert "not guaranteed" in booked
    [detail] = [e["detail"] for e in events.received() if e["detail"]["to_stage"] == "job_booked"]
    assert detail == {"referral_id": "01JREFERRAL0000000000000001", "referrer_id": jo["referrer_id"],
                      "from_stage": "received", "to_stage": "job_booked", "reason": None,
                      "at": "2026-11-23T10:00:00.000000Z"}


def test_the_whole_journey_sends_exactly_one_email_per_stage(portal_stack, events):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    referral = seed_referral(stack, "lead-1", jo["referrer_id"], email="sam@example.net", phone="+61498765432")
    records = [stream_record("INSERT", new=referral)]
    for before, after in itertools.pairwise(PROGRESS):
        records.append(stream_record("MODIFY", old=moved(referral, before), new=moved(referral, after)))

    assert stack.consume(NOTIFY, stream_event(*records)) == {"batchItemFailures": []}

    emails = stage_emails(stack)
    assert len(emails) == len(PROGRESS) == 7
    assert {m["subject"].removeprefix("Referral update: ") for m in emails} == {
        "Request received", "Job booked", "Job completed", "Customer paid", "Reward pending",
        "Reward available", "Reward paid"}
    for message in emails:
        assert "sam@example.net" not in message["body"] and "+61498765432" not in message["body"]
        assert "Sam Lee" not in message["body"]
    assert "can still change" in next(m["body"] for m in emails if m["subject"].endswith("Reward pending"))
    assert len(events.received()) == 7


def test_replays_and_no_op_modifies_send_nothing_more(portal_stack, events):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    booked = sample("referral_job_booked", jo["referrer_id"])
    stack.consume(NOTIFY, booked)

    assert stack.consume(NOTIFY, booked) == {"batchItemFailures": []}  # the same record again
    assert stack.consume(NOTIFY, sample("referral_noop_modify", jo["referrer_id"])) == {"batchItemFailures": []}
    booked_image = deserialize(booked["Records"][0]["dynamodb"]["NewImage"])
    other_write = stream_record("MODIFY", old=booked_image, new=moved(booked_image, Stage.JOB_BOOKED, job_id="j2"))
    assert stack.consume(NOTIFY, stream_event(other_write)) == {"batchItemFailures": []}

    assert len(stage_emails(stack)) == 1
    assert len(events.received()) == 1


def test_returning_to_a_stage_after_a_review_hold_does_not_email_again(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    referral = seed_referral(stack, "lead-1", jo["referrer_id"])
    held = moved(referral, Stage.UNDER_REVIEW)
    stack.consume(NOTIFY, stream_event(stream_record("INSERT", new=referral),
                                      stream_record("MODIFY", old=referral, new=held),
                                      stream_record("MODIFY", old=held, new=moved(referral, Stage.RECEIVED))))
    assert [m["subject"] for m in stage_emails(stack)] == ["Referral update: Request received",
                                                           "Referral update: Under review"]
    assert "normal part of the process" in stage_emails(stack)[1]["body"]


def test_not_eligible_names_the_public_reason_only(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    referral = seed_referral(stack, "lead-1", jo["referrer_id"])
    refused = moved(referral, Stage.NOT_ELIGIBLE, not_eligible_reason="existing_customer")
    stack.consume(NOTIFY, stream_event(stream_record("MODIFY", old=referral, new=refused)))
    [email] = stage_emails(stack)
    assert "is not eligible for a reward (they were already a customer)" in email["body"]


def test_an_unattributed_referral_gets_the_event_but_no_email(portal_stack, events):
    stack = portal_stack
    referral = seed_referral(stack, "lead-1", None)
    assert stack.consume(NOTIFY, stream_event(stream_record("INSERT", new=referral))) == {"batchItemFailures": []}
    assert stage_emails(stack) == []
    assert [e["detail"]["referrer_id"] for e in events.received()] == [None]


def test_opt_out_link_stops_stage_emails_but_not_events(portal_stack, events):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    stack.consume(NOTIFY, sample("referral_received", jo["referrer_id"]))
    [first] = stage_emails(stack)
    match = re.search(r"http://127\.0\.0\.1:3000(/me/notifications/opt-out)\?token=([\w.-]+)", first["body"])
    assert match
    path, token = match.groups()

    confirm = portal(stack, "GET", path, query={"token": token})
    assert confirm["statusCode"] == 200 and "<form method=\"post\"" in confirm["body"]
    assert not stack.items_of_type("referrer")[0].get("notifications_opt_out")  # a GET changes nothing
    done = portal(stack, "POST", path, query={"token": token})
    assert done["statusCode"] == 200 and "Email updates stopped" in done["body"]
    profile = next(i for i in stack.items_of_type("referrer") if i["referrer_id"] == jo["referrer_id"])
    assert profile["notifications_opt_out"] is True

    stack.consume(NOTIFY, sample("referral_job_booked", jo["referrer_id"]))
    assert len(stage_emails(stack)) == 1
    assert sorted(e["detail"]["to_stage"] for e in events.received()) == ["job_booked", "received"]


@pytest.mark.parametrize("token", ["x" * 40, "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJyMSJ9.bad-signature-bad"])
def test_a_bad_opt_out_token_is_401_and_changes_nothing(portal_stack, token):
    response = portal(portal_stack, "POST", "/me/notifications/opt-out", query={"token": token},
                      headers={"accept": "application/json"})
    assert response["statusCode"] == 401
    assert json_body(response)["error"]["code"] == "unauthorized"
