"""Stage notifications in-process on moto: one email and one EventBridge event per referral stage change,
nothing for replays or no-op writes, and the per-referrer opt-out."""

from __future__ import annotations

import itertools
import json
import re
from datetime import timedelta

import pytest

from referral_core import referrer_mail
from referral_core.clock import iso, now
from referral_core.dal.dynamo import Table, deserialize
from referral_core.dal.notifications import DigestQueue
from referral_core.dal.referrers import ReferrerRepository
from referral_core.services.notifications import send_due_digests, stage_sentence
from referral_core.stages import PROGRESS, Stage
from tests.support import iam_usage
from tests.support.events import (
    ADMIN_CLAIMS,
    STAFF_CLAIMS,
    http_event,
    json_body,
    load_event,
    stream_event,
    stream_record,
)
from tests.support.portal import (
    ADMIN,
    NOTIFY,
    EventCapture,
    create_referrer,
    moved,
    opt_out_token,
    portal,
    seed_referral,
)

pytestmark = pytest.mark.integration

DIGESTS = "SendStageDigestsFunction"
SAMPLE_REFERRER = "01JREFERRER000000000000001"  # the referrer id in events/notify_status/*.json


def sample(name: str, referrer_id: str) -> dict:
    """A scenario from events/notify_status/ for a real referrer of this test."""
    return json.loads(json.dumps(load_event(f"notify_status/{name}.json")).replace(SAMPLE_REFERRER, referrer_id))


def stage_emails(stack):
    return [m for m in stack.sent_emails() if m["subject"].startswith("Referral update:")]


def digests(stack):
    return [m for m in stack.sent_emails() if m["subject"].startswith("Referral updates:")]


def send_digests_after_the_hour(stack, *, hours: float = 1.0) -> dict:
    """What the scheduled digest step does once this hour has ended (the test cannot wait for it)."""
    module = stack.function(DIGESTS)
    later = iso(now() + timedelta(hours=hours))
    from referral_core.dal import secrets

    secrets.clear_caches()  # its own container: it reads the signing secret itself
    with iam_usage.running(DIGESTS):  # the function's calls, judged against its grants
        return send_due_digests(DigestQueue(module._table()), ReferrerRepository(module._table()),
                                referrer_mail.send, opt_out_url=referrer_mail.opt_out_url, at=later)


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


def test_the_whole_journey_tells_each_stage_exactly_once(portal_stack, events):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    referral = seed_referral(stack, "lead-1", jo["referrer_id"], email="sam@example.net", phone="+61498765432")
    records = [stream_record("INSERT", new=referral)]
    for before, after in itertools.pairwise(PROGRESS):
        records.append(stream_record("MODIFY", old=moved(referral, before), new=moved(referral, after)))

    assert stack.consume(NOTIFY, stream_event(*records)) == {"batchItemFailures": []}
    send_digests_after_the_hour(stack)

    # seven stages within the hour: the first four by their own email, the other three in one digest
    emails = stage_emails(stack)
    assert [m["subject"].removeprefix("Referral update: ") for m in emails] == [
        "Request received", "Job booked", "Job completed", "Customer paid"]
    [digest] = digests(stack)
    assert digest["subject"] == "Referral updates: 3 updates"
    for stage in ("looks eligible for a reward", "now in your available balance", "has been paid out"):
        assert digest["body"].count(stage) == 1
    for message in [*emails, digest]:
        assert "sam@example.net" not in message["body"] and "+61498765432" not in message["body"]
        assert "Sam Lee" not in message["body"]
    assert "can still change" in digest["body"]
    assert len(events.received()) == 7  # events are never held back


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


# -- the hourly limit and the digest (docs/portal.md, "Stage email digest") -------------------------------
def flood(stack, referrer_id: str, count: int = 12) -> list[dict]:
    """``count`` anonymous leads through one public code: a new referral each, all received at once."""
    referrals = [seed_referral(stack, f"lead-{i:02d}", referrer_id, name=f"Friend{i:02d} Lee",
                               email=f"f{i}@example.net") for i in range(count)]
    return [stream_record("INSERT", new=referral, sequence=str(i)) for i, referral in enumerate(referrals)]


