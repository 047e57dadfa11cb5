"""The accountant's CSV exports (/admin/exports/*.csv), in-process on moto, from records written by the
real attribution, reward and withdrawal code paths."""

from __future__ import annotations

import copy
import csv
import io
from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.services.rewards import on_staff_accept, release_due
from referral_core.services.withdrawals import request_withdrawal
from tests.support.events import NO_ROLE_CLAIMS, STAFF_CLAIMS, http_event, json_body, load_event
from tests.support.jobs import lead_inserted, seed_lead
from tests.support.rewards import REFERRER, repos, seed_job, seed_referral, seed_referrer

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"
THIS_MONTH = iso()[:7]
INJECTION = "=HYPERLINK(\"https://evil.example\")"


def export(stack, kind, query=None, claims=STAFF_CLAIMS):
    return stack.invoke(ADMIN, http_event("GET", f"/admin/exports/{kind}.csv", route="ANY /admin/{proxy+}",
                                          query=query, claims=claims))


def rows(response):
    assert response["statusCode"] == 200, response["body"]
    return list(csv.DictReader(io.StringIO(response["body"])))


@pytest.fixture
def books(stack):
    """Two attributed referrals (this month, and one in September 2026 from a hostile referrer id), one
    credited reward and one paid payout, all written by the application's own code paths."""
    lead_inserted(stack, seed_lead(stack, ref="K7QX3MZ", code_valid=True, referrer_id="R-NOW"))
    lead_inserted(stack, seed_lead(stack, ref="K7QX3MZ", code_valid=True, referrer_id=INJECTION,
                                   email="old@example.com", created_at="2026-09-15T10:00:00.000Z"))
    seed_referrer(stack)
    seed_job(stack, "job-1", "lead-1", amount_cents=20_000)
    seed_referral(stack, "lead-1", job_id="job-1")
    on_staff_accept(repos(stack), "lead-1")
    return stack


def test_referrals_by_month_with_headers_and_safe_cells(books):
    response = export(books, "referrals")
    assert response["headers"]["Content-Type"] == "text/csv; charset=utf-8"
    assert response["headers"]["Content-Disposition"] == (
        f'attachment; filename="referrals-{THIS_MONTH}-to-{THIS_MONTH}.csv"')
    assert [r["referrer_id"] for r in rows(response)] == ["R-NOW"]

    september = rows(export(books, "referrals", {"from": "2026-09", "to": "2026-09"}))
    assert len(september) == 1
    assert september[0]["referrer_id"] == "'" + INJECTION  # never a formula in a spreadsheet
    assert (september[0]["code"], september[0]["stage"], september[0]["attribution_outcome"]) == (
        "K7QX3MZ", "received", "attributed")
    both = rows(export(books, "referrals", {"from": "2026-09", "to": THIS_MONTH}))
    assert [r["referrer_id"] for r in both] == ["'" + INJECTION, "R-NOW"]  # oldest month first


def test_rewards_carry_cents_decimal_and_currency(books):
    (reward,) = rows(export(books, "rewards"))
    assert (reward["job_id"], reward["referral_id"], reward["referrer_id"]) == ("job-1", "lead-1", REFERRER)
    assert (reward["state"], reward["amount_cents"], reward["amount"], reward["currency"]) == (
        "pending", "2500", "25.00", "AUD")
    assert rows(export(books, "rewards", {"from": "2026-01", "to": "2026-02"})) == []


def test_sample_event_exports_the_rewards_of_its_months(books):
    event = copy.deepcopy(load_event("staff_admin/export_rewards_csv.json"))
    event["rawQueryString"] = f"from={THIS_MONTH}&to={THIS_MONTH}"
    event["queryStringParameters"] = {"from": THIS_MONTH, "to": THIS_MONTH}
    assert [r["job_id"] for r in rows(books.invoke(ADMIN, event))] == ["job-1"]


def test_payouts_are_paid_withdrawals_only(books):
    release_due(repos(books), at=iso(now() + timedelta(days=365)))
    paid = request_withdrawal(repos(books), REFERRER, 2_000, currency="AUD")
    assert rows(export(books, "payouts")) == []  # requested is not paid yet
    decided = books.invoke(ADMIN, http_event("POST", f"/admin/withdrawals/{paid.withdrawal_id}/paid",
                                             body={"payout_reference": "-BANK 42"}, claims=STAFF_CLAIMS))
    assert decided["statusCode"] == 200, decided["body"]
    (payout,) = rows(export(books, "payouts"))
    assert (payout["withdrawal_id"], payout["amount_cents"], payout["amount"]) == (
        paid.withdrawal_id, "2000", "20.00")
    assert (payout["payout_reference"], payout["paid_by"]) == ("'-BANK 42", f"staff:{STAFF_CLAIMS['email']}")


def test_exports_never_scan(books):
    from referral_core import deps

    books.function(ADMIN)
    calls: list[str] = []
    deps.table().client.meta.events.register("before-call.dynamodb.*",
                                            lambda model, **_: calls.append(model.name))
    for kind in ("referrals", "rewards", "payouts"):
        rows(export(books, kind, {"from": "2025-12", "to": THIS_MONTH}))
    assert "Scan" not in calls
    assert {"Query", "BatchGetItem"} <= set(calls)


@pytest.mark.parametrize(("query", "field"), [
    ({"from": "2026-13"}, "from"), ({"to": "11/2026"}, "to"),
    ({"from": "2024-01", "to": "2026-01"}, "to"), ({"from": "2026-05", "to": "2026-04"}, "to"),
])
def test_bad_months_are_422_naming_the_field(stack, query, field):
    response = export(stack, "rewards", query)
    assert response["statusCode"] == 422
    assert field in json_body(response)["error"]["fields"]


def test_exports_are_staff_only(stack):
    assert export(stack, "payouts", claims=None)["statusCode"] == 401
    assert export(stack, "payouts", claims=NO_ROLE_CLAIMS)["statusCode"] == 403
    unknown = export(stack, "ledger")
    assert unknown["statusCode"] == 422
    assert "kind" in json_body(unknown)["error"]["fields"]
