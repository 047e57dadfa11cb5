"""Staff review on moto: the queue, the evidence chain, decisions with notes and attribution fixes."""

from __future__ import annotations

import pytest

from local._worker import LambdaContext
from referral_core.stages import Stage
from tests.support import rewards
from tests.support.admin import bulk_queue, flag, seed_job, seed_lead, seed_referrer, seed_reward
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.stream_pump import StreamPump, consumers

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"


def call(stack, method, path, *, body=None, query=None):
    return stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=STAFF_CLAIMS))


def decide(stack, lead_id, decision, note, version):
    return call(stack, "POST", f"/admin/referrals/{lead_id}/decisions",
                body={"decision": decision, "note": note, "expected_version": version})


def test_flagged_referral_is_questioned_deferred_and_accepted_with_notes_and_audit(stack):
    # Given a referral the duplicate check flagged
    referrer_id, code = seed_referrer(stack)
    lead = seed_lead(stack, referrer_id=referrer_id, code=code)
    flag(stack, lead.lead_id, "duplicate_contact", at="2026-11-20T00:00:00.000000Z")
    queue = json_body(call(stack, "GET", "/admin/reviews"))
    assert [i["lead_id"] for i in queue["items"]] == [lead.lead_id]
    assert queue["items"][0]["flag_types"] == ["duplicate_contact"]

    # When staff question it, defer it and finally accept it, each with a note
    steps = [("question", "Same phone as an earlier lead: asked the customer", "questioned", "under_review"),
             ("defer", "Waiting for the customer to confirm", "deferred", "under_review"),
             ("accept", "Customer confirmed: a different person at the address", "accepted", "received")]
    for version, (decision, note, status, stage) in enumerate(steps):
        response = decide(stack, lead.lead_id, decision, note, version)
        assert response["statusCode"] == 200, response["body"]
        assert json_body(response) | {} == {"lead_id": lead.lead_id, "review_status": status, "stage": stage,
                                            "referrer_id": referrer_id, "version": version + 1}
        # the referral is listed under its new status, and no longer under the old one
        listed = json_body(call(stack, "GET", "/admin/reviews", query={"status": status}))["items"]
        assert [i["lead_id"] for i in listed] == [lead.lead_id]
    assert json_body(call(stack, "GET", "/admin/reviews"))["items"] == []

    # Then the evidence shows the flag resolved, three decisions, three notes and the audit trail
    evidence = json_body(call(stack, "GET", f"/admin/referrals/{lead.lead_id}"))
    assert evidence["flags"][0]["status"] == "resolved"
    assert [d["decision"] for d in evidence["decisions"]] == ["question", "defer", "accept"]
    assert [n["text"] for n in evidence["notes"]] == [note for _, note, _, _ in steps]
    audit = evidence["audit"]
    assert [a["action"] for a in audit] == ["referral.question", "referral.defer", "referral.accept"]
    assert {a["actor"] for a in audit} == {"staff:staff@example.com"}
    assert all(a["at"] for a in audit)
    assert evidence["lead"]["email"] == lead.email  # staff see contact details


def test_dismiss_marks_not_eligible_with_the_staff_reason_and_settles_flags(stack):
    lead = seed_lead(stack)
    flag(stack, lead.lead_id, "self_referral")
    assert decide(stack, lead.lead_id, "dismiss", "Referrer referred themselves", 0)["statusCode"] == 200
    evidence = json_body(call(stack, "GET", f"/admin/referrals/{lead.lead_id}"))
    assert evidence["referral"]["stage"] == "not_eligible"
    assert evidence["referral"]["not_eligible_reason"] == "staff_decision"
    assert evidence["flags"][0]["status"] == "resolved"


def test_stale_version_is_409_with_the_current_version_and_writes_nothing(stack):
    lead = seed_lead(stack)
    flag(stack, lead.lead_id, "velocity")
    assert decide(stack, lead.lead_id, "question", "Asked", 0)["statusCode"] == 200
    before = stack.items()
    response = decide(stack, lead.lead_id, "accept", "Based on an old screen", 0)
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["fields"] == {"expected_version": "stale: current version is 1"}
    assert stack.items() == before


@pytest.mark.parametrize("body", [
    {"decision": "accept", "expected_version": 0},
    {"decision": "accept", "note": "   ", "expected_version": 0},
])
def test_a_decision_without_a_note_is_422_naming_note(stack, body):
    lead = seed_lead(stack)
    response = call(stack, "POST", f"/admin/referrals/{lead.lead_id}/decisions", body=body)
    assert response["statusCode"] == 422
    assert "note" in json_body(response)["error"]["fields"]