def test_a_flood_of_leads_sends_the_limit_then_one_digest(portal_stack, events):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")

    assert stack.consume(NOTIFY, stream_event(*flood(stack, jo["referrer_id"]))) == {"batchItemFailures": []}

    assert len(stage_emails(stack)) == 4  # the programme default: 4 stage emails an hour
    assert digests(stack) == []
    told = [*events.received(), *events.received()]  # SQS hands out 10 at a time
    assert len(told) == 12  # events are never held back
    # the scheduled step sends nothing before the hour ends ...
    assert stack.invoke(DIGESTS, load_event("send_stage_digests/schedule.json")) == {
        "sent": 0, "dropped": 0, "failed": 0}
    # ... and one digest of the other eight after it
    assert send_digests_after_the_hour(stack) == {"sent": 1, "dropped": 0, "failed": 0}
    [digest] = digests(stack)
    assert digest["to"] == ["jo@example.com"] and digest["subject"] == "Referral updates: 8 updates"
    assert digest["body"].count("Fr L. (2000) asked for help through your referral") == 8  # masked names only
    assert "/me/notifications/opt-out?token=" in digest["body"] and "/dashboard" in digest["body"]
    assert [i for i in stack.items() if i["pk"].startswith("DIGEST#")] == []  # nothing left queued
    assert send_digests_after_the_hour(stack, hours=2) == {"sent": 0, "dropped": 0, "failed": 0}
    assert len(stage_emails(stack)) + len(digests(stack)) == 5


def test_no_stage_is_lost_and_each_is_told_once(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    records = flood(stack, jo["referrer_id"], count=6)
    referral = seed_referral(stack, "lead-journey", jo["referrer_id"], name="Pat Journey")
    records.append(stream_record("INSERT", new=referral))
    for before, after in itertools.pairwise(PROGRESS):
        records.append(stream_record("MODIFY", old=moved(referral, before), new=moved(referral, after)))

    stack.consume(NOTIFY, stream_event(*records))
    send_digests_after_the_hour(stack)

    assert len(stage_emails(stack)) == 4 and len(digests(stack)) == 1
    bodies = "".join(m["body"] for m in [*stage_emails(stack), *digests(stack)])
    assert bodies.count("Fr L. (2000) asked for help") == 6
    for stage in PROGRESS:  # every stage of the journey, in its own email or in the digest, once
        assert bodies.count(stage_sentence(moved(referral, stage))) == 1, stage


def test_replaying_the_flood_sends_and_queues_nothing_more(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    batch = stream_event(*flood(stack, jo["referrer_id"]))
    stack.consume(NOTIFY, batch)
    queued = sorted((i["pk"], i["sk"], i.get("pending")) for i in stack.items() if i["pk"].startswith("DIGEST#"))

    assert stack.consume(NOTIFY, batch) == {"batchItemFailures": []}  # the stream delivers the batch again

    assert len(stage_emails(stack)) == 4
    assert sorted((i["pk"], i["sk"], i.get("pending")) for i in stack.items()
                  if i["pk"].startswith("DIGEST#")) == queued
    assert len(queued) == 9  # eight entries and their head (pending 8)
    send_digests_after_the_hour(stack)
    send_digests_after_the_hour(stack)  # a second run of the schedule
    assert len(digests(stack)) == 1


def test_the_limit_is_a_programme_setting(portal_stack):
    stack = portal_stack
    program = json_body(stack.invoke(ADMIN, http_event("GET", "/admin/program", claims=STAFF_CLAIMS)))
    assert program["rules"]["notifications"] == {"max_stage_emails_per_hour": 4}
    saved = stack.invoke(ADMIN, http_event("PUT", "/admin/program", claims=ADMIN_CLAIMS, body={
        **program["rules"], "notifications": {"max_stage_emails_per_hour": 2},
        "expected_version": program["version"]}))
    assert saved["statusCode"] == 200, saved
    jo = create_referrer(stack, email="jo@example.com")

    stack.consume(NOTIFY, stream_event(*flood(stack, jo["referrer_id"], count=5)))

    assert len(stage_emails(stack)) == 2
    send_digests_after_the_hour(stack)
    assert digests(stack)[0]["subject"] == "Referral updates: 3 updates"


def test_an_opted_out_referrer_gets_no_digest(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    stack.consume(NOTIFY, stream_event(*flood(stack, jo["referrer_id"], count=6)))
    token = opt_out_token(stack, "jo@example.com")
    assert portal(stack, "POST", "/me/notifications/opt-out", query={"token": token})["statusCode"] == 200

    assert send_digests_after_the_hour(stack) == {"sent": 0, "dropped": 1, "failed": 0}
    assert digests(stack) == []
    assert [i for i in stack.items() if i["pk"].startswith("DIGEST#")] == []


@pytest.mark.parametrize("status", ["suspended", "erased"])
def test_an_inactive_referrer_gets_no_digest_and_nothing_stays_queued(portal_stack, status):
    stack = portal_stack
    jo = create_referrer(stack, email="jo@example.com")
    stack.consume(NOTIFY, stream_event(*flood(stack, jo["referrer_id"], count=6)))
    profile = next(i for i in stack.items_of_type("referrer") if i["referrer_id"] == jo["referrer_id"])
    Table(stack.table_name).update(profile["pk"], profile["sk"], "SET #status = :status",
                                   names={"#status": "status"}, values={":status": status})

    assert send_digests_after_the_hour(stack) == {"sent": 0, "dropped": 1, "failed": 0}
    assert digests(stack) == []
    assert [i for i in stack.items() if i["pk"].startswith("DIGEST#")] == []
