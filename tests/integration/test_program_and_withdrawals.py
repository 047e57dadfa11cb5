"""Staff routes (/admin/program, /admin/withdrawals) and the withdrawal services, in-process on moto."""

from __future__ import annotations

import copy
import json
from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.errors import Conflict, InvalidInput
from referral_core.services.rewards import on_staff_accept, release_due
from referral_core.services.withdrawals import referrer_summary, request_withdrawal
from referral_core.stages import Stage
from tests.support.events import (
    ADMIN_CLAIMS,
    NO_ROLE_CLAIMS,
    STAFF_CLAIMS,
    VIEWER_CLAIMS,
    http_event,
    json_body,
    load_event,
)
from tests.support.rewards import (
    REFERRER,
    assert_balance_matches_ledger,
    referral,
    repos,
    save_rules,
    seed_job,
    seed_referral,
    seed_referrer,
)
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"


def admin(stack, method, path, body=None, query=None, claims=STAFF_CLAIMS):
    return stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=claims))


def put_program_event(**changes):
    event = load_event("staff_admin/put_program.json")
    body = {**json_body(event), **changes}
    return {**event, "body": json.dumps(body)}


def earn(stack, rewards=1, job_amount=20_000):
    """Credit and release ``rewards`` Bronze rewards (25.00 each) for REFERRER."""
    for n in range(rewards):
        seed_job(stack, f"job-{n}", f"lead-{n}", amount_cents=job_amount)
        seed_referral(stack, f"lead-{n}", job_id=f"job-{n}")
        on_staff_accept(repos(stack), f"lead-{n}")
    release_due(repos(stack), at=iso(now() + timedelta(days=365)))


# -- programme ---------------------------------------------------------------------------------------
def test_program_defaults_before_any_save(stack):
    response = admin(stack, "GET", "/admin/program")
    assert response["statusCode"] == 200
    body = json_body(response)
    assert body["version"] == 0
    assert [t["name"] for t in body["rules"]["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert body["rules"]["attribution"] == {"model": "last_touch", "window_days": 90,
                                            "precedence": ["referral_form", "link", "code", "referred_by"],
                                            "missing_job_days": 30}


def test_a_programme_stored_before_the_api_loads_and_the_first_save_replaces_it(stack):
    # Given the old top-level shape (the resolver's own names, no rules, no version)
    stack.dynamodb.put_item(TableName=stack.table_name, Item={
        "pk": {"S": "PROGRAM"}, "sk": {"S": "CURRENT"}, "type": {"S": "program"},
        "attribution": {"M": {"model": {"S": "first_touch"}, "window_days": {"N": "45"},
                              "precedence": {"L": [{"S": "click"}, {"S": "code"}]}}}})
    body = json_body(admin(stack, "GET", "/admin/program"))
    assert body["version"] == 0
    assert body["rules"]["attribution"] == {"model": "first_touch", "window_days": 45,
                                            "precedence": ["link", "code"], "missing_job_days": 30}
    # When staff save what they see, it becomes version 1 in today's shape
    saved = admin(stack, "PUT", "/admin/program", body={**body["rules"], "expected_version": 0},
                  claims=ADMIN_CLAIMS)
    assert saved["statusCode"] == 200, saved["body"]
    again = json_body(admin(stack, "GET", "/admin/program"))
    assert (again["version"], again["rules"]["attribution"]["precedence"]) == (1, ["link", "code"])


def test_put_program_versions_history_and_audit(stack):
    response = stack.invoke(ADMIN, load_event("staff_admin/put_program.json"))
    assert response["statusCode"] == 200, response["body"]
    assert json_body(response)["version"] == 1
    again = stack.invoke(ADMIN, put_program_event(expected_version=1, holding_days=21))
    assert json_body(again)["version"] == 2

    current = json_body(admin(stack, "GET", "/admin/program"))
    assert (current["version"], current["rules"]["holding_days"]) == (2, 21)
    silver = current["rules"]["tiers"][1]["reward"]
    assert silver == {"flat_cents": None, "percent_bp": 1500, "cap_cents": 6000}
    assert current["updated_by"] == "staff:admin@example.com"
    program_items = [i for i in stack.items() if i["pk"] == "PROGRAM"]
    assert len(program_items) == 5  # CURRENT, two versions, two audit entries
    assert sorted(i["sk"] for i in program_items if i["sk"].startswith("VERSION#")) == [
        "VERSION#000001", "VERSION#000002"]
    assert [i["action"] for i in program_items if i["type"] == "audit"] == ["program.updated"] * 2


def test_put_program_with_a_stale_version_is_409_and_writes_nothing(stack):
    stack.invoke(ADMIN, load_event("staff_admin/put_program.json"))
    before = len(stack.items())
    response = stack.invoke(ADMIN, put_program_event(expected_version=0, holding_days=3))
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["fields"] == {"expected_version": "stale"}
    assert len(stack.items()) == before


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tiers": []}, "tiers"),
        ({"tiers": [{"name": "A", "min_rewarded": 1, "reward": {"flat_cents": 100}}]}, "tiers"),
        ({"tiers": [{"name": "A", "min_rewarded": 0, "reward": {"flat_cents": 1, "percent_bp": 5}}]},
         "tiers.0.reward"),
        ({"holding_days": -1}, "holding_days"),
        ({"min_withdrawal_cents": 0}, "min_withdrawal_cents"),
        ({"attribution": {"model": "first_touch", "window_days": 0}}, "attribution.window_days"),
        ({"attribution": {"precedence": ["code", "link", "code"]}}, "attribution.precedence"),
        ({"attribution": {"precedence": ["click"]}}, "attribution.precedence.0"),
        ({"attribution": {"missing_job_days": 0}}, "attribution.missing_job_days"),
        ({"expected_version": None}, "expected_version"),
        ({"bonus": 1}, "bonus"),
    ],
)
def test_invalid_program_is_422_naming_the_field(stack, changes, field):
    response = stack.invoke(ADMIN, put_program_event(**changes))
    assert response["statusCode"] == 422, response["body"]
    assert field in json_body(response)["error"]["fields"]
    assert stack.items() == []


