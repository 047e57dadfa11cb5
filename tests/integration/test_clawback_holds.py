"""A refund after the reward was withdrawn (issue 16, item 2): the clawback reaches the withdrawal.

reward released → ``POST /me/withdrawals`` → ``job.refunded`` → the withdrawal is ``on_hold`` (staff and the
referrer see why), ``POST /admin/withdrawals/{id}/paid`` is 409 unless staff override with a note (audited),
and rejecting it repays the clawback first. The balance is the sum of the ledger after every step.
"""

from __future__ import annotations

from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.errors import Conflict
from referral_core.models.rewards import MarkPaidRequest
from referral_core.services.rewards import on_job_refunded, on_staff_accept, release_due
from referral_core.services.withdrawals import mark_withdrawal_paid, request_withdrawal
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.jobs import configure_webhook_secrets, post_job_event
from tests.support.portal import portal, sign_in
from tests.support.rewards import (
    assert_balance_matches_ledger,
    refund,
    repos,
    save_rules,
    seed_job,
    seed_referral,
    seed_referrer,
)
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"
EMAIL = "earner@example.com"
LATER = iso(now() + timedelta(days=365))


def admin(stack, method, path, body=None, query=None):
    return stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=STAFF_CLAIMS))


def create_referrer(stack) -> str:
    response = admin(stack, "POST", "/admin/referrers", body={"name": "Jo Smith", "email": EMAIL})
    assert response["statusCode"] == 201, response["body"]
    return json_body(response)["referrer_id"]


def earn_through_the_webhook(stack, referrer_id: str, job_id: str, lead_id: str) -> None:
    """A job completed and paid through the signed webhook, its referral accepted and its reward released."""
    for event_type in ("job.completed", "job.paid"):
        answer = post_job_event(stack, event_type, job_id, lead_id=lead_id, amount_cents=20_000)
        assert answer["statusCode"] == 200, answer["body"]
    seed_referral(stack, lead_id, referrer_id, job_id)
    on_staff_accept(repos(stack), lead_id)
    release_due(repos(stack), at=LATER)


@pytest.fixture
def withdrawn(portal_stack):
    """A referrer whose only reward (25.00) is released and asked for in a withdrawal; the stream is read
    from here on."""
    stack = portal_stack
    configure_webhook_secrets(stack)
    save_rules(stack, require_review=True)
    referrer_id = create_referrer(stack)
    earn_through_the_webhook(stack, referrer_id, "J-1", "lead-1")
    session = sign_in(stack, EMAIL)
    asked = portal(stack, "POST", "/me/withdrawals", session=session, body={"amount_cents": 2_500})
    assert asked["statusCode"] == 201, asked["body"]
    pump = StreamPump(stack)
    pump.new_records()
    return {"stack": stack, "referrer_id": referrer_id, "session": session, "pump": pump,
            "withdrawal_id": json_body(asked)["withdrawal_id"]}


def refunded(ctx) -> None:
    answer = post_job_event(ctx["stack"], "job.refunded", "J-1", lead_id="lead-1", amount_cents=20_000)
    assert answer["statusCode"] == 200, answer["body"]
    ctx["pump"].drain()


def paid(ctx, **body):
    return admin(ctx["stack"], "POST", f"/admin/withdrawals/{ctx['withdrawal_id']}/paid",
                 body={"payout_reference": "EFT-1", **body})


def test_a_refund_after_the_withdrawal_puts_it_on_hold_and_paying_it_is_409(withdrawn):
    ctx, stack = withdrawn, withdrawn["stack"]
    refunded(ctx)

    # Staff cannot pay it without an override, and nothing moved
    refused = paid(ctx, note="paid")
    assert refused["statusCode"] == 409, refused["body"]
    assert "override_hold" in json_body(refused)["error"]["fields"]
    balance = assert_balance_matches_ledger(stack, ctx["referrer_id"])
    assert (balance["available_cents"], balance["held_cents"], balance["paid_cents"],
            balance["clawback_outstanding_cents"]) == (0, 2_500, 0, 2_500)

    # Staff see it on hold, with the refunded job that put it there
    listed = json_body(admin(stack, "GET", "/admin/withdrawals", query={"status": "on_hold"}))["items"]
    assert [(w["withdrawal_id"], w["status"], w["hold_reason"], w["hold_cents"], w["hold_jobs"])
            for w in listed] == [(ctx["withdrawal_id"], "on_hold", "reward_clawed_back", 2_500, ["J-1"])]
    assert json_body(admin(stack, "GET", "/admin/withdrawals", query={"status": "requested"}))["items"] == []
    # ... and on the referral's evidence: the reward names the withdrawal it held
    evidence = json_body(admin(stack, "GET", "/admin/referrals/lead-1"))
    assert evidence["reward"]["state"] == "clawed_back"
    assert evidence["reward"]["held_withdrawals"] == [ctx["withdrawal_id"]]

    # The referrer sees it on hold, with the reason (no job ids)
    me = json_body(portal(stack, "GET", "/me", session=ctx["session"]))
    (mine,) = me["withdrawals"]
    assert (mine["status"], mine["hold_reason"]) == ("on_hold", "reward_clawed_back")
    assert "hold_jobs" not in mine
    assert me["balance"]["clawback_outstanding_cents"] == 2_500