def test_unknown_referral_is_404(stack):
    assert call(stack, "GET", "/admin/referrals/nope")["statusCode"] == 404
    assert decide(stack, "nope", "accept", "x", 0)["statusCode"] == 404


def test_accept_credits_the_paid_job_once_from_the_stream(stack):
    # Given a flagged referral whose job is completed and paid (held for review)
    referrer_id, _ = seed_referrer(stack)
    rewards.seed_job(stack, "job-1", "lead-1")
    rewards.seed_referral(stack, "lead-1", referrer_id, "job-1", stage=Stage.CUSTOMER_PAID)
    flag(stack, "lead-1", "velocity")
    pump = StreamPump(stack)
    pump.new_records()

    # When staff accept it: the route commits the decision only
    response = decide(stack, "lead-1", "accept", "fine", 0)
    assert response["statusCode"] == 200
    assert json_body(response)["stage"] == Stage.CUSTOMER_PAID
    assert stack.items_of_type("ledger") == []

    # Then the accept's stream record credits the reward, once, even delivered twice
    records = pump.new_records()
    settle = next(t for t in consumers() if t.name == "settle_rewards")
    for _ in range(2):
        pump.deliver(records, settle)
    assert [e["kind"] for e in stack.items_of_type("ledger")] == ["credit_pending"]
    assert rewards.referral(stack, "lead-1")["stage"] == Stage.REWARD_PENDING

    # And the evidence view shows that credit as the referral's ledger (entries store source_id, issue 16)
    evidence = json_body(call(stack, "GET", "/admin/referrals/lead-1"))
    assert [(e["kind"], e["source_id"]) for e in evidence["ledger"]] == [("credit_pending", "job-1")]
    assert evidence["ledger"][0]["amount_cents"] == evidence["reward"]["amount_cents"] > 0


def test_evidence_chain_has_job_click_code_reward_and_the_ledger_for_the_job(stack):
    referrer_id, code = seed_referrer(stack)
    lead = seed_lead(stack, referrer_id=referrer_id, code=code, click_id="c1")
    stack.dynamodb.put_item(TableName=stack.table_name, Item={
        "pk": {"S": "CLICK#c1"}, "sk": {"S": "CLICK"}, "type": {"S": "click"}, "code": {"S": code}})
    job_id = seed_job(stack, lead)
    seed_reward(stack, referrer_id, job_id, 5_000)
    seed_reward(stack, referrer_id, "other-job", 7_000)
    evidence = json_body(call(stack, "GET", f"/admin/referrals/{lead.lead_id}"))
    assert evidence["job"]["job_id"] == job_id
    assert [e["event_type"] for e in evidence["job_events"]] == ["job.paid"]
    assert evidence["click"]["code"] == code
    assert evidence["share_code"]["referrer_id"] == referrer_id
    assert evidence["reward"]["amount_cents"] == 5_000
    assert [e["amount_cents"] for e in evidence["ledger"]] == [5_000]
    assert evidence["referrer"]["referrer_id"] == referrer_id


def test_staff_resolve_an_unclear_source_to_a_referrer_and_back_to_none(stack):
    referrer_id, _ = seed_referrer(stack)
    lead = seed_lead(stack)
    flag(stack, lead.lead_id, "unclear_source")
    path = f"/admin/referrals/{lead.lead_id}/attribution"
    response = call(stack, "POST", path, body={"referrer_id": referrer_id, "note": "Customer named Rita",
                                               "expected_version": 0})
    assert response["statusCode"] == 200, response["body"]
    evidence = json_body(call(stack, "GET", f"/admin/referrals/{lead.lead_id}"))
    assert evidence["referral"]["referrer_id"] == referrer_id
    assert evidence["referral"]["source"] == "staff"
    assert evidence["referral"]["attribution"]["resolved_by"] == "staff:staff@example.com"
    assert evidence["flags"][0]["status"] == "resolved"
    assert [a["action"] for a in evidence["audit"]] == ["referral.attributed"]

    response = call(stack, "POST", path, body={"referrer_id": None, "note": "Rita denied it",
                                               "expected_version": 1})
    assert response["statusCode"] == 200
    assert json_body(response)["referrer_id"] is None
    # unknown referrer: 404 naming the field
    response = call(stack, "POST", path, body={"referrer_id": "ghost", "note": "x", "expected_version": 2})
    assert response["statusCode"] == 404
    assert "referrer_id" in json_body(response)["error"]["fields"]