def test_program_routes_are_staff_only(stack):
    assert admin(stack, "GET", "/admin/program", claims=NO_ROLE_CLAIMS)["statusCode"] == 403


# -- withdrawals ---------------------------------------------------------------------------------------
@pytest.fixture
def earned(stack):
    """REFERRER with 75.00 available (three released rewards); minimum withdrawal 20.00."""
    save_rules(stack, require_review=False)
    seed_referrer(stack)
    earn(stack, rewards=3)
    return stack


def test_withdrawal_holds_the_amount(earned):
    withdrawal = request_withdrawal(repos(earned), REFERRER, 5_000, currency="AUD")
    assert withdrawal.status == "requested"
    current = assert_balance_matches_ledger(earned)
    assert (current["available_cents"], current["held_cents"]) == (2_500, 5_000)


def test_withdrawal_below_minimum_is_422_and_above_available_is_409(earned):
    with pytest.raises(InvalidInput) as below:
        request_withdrawal(repos(earned), REFERRER, 1_999, currency="AUD")
    assert "amount_cents" in below.value.fields
    with pytest.raises(Conflict) as above:
        request_withdrawal(repos(earned), REFERRER, 7_501, currency="AUD")
    assert above.value.status == 409
    assert "amount_cents" in above.value.fields
    assert assert_balance_matches_ledger(earned)["held_cents"] == 0


def test_staff_list_and_record_a_payout(earned):
    first = request_withdrawal(repos(earned), REFERRER, 2_500, currency="AUD")
    second = request_withdrawal(repos(earned), REFERRER, 2_500, currency="AUD")

    # Staff page through requested withdrawals, newest first
    page = json_body(admin(earned, "GET", "/admin/withdrawals", query={"status": "requested", "limit": "1"}))
    assert [w["withdrawal_id"] for w in page["items"]] == [second.withdrawal_id]
    rest = json_body(admin(earned, "GET", "/admin/withdrawals",
                           query={"status": "requested", "cursor": page["next_cursor"]}))
    assert [w["withdrawal_id"] for w in rest["items"]] == [first.withdrawal_id]

    # and record the first as paid (the sample event, aimed at this withdrawal)
    pump = StreamPump(earned)
    pump.new_records()
    event = copy.deepcopy(load_event("staff_admin/withdrawal_paid.json"))
    path = f"/admin/withdrawals/{first.withdrawal_id}/paid"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    response = earned.invoke(ADMIN, event)
    assert response["statusCode"] == 200, response["body"]
    paid = json_body(response)
    assert (paid["status"], paid["payout_reference"]) == ("paid", "BANK-2026-11-23-001")
    assert earned.invoke(ADMIN, event)["statusCode"] == 409  # recorded once

    current = assert_balance_matches_ledger(earned)
    assert (current["available_cents"], current["held_cents"], current["paid_cents"]) == (2_500, 2_500, 2_500)
    listed = json_body(admin(earned, "GET", "/admin/withdrawals", query={"status": "paid"}))
    assert [w["withdrawal_id"] for w in listed["items"]] == [first.withdrawal_id]
    audit = [i for i in earned.items_of_type("audit") if i["pk"] == f"WITHDRAWAL#{first.withdrawal_id}"]
    assert audit[0]["action"] == "withdrawal.paid"
    # the payout's stream record marks the oldest reward it covers reward_paid
    assert referral(earned, "lead-0")["stage"] == Stage.REWARD_AVAILABLE
    pump.drain()
    assert referral(earned, "lead-0")["stage"] == Stage.REWARD_PAID
    assert referral(earned, "lead-1")["stage"] == Stage.REWARD_AVAILABLE