def test_staff_override_pays_it_with_a_note_and_the_override_is_audited(withdrawn):
    ctx, stack = withdrawn, withdrawn["stack"]
    refunded(ctx)

    no_note = paid(ctx, override_hold=True)
    assert no_note["statusCode"] == 422
    assert "note" in json_body(no_note)["error"]["fields"]
    not_a_bool = paid(ctx, override_hold="yes", note="x")
    assert not_a_bool["statusCode"] == 422

    done = paid(ctx, override_hold=True, note="sent before the refund arrived")
    assert done["statusCode"] == 200, done["body"]
    assert (json_body(done)["status"], json_body(done)["override_hold"]) == ("paid", True)
    balance = assert_balance_matches_ledger(stack, ctx["referrer_id"])
    # paid out; the clawback stays outstanding and is recovered from the next releases
    assert (balance["available_cents"], balance["held_cents"], balance["paid_cents"],
            balance["clawback_outstanding_cents"]) == (0, 0, 2_500, 2_500)
    audit = [i for i in stack.items_of_type("audit") if i["pk"] == f"WITHDRAWAL#{ctx['withdrawal_id']}"]
    actions = {a["action"]: a for a in audit}
    assert set(actions) == {"withdrawal.on_hold", "withdrawal.paid"}
    detail = actions["withdrawal.paid"]["detail"]
    assert (detail["override_hold"], detail["from_status"], detail["note"], detail["hold_jobs"]) == (
        True, "on_hold", "sent before the refund arrived", ["J-1"])
    assert actions["withdrawal.paid"]["actor"].startswith("staff:")


def test_rejecting_the_held_withdrawal_repays_the_clawback(withdrawn):
    ctx, stack = withdrawn, withdrawn["stack"]
    refunded(ctx)
    rejected = admin(stack, "POST", f"/admin/withdrawals/{ctx['withdrawal_id']}/rejected",
                     body={"note": "the job was refunded"})
    assert rejected["statusCode"] == 200, rejected["body"]
    balance = assert_balance_matches_ledger(stack, ctx["referrer_id"])
    # the 25.00 came back from the withdrawal and repaid the clawback: nothing owed, nothing to spend
    assert (balance["available_cents"], balance["held_cents"], balance["paid_cents"],
            balance["clawback_outstanding_cents"]) == (0, 0, 0, 0)


def test_a_refund_that_available_still_covers_holds_nothing(portal_stack):
    stack = portal_stack
    configure_webhook_secrets(stack)
    save_rules(stack, require_review=True)
    referrer_id = create_referrer(stack)
    earn_through_the_webhook(stack, referrer_id, "J-1", "lead-1")
    earn_through_the_webhook(stack, referrer_id, "J-2", "lead-2")
    withdrawal = request_withdrawal(repos(stack), referrer_id, 2_500, currency="AUD")
    assert post_job_event(stack, "job.refunded", "J-2", amount_cents=20_000)["statusCode"] == 200
    assert on_job_refunded(repos(stack), "J-2") == "clawed_back"
    assert repos(stack).withdrawals.get(withdrawal.withdrawal_id)["status"] == "requested"
    balance = assert_balance_matches_ledger(stack, referrer_id)
    assert (balance["available_cents"], balance["held_cents"], balance["clawback_outstanding_cents"]) == (
        0, 2_500, 0)


def test_the_shortfall_holds_the_newest_withdrawals_that_cover_it(stack):
    save_rules(stack, require_review=False, min_withdrawal_cents=1_000,
               tiers=[{"name": "Bronze", "min_rewarded": 0, "reward": {"flat_cents": 3_000}}])
    referrer_id = seed_referrer(stack)
    for n in range(3):
        seed_job(stack, f"job-{n}", f"lead-{n}")
        seed_referral(stack, f"lead-{n}", referrer_id, f"job-{n}")
        on_staff_accept(repos(stack), f"lead-{n}")
    release_due(repos(stack), at=LATER)
    book = repos(stack)
    oldest, middle, newest = (request_withdrawal(book, referrer_id, cents, currency="AUD").withdrawal_id
                              for cents in (4_000, 2_000, 2_000))
    # available 1_000; a refund of 3_000: 1_000 from available, 2_000 reach the newest withdrawal
    refund(stack, "job-0")
    on_job_refunded(book, "job-0")
    statuses = {w: book.withdrawals.get(w) for w in (oldest, middle, newest)}
    assert [(statuses[w]["status"], statuses[w].get("hold_cents")) for w in (oldest, middle, newest)] == [
        ("requested", None), ("requested", None), ("on_hold", 2_000)]
    # the next refund (3_000, nothing available) holds the next newest that still has room
    refund(stack, "job-1")
    on_job_refunded(book, "job-1")
    statuses = {w: book.withdrawals.get(w) for w in (oldest, middle, newest)}
    assert [(statuses[w]["status"], statuses[w].get("hold_cents")) for w in (oldest, middle, newest)] == [
        ("on_hold", 1_000), ("on_hold", 2_000), ("on_hold", 2_000)]
    assert (statuses[oldest]["hold_jobs"], statuses[newest]["hold_jobs"]) == (["job-1"], ["job-0"])
    balance = assert_balance_matches_ledger(stack, referrer_id)
    assert (balance["available_cents"], balance["held_cents"], balance["clawback_outstanding_cents"]) == (
        0, 8_000, 5_000)
    # a payout without override is refused by the service too
    with pytest.raises(Conflict):
        mark_withdrawal_paid(book, newest, MarkPaidRequest(payout_reference="P"), actor="test")