@pytest.mark.parametrize("cursor", ["garbage!", "eyJwayI6IDF9", "e30"])
def test_a_garbled_cursor_is_400(stack, cursor):
    response = call(stack, "GET", "/admin/reviews", query={"cursor": cursor})
    assert response["statusCode"] == 400
    assert "cursor" in json_body(response)["error"]["fields"]


def test_a_cursor_from_another_queue_is_400(stack):
    bulk_queue(stack, 3, status="deferred")
    cursor = json_body(call(stack, "GET", "/admin/reviews", query={"status": "deferred", "limit": "1"}))[
        "next_cursor"]
    response = call(stack, "GET", "/admin/reviews", query={"status": "open", "cursor": cursor})
    assert response["statusCode"] == 400


def resolve(stack, query):
    """The function's resolver (router, staff middleware, validation) without the Logger/Tracer handler
    decorators: under them moto's response serialisation is ~15x slower, too slow for 5,000 items."""
    event = http_event("GET", "/admin/reviews", query=query, claims=STAFF_CLAIMS)
    function = stack.function(ADMIN)
    function.routers.load_for(event)  # what the handler does before resolving
    return function.app.resolve(event, LambdaContext.of())


def pages(stack, query):
    """Every page of the queue for ``query``: (lead ids, items read by DynamoDB, items, Query calls) per page."""
    from referral_core import deps

    stack.function(ADMIN)  # cold start: the function's settings and client
    scanned: list[int] = []
    deps.table().client.meta.events.register(
        "after-call.dynamodb.Query", lambda parsed, **_: scanned.append(parsed.get("ScannedCount", 0)))
    cursor = None
    while True:
        scanned.clear()
        response = resolve(stack, {**query, **({"cursor": cursor} if cursor else {})})
        assert response["statusCode"] == 200, response["body"]
        page = json_body(response)
        yield [i["lead_id"] for i in page["items"]], sum(scanned), page["items"], len(scanned)
        cursor = page["next_cursor"]
        if not cursor:
            return


@pytest.mark.slow
def test_paging_5000_referrals_is_complete_non_overlapping_and_reads_one_page_per_page(stack):
    # Given 5,000 open referrals, one in ten flagged for velocity
    expected = bulk_queue(stack, 5_000)

    # When staff page through the queue 100 at a time
    seen: list[str] = []
    for lead_ids, read, _, _ in pages(stack, {"limit": "100"}):
        # Then each page is full (but the last) and DynamoDB read only that page's items
        assert len(lead_ids) == 100
        assert read == 100
        seen += lead_ids
    # and every referral appears exactly once, newest first
    assert seen == list(reversed(expected))

    # And filtered by flag type, every match appears once; reads per page stay within the read budget
    velocity = [lead for n, lead in enumerate(expected) if n % 10 == 0]
    seen = []
    for lead_ids, read, items, _ in pages(stack, {"limit": "100", "flag_type": "velocity"}):
        assert {tuple(i["flag_types"]) for i in items} == {("velocity",)}
        assert read <= 1_000
        seen += lead_ids
    assert seen == list(reversed(velocity))