def test_staff_reject_returns_the_amount_to_available(earned):
    withdrawal = request_withdrawal(repos(earned), REFERRER, 5_000, currency="AUD")
    response = admin(earned, "POST", f"/admin/withdrawals/{withdrawal.withdrawal_id}/rejected",
                     body={"note": "bank details missing"})
    assert response["statusCode"] == 200
    assert json_body(response)["status"] == "rejected"
    current = assert_balance_matches_ledger(earned)
    assert (current["available_cents"], current["held_cents"]) == (7_500, 0)


def test_decision_errors(earned):
    assert admin(earned, "POST", "/admin/withdrawals/nope/paid",
                 body={"payout_reference": "X"})["statusCode"] == 404
    withdrawal = request_withdrawal(repos(earned), REFERRER, 5_000, currency="AUD")
    bad = admin(earned, "POST", f"/admin/withdrawals/{withdrawal.withdrawal_id}/rejected", body={"note": ""})
    assert bad["statusCode"] == 422
    assert "note" in json_body(bad)["error"]["fields"]
    assert admin(earned, "GET", "/admin/withdrawals", query={"status": "lost"})["statusCode"] == 422
    assert admin(earned, "GET", "/admin/withdrawals", query={"cursor": "!!"})["statusCode"] == 400


def test_referrer_summary_shows_balances_tier_progress_withdrawals_and_rewards(earned):
    request_withdrawal(repos(earned), REFERRER, 2_000, currency="AUD")
    summary = referrer_summary(repos(earned), REFERRER, currency="AUD")
    assert summary.balance.model_dump() == {"pending_cents": 0, "available_cents": 5_500, "held_cents": 2_000,
                                            "paid_cents": 0, "clawback_outstanding_cents": 0}
    assert summary.tier.model_dump() == {"name": "Silver", "rewarded_count": 3, "next_tier": "Gold",
                                         "rewards_to_next_tier": 7}
    assert [w.status for w in summary.withdrawals] == ["requested"]
    assert [r.state for r in summary.rewards] == ["available"] * 3
    assert summary.min_withdrawal_cents == 2_000


def test_saved_versions_are_listed_newest_first_with_paging(stack):
    # Given three saved versions
    assert stack.invoke(ADMIN, load_event("staff_admin/put_program.json"))["statusCode"] == 200
    for version, days in ((1, 21), (2, 7)):
        assert stack.invoke(ADMIN, put_program_event(expected_version=version, holding_days=days))["statusCode"] == 200

    # When a viewer reads the history two at a time
    first = json_body(admin(stack, "GET", "/admin/program/versions", query={"limit": "2"}, claims=VIEWER_CLAIMS))
    second = json_body(admin(stack, "GET", "/admin/program/versions",
                             query={"limit": "2", "cursor": first["next_cursor"]}, claims=VIEWER_CLAIMS))

    # Then every version is there once, newest first, each with its own rules and author
    versions = first["items"] + second["items"]
    assert [(v["version"], v["rules"]["holding_days"]) for v in versions][:2] == [(3, 7), (2, 21)]
    assert [v["version"] for v in versions] == [3, 2, 1]
    assert {v["updated_by"] for v in versions} == {"staff:admin@example.com"}
    assert second["next_cursor"] is None
    bad = admin(stack, "GET", "/admin/program/versions", query={"cursor": "garbage"})
    assert bad["statusCode"] == 400