@pytest.mark.slow
def test_a_filtered_page_whose_last_match_is_far_down_reads_a_page_size_a_call(stack):
    # Given 1,000 open referrals where the 24 newest are flagged velocity and the next one is 900 older
    far = 1_000 - 24 - 901
    expected = bulk_queue(stack, 1_000, velocity=lambda n: n >= 976 or n == far)

    # When staff ask for pages of 25 velocity referrals
    result = list(pages(stack, {"limit": "25", "flag_type": "velocity"}))

    # Then the first page holds all 25 matches, found 25 items a call (not one item a call)
    (first, read, _, calls), *rest = result
    assert first == [expected[n] for n in range(999, 975, -1)] + [expected[far]]
    assert calls <= -(-read // 25) and calls <= 1_000 // 25
    # and the next page resumes after the last match: the 75 older referrals hold none
    assert [lead_ids for lead_ids, *_ in rest] in ([], [[]])


def test_a_page_that_fills_mid_call_resumes_after_its_last_item(stack):
    # Given 40 open referrals, all flagged velocity but the 16th to 20th newest
    expected = bulk_queue(stack, 40, velocity=lambda n: not 20 <= n <= 24)

    # When staff ask for pages of 20: the first call finds 15 matches, the second 20 for the 5 places left
    result = list(pages(stack, {"limit": "20", "flag_type": "velocity"}))

    # Then the pages neither overlap nor skip
    assert [lead_ids for lead_ids, *_ in result] == [
        [expected[n] for n in [*range(39, 24, -1), *range(19, 14, -1)]],
        [expected[n] for n in range(14, -1, -1)],
    ]


def test_queue_counts_per_status_follow_the_decisions(stack):
    # Given two flagged referrals, one then questioned
    referrer_id, code = seed_referrer(stack)
    leads = [seed_lead(stack, referrer_id=referrer_id, code=code) for _ in range(2)]
    for lead in leads:
        flag(stack, lead.lead_id, "duplicate_contact")
    assert decide(stack, leads[0].lead_id, "question", "Asked the customer", 0)["statusCode"] == 200

    # When staff read the counts, each status has its number and none is capped
    response = call(stack, "GET", "/admin/reviews/counts")
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    counts = {c["status"]: (c["count"], c["capped"]) for c in body["counts"]}
    assert counts == {"open": (1, False), "questioned": (1, False), "deferred": (0, False),
                      "accepted": (0, False), "dismissed": (0, False)}
    assert [c["status"] for c in body["counts"]] == ["open", "questioned", "deferred", "accepted", "dismissed"]


def test_a_queue_count_stops_at_the_cap(stack):
    from referral_core import deps
    from referral_core.dal.review import ReviewRepository
    from referral_core.stages import ReviewStatus

    # Given more accepted referrals than the cap
    bulk_queue(stack, 30, status="accepted")
    stack.function(ADMIN)
    repo = ReviewRepository(deps.table())

    # Then the count reads up to the cap and says there are more; a cap above the size counts exactly
    assert repo.queue_size(ReviewStatus.ACCEPTED, cap=25) == (25, True)
    assert repo.queue_size(ReviewStatus.ACCEPTED, cap=100) == (30, False)


def test_the_queue_is_filtered_by_a_date_range_and_by_source(stack):
    # Given open referrals last changed on 3 days, one of them from a staff attribution
    referrer_id, code = seed_referrer(stack)
    leads = {}
    for day in ("2026-11-18", "2026-11-19", "2026-11-20"):
        lead = seed_lead(stack, referrer_id=referrer_id, code=code)
        flag(stack, lead.lead_id, "duplicate_contact", at=f"{day}T09:00:00.000000Z")
        leads[day] = lead.lead_id
    from referral_core.dal.dynamo import Table
    Table(stack.table_name, stack.dynamodb).update(f"LEAD#{leads['2026-11-19']}", "REFERRAL",
                                                   "SET #s = :s", names={"#s": "source"}, values={":s": "staff"})

    def queue(**query):
        response = call(stack, "GET", "/admin/reviews", query=query)
        assert response["statusCode"] == 200, response["body"]
        return json_body(response)

    # Then a range (both days included) is a key condition on the sort key, newest first
    assert [i["lead_id"] for i in queue(**{"from": "2026-11-19", "to": "2026-11-20"})["items"]] == [
        leads["2026-11-20"], leads["2026-11-19"]]
    assert [i["lead_id"] for i in queue(to="2026-11-18")["items"]] == [leads["2026-11-18"]]
    assert [i["lead_id"] for i in queue(**{"from": "2026-11-20"})["items"]] == [leads["2026-11-20"]]
    assert [i["lead_id"] for i in queue(source="staff")["items"]] == [leads["2026-11-19"]]
    assert [i["lead_id"] for i in queue(source="staff", to="2026-11-18")["items"]] == []

    # And paging stays inside the range; a cursor from outside it, or a range that ends first, is refused
    first = queue(**{"from": "2026-11-18", "limit": "2"})
    rest = queue(**{"from": "2026-11-18", "limit": "2", "cursor": first["next_cursor"]})
    assert len(first["items"] + rest["items"]) == 3
    outside = call(stack, "GET", "/admin/reviews", query={"from": "2026-11-20", "cursor": first["next_cursor"]})
    assert (outside["statusCode"], json_body(outside)["error"]["fields"]) == (
        400, {"cursor": "not a cursor from this list"})
    backwards = call(stack, "GET", "/admin/reviews", query={"from": "2026-11-20", "to": "2026-11-19"})
    assert (backwards["statusCode"], json_body(backwards)["error"]["fields"]) == (422, {"to": "before from"})
    bad_date = call(stack, "GET", "/admin/reviews", query={"from": "20 Nov"})
    assert bad_date["statusCode"] == 422
