"""Fault injection: every DynamoDB call of each flow fails in turn (throttling, timeout, lost condition).

For each flow: one clean run counts its calls; then call 1..N fails. A *persistent* fault (raised at
``before-call``: the SDK does not retry it) must end in a clean answer: success, or 409/503 with the error
JSON (``{"error": {...}}``), never an unhandled exception (API Gateway would answer 500) and never partial
state (the flow's invariant). A *transient* fault (only the first HTTP attempt fails) must be absorbed by
the SDK's retries: the flow answers exactly as in the clean run.

Flows with a ``done`` check are also retried: after a refused call the client sends the same request again
once the fault is gone, and the whole effect must then be there exactly once (``done`` is also checked
after the clean run and every transient run). Effects that follow from the stream (a credit after an
accept, rewards marked paid after a payout) are delivered by draining the table's real stream first.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta
from functools import partial
from typing import Any

import pytest

from referral_core.clock import iso, now
from referral_core.dal.ledger import BALANCE_FIELDS, EntryKind
from referral_core.dal.withdrawals import WithdrawalStatus
from referral_core.policy import TERMS_VERSION
from referral_core.services.rewards import on_job_refunded, on_staff_accept, release_due
from referral_core.services.withdrawals import request_withdrawal
from referral_core.stages import Stage
from tests.support.admin import flag
from tests.support.dynamo_calls import FAULT_KINDS, Fault, FaultKind, inject, is_conditional, watch
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.jobs import configure_webhook_secrets, post_job_event
from tests.support.leads import lead_body, post_lead
from tests.support.portal import application_link, portal, sign_in
from tests.support.rewards import empty_table, refund, repos, seed_job, seed_referral
from tests.support.stream_pump import StreamPump, batches, consumers

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"
REDIRECT = "LinkRedirectFunction"
REFERRER_ITEMS = ("referrer", "unique", "share_code", "balance", "audit")


@dataclass(frozen=True)
class Flow:
    """``setup`` seeds what the flow needs (no faults); ``act`` runs it; ``check`` lists broken invariants."""

    setup: Callable[[Any], dict[str, Any]]
    act: Callable[[Any, dict[str, Any]], Any]
    check: Callable[[Any, dict[str, Any], Any], list[str]]
    success: tuple[int, ...]
    done: Callable[[Any, dict[str, Any], Any], list[str]] | None = None
    """The whole effect, exactly once (after a success; a refused call is retried first)."""


def _create_referrer(stack: Any, email: str = "jo@example.com") -> Any:
    body = {"name": "Jo Smith", "email": email, "phone": "0412 345 678"}
    return stack.invoke(ADMIN, http_event("POST", "/admin/referrers", body=body, claims=STAFF_CLAIMS))


def _counts(stack: Any, kinds: tuple[str, ...]) -> dict[str, int]:
    items = stack.items()
    return {kind: sum(1 for i in items if i.get("type") == kind) for kind in kinds}


def _check_referrer(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    counts = _counts(stack, REFERRER_ITEMS)
    expected = 1 if response["statusCode"] == 201 else 0
    if any(n != expected for n in counts.values()):
        return [f"status {response['statusCode']} left {counts} (expected {expected} of each)"]
    return []


def _redirect(stack: Any, ctx: dict[str, Any]) -> Any:
    code = ctx["code"]
    return stack.invoke(REDIRECT, http_event("GET", f"/r/{code}", route="/r/{code}", path_params={"code": code}))


def _check_redirect(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    clicks = _counts(stack, ("click",))["click"]
    problems = [] if clicks <= 1 else [f"{clicks} click items for one visit"]
    if response["statusCode"] == 302 and f"ref={ctx['code']}" not in response["headers"].get("Location", ""):
        problems.append(f"302 without the code in Location: {response['headers']}")
    return problems


def _seed_code(stack: Any) -> dict[str, Any]:
    return {"code": json_body(_create_referrer(stack))["code"]}


def _kinds(stack: Any) -> Counter[str]:
    return Counter(str(i.get("type", "")) for i in stack.items())


def _all_or_nothing(*kinds: str, success: int,
                    retry_converges: bool = False) -> Callable[[Any, dict[str, Any], Any], list[str]]:
    """All ``kinds`` written or none (a success may write none: a lost condition read as "already done");
    a refusal writes none. With ``retry_converges``, a 503 may also come after the whole effect (the
    idempotency record could not be completed): never a partial one, and a retry finds it done."""
    def check(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
        grown = _kinds(stack) - ctx["before"]
        written = {kind for kind in kinds if grown[kind]}
        whole_or_none = written in (set(), set(kinds))
        if response["statusCode"] == success or (retry_converges and response["statusCode"] == 503):
            ok = whole_or_none
        else:
            ok = not written
        return [] if ok else [f"status {response['statusCode']} left new items {dict(grown)}"]
    return check


def _seed_lead_flow(stack: Any) -> dict[str, Any]:
    code = _seed_code(stack)["code"]
    return {"code": code, "before": _kinds(stack)}


def _seed_job_flow(stack: Any) -> dict[str, Any]:
    configure_webhook_secrets(stack)
    lead = post_lead(stack, lead_body(ref=None, cid=None))
    return {"lead_id": json_body(lead)["lead_id"], "before": _kinds(stack)}


# -- money: a referrer's withdrawal, staff record the payout or reject it ------------------------------
REWARD_CENTS = 2_500  # the default programme's Bronze reward
WITHDRAWAL_CENTS = 2_500
HOLD, PAID, RELEASE = EntryKind.WITHDRAWAL_HOLD, EntryKind.WITHDRAWAL_PAID, EntryKind.WITHDRAWAL_REJECTED_RELEASE
LEDGER_OF_STATUS = {WithdrawalStatus.REQUESTED: {HOLD}, WithdrawalStatus.ON_HOLD: {HOLD},
                    WithdrawalStatus.PAID: {HOLD, PAID}, WithdrawalStatus.REJECTED: {HOLD, RELEASE}}


def _drained(ctx: dict[str, Any]) -> None:
    """Deliver what the flow wrote to the stream consumers, as the event source mapping would."""
    ctx["pump"].drain()


def _seeded(stack: Any, ctx: dict[str, Any], *, stream: bool = False) -> dict[str, Any]:
    """The seeded state to compare with; ``stream``: start reading the table's stream here, so that only
    the flow's own records are delivered to the consumers later."""
    if stream:
        pump = StreamPump(stack)
        pump.new_records()
        ctx = {**ctx, "pump": pump}
    return {**ctx, "before": _kinds(stack)}


def _seed_earner(stack: Any, *, signed_in: bool = False) -> dict[str, Any]:
    """A referrer created by staff, with two released rewards (job-0's credited first); ``signed_in``: with
    a portal session."""
    email = "earner@example.com"
    referrer_id = json_body(_create_referrer(stack, email))["referrer_id"]
    for n in range(2):
        seed_job(stack, f"job-{n}", f"lead-{n}", amount_cents=20_000)
        seed_referral(stack, f"lead-{n}", referrer_id, f"job-{n}")
        on_staff_accept(repos(stack), f"lead-{n}")
    release_due(repos(stack), at=iso(now() + timedelta(days=365)))
    ctx = {"referrer_id": referrer_id, "session": sign_in(stack, email) if signed_in else None}
    return {**ctx, "statuses": _money(stack, referrer_id)[1]}


def _seed_withdrawal(stack: Any) -> dict[str, Any]:
    ctx = _seed_earner(stack)
    withdrawal = request_withdrawal(repos(stack), ctx["referrer_id"], WITHDRAWAL_CENTS, currency="AUD")
    ctx |= {"withdrawal_id": withdrawal.withdrawal_id, "statuses": _money(stack, ctx["referrer_id"])[1]}
    return _seeded(stack, ctx, stream=True)


def _seed_held_withdrawal(stack: Any, *, refunded: bool = True) -> dict[str, Any]:
    """Issue 16: everything available (both rewards) asked for in one withdrawal, then job-1 refunded: its
    clawback puts the withdrawal on hold (``refunded`` False: the refund is left to the stream)."""
    ctx = _seed_earner(stack)
    withdrawal = request_withdrawal(repos(stack), ctx["referrer_id"], 2 * REWARD_CENTS, currency="AUD")
    ctx |= {"withdrawal_id": withdrawal.withdrawal_id}
    if not refunded:
        ctx = _seeded(stack, ctx, stream=True)
    refund(stack, "job-1")
    if refunded:
        on_job_refunded(repos(stack), "job-1")
        assert repos(stack).withdrawals.get(withdrawal.withdrawal_id)["status"] == WithdrawalStatus.ON_HOLD
    return {**ctx, "statuses": _money(stack, ctx["referrer_id"])[1], "before": _kinds(stack)}


def _seed_withdrawal_request(stack: Any) -> dict[str, Any]:
    return _seeded(stack, _seed_earner(stack, signed_in=True))


def _money(stack: Any, referrer_id: str) -> tuple[list[str], dict[str, str]]:
    """(broken money invariants, withdrawal id -> status): the balance is the sum of the ledger, and each
    withdrawal has exactly the ledger entries of its status (its hold, then the payout or the release)."""
    items = stack.items()
    pk = f"REFERRER#{referrer_id}"
    entries = [i for i in items if i["pk"] == pk and i.get("type") == "ledger"]
    balance = next(i for i in items if i["pk"] == pk and i["sk"] == "BALANCE")
    problems = [f"balance {name} = {balance.get(name, 0)} but the ledger sums to {total}"
                for name in BALANCE_FIELDS
                if int(balance.get(name, 0)) != (total := sum(e["deltas"][name] for e in entries))]
    kinds: dict[str, list[str]] = defaultdict(list)
    for entry in entries:
        if entry["kind"] in (HOLD, PAID, RELEASE):
            kinds[entry["source_id"]].append(entry["kind"])
    withdrawals = {i["withdrawal_id"]: i for i in items if i.get("type") == "withdrawal"}
    for withdrawal_id, withdrawal in withdrawals.items():
        posted = kinds.pop(withdrawal_id, [])
        if sorted(posted) != sorted(LEDGER_OF_STATUS[WithdrawalStatus(withdrawal["status"])]):
            problems.append(f"withdrawal {withdrawal['status']} with ledger entries {posted}")
    problems += [f"ledger entries {posted} for no withdrawal" for posted in kinds.values()]
    return problems, {withdrawal_id: str(w["status"]) for withdrawal_id, w in withdrawals.items()}


def _check_withdrawal(target: WithdrawalStatus | None, success: int
                      ) -> Callable[[Any, dict[str, Any], Any], list[str]]:
    """Money invariants; a refused call changed no withdrawal; a success made exactly its change
    (``target`` None: one new requested withdrawal; else the seeded one moved to ``target``)."""
    def check(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
        problems, statuses = _money(stack, ctx["referrer_id"])
        expected = dict(ctx["statuses"])
        if response["statusCode"] == success and target is not None:
            expected[ctx["withdrawal_id"]] = str(target)
        if response["statusCode"] == success and target is None:
            new = set(statuses) - set(expected)
            expected |= {withdrawal_id: str(WithdrawalStatus.REQUESTED) for withdrawal_id in new}
            problems += [] if len(new) == 1 else [f"{len(new)} withdrawals for one request"]
        if statuses != expected:
            problems.append(f"status {response['statusCode']}: withdrawals {statuses}, expected {expected}")
        return problems
    return check


def _balance(stack: Any, referrer_id: str) -> dict[str, Any]:
    return next(i for i in stack.items() if i["pk"] == f"REFERRER#{referrer_id}" and i["sk"] == "BALANCE")


def _withdrawn_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    problems, statuses = _money(stack, ctx["referrer_id"])
    balance = _balance(stack, ctx["referrer_id"])
    held = (balance["available_cents"], balance["held_cents"])
    expected = (2 * REWARD_CENTS - WITHDRAWAL_CENTS, WITHDRAWAL_CENTS)
    if (held, list(statuses.values())) != (expected, ["requested"]):
        problems.append(f"(available, held) = {held}, withdrawals {statuses}: expected {expected} and one")
    return problems


def _paid_out_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    """The payout moved held to paid once, and the oldest reward it covers shows as paid."""
    _drained(ctx)
    problems = _money(stack, ctx["referrer_id"])[0]
    balance = _balance(stack, ctx["referrer_id"])
    moved = (balance["available_cents"], balance["held_cents"], balance["paid_cents"])
    problems += [] if moved == (REWARD_CENTS, 0, WITHDRAWAL_CENTS) else [f"(available, held, paid) = {moved}"]
    states = {r["job_id"]: r["state"] for r in stack.items_of_type("reward")}
    stages = {r["lead_id"]: r["stage"] for r in stack.items_of_type("referral")}
    if (states, stages) != ({"job-0": "paid", "job-1": "available"},
                            {"lead-0": Stage.REWARD_PAID, "lead-1": Stage.REWARD_AVAILABLE}):
        problems.append(f"rewards {states}, referrals {stages}: the oldest should be paid")
    return problems


def _rejected_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    problems = _money(stack, ctx["referrer_id"])[0]
    balance = _balance(stack, ctx["referrer_id"])
    back = (balance["available_cents"], balance["held_cents"], balance["paid_cents"])
    return problems + ([] if back == (2 * REWARD_CENTS, 0, 0) else [f"(available, held, paid) = {back}"])


def _request_withdrawal(stack: Any, ctx: dict[str, Any]) -> Any:
    return portal(stack, "POST", "/me/withdrawals", session=ctx["session"], body={"amount_cents": WITHDRAWAL_CENTS})


def _staff(stack: Any, path: str, body: dict[str, Any]) -> Any:
    return stack.invoke(ADMIN, http_event("POST", path, body=body, claims=STAFF_CLAIMS))


def _withdrawal_paid(stack: Any, ctx: dict[str, Any]) -> Any:
    return _staff(stack, f"/admin/withdrawals/{ctx['withdrawal_id']}/paid",
                  {"payout_reference": "EFT-2026-11-23-001", "note": "paid by bank transfer"})


def _withdrawal_paid_over_hold(stack: Any, ctx: dict[str, Any]) -> Any:
    return _staff(stack, f"/admin/withdrawals/{ctx['withdrawal_id']}/paid",
                  {"payout_reference": "EFT-2026-11-23-002", "note": "paid before the refund", "override_hold": True})


def _paid_over_hold_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    problems = _money(stack, ctx["referrer_id"])[0]
    balance = _balance(stack, ctx["referrer_id"])
    moved = (balance["available_cents"], balance["held_cents"], balance["paid_cents"],
             balance["clawback_outstanding_cents"])
    problems += [] if moved == (0, 0, 2 * WITHDRAWAL_CENTS, REWARD_CENTS) else [
        f"(available, held, paid, outstanding) = {moved}"]
    audits = [a for a in stack.items_of_type("audit") if a["pk"] == f"WITHDRAWAL#{ctx['withdrawal_id']}"
              and a["action"] == "withdrawal.paid"]
    if [a["detail"].get("override_hold") for a in audits] != [True]:
        problems.append(f"payout audit entries {audits}: expected one with the override")
    return problems


def _rejected_from_hold_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    """Rejected: the amount came back to available less the clawback it repaid."""
    problems = _money(stack, ctx["referrer_id"])[0]
    balance = _balance(stack, ctx["referrer_id"])
    back = (balance["available_cents"], balance["held_cents"], balance["clawback_outstanding_cents"])
    return problems + ([] if back == (REWARD_CENTS, 0, 0) else [f"(available, held, outstanding) = {back}"])


def _withdrawal_rejected(stack: Any, ctx: dict[str, Any]) -> Any:
    return _staff(stack, f"/admin/withdrawals/{ctx['withdrawal_id']}/rejected", {"note": "bank details missing"})


# -- staff decisions, attribution fixes and disputes ------------------------------------------------------
LEAD_ID = "lead-9"
DECIDED = {"accept": ("accepted", None), "question": ("questioned", Stage.UNDER_REVIEW),
           "defer": ("deferred", Stage.UNDER_REVIEW), "dismiss": ("dismissed", Stage.NOT_ELIGIBLE)}


def _seed_review(stack: Any, *, stream: bool = False) -> dict[str, Any]:
    """A flagged referral of a referrer, its job completed and paid (an accept credits it), and a second
    referrer (to attribute it to)."""
    referrer_id = json_body(_create_referrer(stack))["referrer_id"]
    other_id = json_body(_create_referrer(stack, "other@example.com"))["referrer_id"]
    seed_job(stack, "job-9", LEAD_ID, amount_cents=20_000)
    seed_referral(stack, LEAD_ID, referrer_id, "job-9")
    flag(stack, LEAD_ID, "velocity")
    flag(stack, LEAD_ID, "unclear_source")
    return _seeded(stack, {"referrer_id": referrer_id, "other_id": other_id}, stream=stream)


def _lead_items(stack: Any) -> dict[str, list[dict[str, Any]]]:
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for item in stack.items():
        if item["pk"] == f"LEAD#{LEAD_ID}":
            grouped[str(item.get("type"))].append(item)
    return grouped


def _credits(stack: Any) -> list[dict[str, Any]]:
    return [i for i in stack.items() if i.get("type") == "ledger" and i["kind"] == EntryKind.CREDIT_PENDING]


def _check_staff_change(trail: tuple[str, ...], success: int = 200) -> Callable[[Any, dict[str, Any], Any], list[str]]:
    """The referral's new version and its ``trail`` items (one each) are written together or not at all,
    and only with a success; no credit appears without a recorded accept; the money still adds up."""
    def check(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
        items = _lead_items(stack)
        referral = items["referral"][0]
        counts = {kind: len(items[kind]) for kind in trail}
        recorded = int(referral.get("version", 0)) == 1
        problems = _money(stack, ctx["referrer_id"])[0]
        if set(counts.values()) != {1 if recorded else 0}:
            problems.append(f"version {referral.get('version', 0)} with {counts}")
        if recorded != (response["statusCode"] == success):
            problems.append(f"status {response['statusCode']} but the change is {'' if recorded else 'not '}"
                            "recorded")
        resolved = [f["flag_type"] for f in items["flag"] if f["status"] == "resolved"]
        if resolved and not recorded:
            problems.append(f"flags {resolved} resolved without the change")
        accepted = referral.get("review_status") == "accepted" and recorded
        if len(_credits(stack)) > (1 if accepted else 0):
            problems.append(f"{len(_credits(stack))} credits, accept recorded: {accepted}")
        return problems
    return check


def _decide(decision: str) -> Callable[[Any, dict[str, Any]], Any]:
    def act(stack: Any, ctx: dict[str, Any]) -> Any:
        return _staff(stack, f"/admin/referrals/{LEAD_ID}/decisions",
                      {"decision": decision, "note": f"{decision}: checked with the customer", "expected_version": 0})
    return act


def _decided_once(decision: str) -> Callable[[Any, dict[str, Any], Any], list[str]]:
    """One decision, one note, one audit entry; the referral in its new queue at its new stage (answered as
    written: an accept releases the hold to the progress stage); an accept of the paid job credits the
    reward exactly once (from the stream)."""
    status, hold = DECIDED[decision]

    def done(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
        answer = {k: json_body(response)[k] for k in ("review_status", "stage", "version")}
        problems = [] if answer == {"review_status": status, "stage": hold or Stage.CUSTOMER_PAID, "version": 1} \
            else [f"answered {answer}"]
        if "pump" in ctx:
            _drained(ctx)
        items = _lead_items(stack)
        referral = items["referral"][0]
        trail = {kind: len(items[kind]) for kind in ("decision", "note", "audit")}
        if trail != {"decision": 1, "note": 1, "audit": 1}:
            problems.append(f"trail {trail}")
        stage = hold or Stage.REWARD_PENDING
        if (referral["review_status"], referral["version"], referral["stage"]) != (status, 1, stage):
            problems.append(f"referral {referral['review_status']} v{referral['version']} at {referral['stage']}")
        credits = len(_credits(stack))
        if credits != (1 if decision == "accept" else 0):
            problems.append(f"{credits} credits after {decision}")
        return problems
    return done


def _attribute(stack: Any, ctx: dict[str, Any]) -> Any:
    return _staff(stack, f"/admin/referrals/{LEAD_ID}/attribution", {
        "referrer_id": ctx["other_id"], "note": "the customer named the other referrer", "expected_version": 0})


def _attributed_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    items = _lead_items(stack)
    referral = items["referral"][0]
    flags = {f["flag_type"]: f["status"] for f in items["flag"]}
    answer = json_body(response)
    problems = [] if (answer["referrer_id"], answer["version"]) == (ctx["other_id"], 1) else [f"answered {answer}"]
    if (referral["referrer_id"], referral["source"], referral["version"]) != (ctx["other_id"], "staff", 1):
        problems.append(f"referral {referral}")
    if flags != {"velocity": "open", "unclear_source": "resolved"}:
        problems.append(f"flags {flags}")
    return problems


def _seed_dispute(stack: Any) -> dict[str, Any]:
    ctx = _seed_review(stack)
    opened = _open_dispute(stack, ctx)
    assert opened["statusCode"] == 201, opened
    return {**ctx, "dispute_id": json_body(opened)["dispute_id"], "before": _kinds(stack)}


def _open_dispute(stack: Any, ctx: dict[str, Any]) -> Any:
    return stack.invoke(ADMIN, http_event("POST", "/admin/disputes", claims=STAFF_CLAIMS, body={
        "referral_id": LEAD_ID, "referrer_id": ctx["referrer_id"], "subject": "Reward not shown",
        "note": "Referrer called: says the job was paid last week"}))


def _resolve_dispute(stack: Any, ctx: dict[str, Any]) -> Any:
    return _staff(stack, f"/admin/disputes/{ctx['dispute_id']}/resolve",
                  {"outcome": "upheld", "note": "Job paid; reward released"})


def _check_dispute(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    """Resolved with its two audit entries (the dispute's and the referral's), or still open and unchanged."""
    grown = _kinds(stack) - ctx["before"]
    (dispute,) = stack.items_of_type("dispute")
    resolved = dispute["status"] == "resolved"
    problems = [] if resolved == (response["statusCode"] == 200) else [
        f"status {response['statusCode']} with the dispute {dispute['status']}"]
    if grown != (Counter({"audit": 2}) if resolved else Counter()):
        problems.append(f"dispute {dispute['status']} with new items {dict(grown)}")
    if len(dispute["notes"]) != (2 if resolved else 1):
        problems.append(f"dispute {dispute['status']} with {len(dispute['notes'])} notes")
    return problems


def _resolved_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    (dispute,) = stack.items_of_type("dispute")
    body = json_body(response)
    return [] if (dispute["status"], dispute["outcome"], body["status"], len(body["notes"])) == (
        "resolved", "upheld", "resolved", 2) else [f"dispute {dispute}, answered {body}"]


def _opened_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    disputes = stack.items_of_type("dispute")
    grown = _kinds(stack) - ctx["before"]
    return [] if (len(disputes), grown) == (1, Counter({"dispute": 1, "audit": 2})) else [
        f"{len(disputes)} disputes, new items {dict(grown)}"]


ADJUSTMENT = {"amount_cents": -1_500, "reason": "Correction: a duplicate bonus", "adjustment_id": "adj-fault-0001"}


def _seed_adjustment(stack: Any) -> dict[str, Any]:
    return _seeded(stack, _seed_earner(stack))


def _adjust(stack: Any, ctx: dict[str, Any]) -> Any:
    return stack.invoke(ADMIN, http_event("POST", f"/admin/referrers/{ctx['referrer_id']}/adjustments",
                                          body=ADJUSTMENT, claims=STAFF_CLAIMS))


def _check_adjustment(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    """The balance is the sum of the ledger; the entry and its audit entry were written together or not."""
    problems = _money(stack, ctx["referrer_id"])[0]
    return problems + _all_or_nothing("ledger", "audit", success=201)(stack, ctx, response)


def _adjusted_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    entries = [i for i in stack.items_of_type("ledger") if i["kind"] == "adjustment"]
    return [] if [e["amount_cents"] for e in entries] == [-1_500] else [f"adjustment entries {entries}"]


# -- becoming a referrer: an application, and staff approving it -----------------------------------------
APPLICATION = {"name": "Alex Taylor", "email": "alex@example.com", "phone": "0412 345 678", "postcode": "2000",
               "how_known": "A customer", "referrer_type": "ambassador", "date_of_birth": "1990-05-01",
               "accept_terms": True, "terms_version": TERMS_VERSION}


def _apply(stack: Any, ctx: dict[str, Any]) -> Any:
    return portal(stack, "POST", "/applications", body=APPLICATION)


def _seed_verified_application(stack: Any) -> dict[str, Any]:
    assert _apply(stack, {})["statusCode"] == 202
    application_id, token = application_link(stack, "alex@example.com", "verify")
    route = "/applications/{application_id}/verification"
    assert portal(stack, "POST", f"/applications/{application_id}/verification", route=route,
                  path_params={"application_id": application_id}, body={"token": token})["statusCode"] == 200
    return {"application_id": application_id, "before": _kinds(stack)}


def _approve(stack: Any, ctx: dict[str, Any]) -> Any:
    return stack.invoke(ADMIN, http_event("POST", f"/admin/applications/{ctx['application_id']}/approve",
                                          body={}, claims=STAFF_CLAIMS))


def _check_approval(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    """The referrer and the application's decision are written together or not at all."""
    (application,) = stack.items_of_type("application")
    referrers = stack.items_of_type("referrer")
    approved = application["status"] == "approved"
    if approved != bool(referrers) or len(referrers) > 1:
        return [f"status {response['statusCode']}: application {application['status']}, {len(referrers)} referrer(s)"]
    if response["statusCode"] == 200 and not approved:
        return ["200 without the approval"]
    return []


def _approved_once(stack: Any, ctx: dict[str, Any], response: Any) -> list[str]:
    (application,) = stack.items_of_type("application")
    referrers = stack.items_of_type("referrer")
    if application["status"] != "approved" or len(referrers) != 1:
        return [f"application {application['status']} with {len(referrers)} referrer(s)"]
    return [] if application["referrer_id"] == referrers[0]["referrer_id"] else ["another referrer's id"]


FLOWS: dict[str, Flow] = {
    "create_referrer": Flow(setup=lambda stack: {}, act=lambda stack, ctx: _create_referrer(stack),
                            check=_check_referrer, success=(201,)),
    "redirect": Flow(setup=_seed_code, act=_redirect, check=_check_redirect, success=(302,)),
    "capture_lead": Flow(setup=_seed_lead_flow,
                         act=lambda stack, ctx: post_lead(stack, lead_body(ref=ctx["code"], cid=None)),
                         check=_all_or_nothing("lead", "contact", success=201), success=(201,)),
    "capture_lead_with_key": Flow(setup=_seed_lead_flow,
                                  act=lambda stack, ctx: post_lead(stack, lead_body(ref=ctx["code"], cid=None),
                                                                   headers={"Idempotency-Key": "retry-me-1"}),
                                  check=_all_or_nothing("lead", "contact", success=201, retry_converges=True),
                                  success=(201,)),
    "job_webhook": Flow(setup=_seed_job_flow,
                        act=lambda stack, ctx: post_job_event(stack, "job.created", lead_id=ctx["lead_id"]),
                        check=_all_or_nothing("job", "job_event", success=200, retry_converges=True),
                        success=(200,)),
    "withdrawal_request": Flow(setup=_seed_withdrawal_request, act=_request_withdrawal,
                               check=_check_withdrawal(None, 201), success=(201,), done=_withdrawn_once),
    "withdrawal_paid": Flow(setup=_seed_withdrawal, act=_withdrawal_paid,
                            check=_check_withdrawal(WithdrawalStatus.PAID, 200), success=(200,),
                            done=_paid_out_once),
    "withdrawal_rejected": Flow(setup=_seed_withdrawal, act=_withdrawal_rejected,
                                check=_check_withdrawal(WithdrawalStatus.REJECTED, 200), success=(200,),
                                done=_rejected_once),
    "withdrawal_paid_over_hold": Flow(setup=_seed_held_withdrawal, act=_withdrawal_paid_over_hold,
                                      check=_check_withdrawal(WithdrawalStatus.PAID, 200), success=(200,),
                                      done=_paid_over_hold_once),
    "withdrawal_rejected_from_hold": Flow(setup=_seed_held_withdrawal, act=_withdrawal_rejected,
                                          check=_check_withdrawal(WithdrawalStatus.REJECTED, 200),
                                          success=(200,), done=_rejected_from_hold_once),
    **{f"decision_{decision}": Flow(setup=partial(_seed_review, stream=decision == "accept"), act=_decide(decision),
                                    check=_check_staff_change(("decision", "note", "audit")), success=(200,),
                                    done=_decided_once(decision)) for decision in DECIDED},
    "attribution": Flow(setup=_seed_review, act=_attribute, check=_check_staff_change(("note", "audit")),
                        success=(200,), done=_attributed_once),
    "dispute_open": Flow(setup=_seed_review, act=_open_dispute,
                         check=_all_or_nothing("dispute", "audit", success=201), success=(201,),
                         done=_opened_once),
    "dispute_resolve": Flow(setup=_seed_dispute, act=_resolve_dispute, check=_check_dispute, success=(200,),
                            done=_resolved_once),
    "adjustment": Flow(setup=_seed_adjustment, act=_adjust, check=_check_adjustment, success=(201,),
                       done=_adjusted_once),
    "application": Flow(setup=lambda stack: {"before": _kinds(stack)}, act=_apply,
                        check=_all_or_nothing("application", "unique", "application_token", success=202),
                        success=(202,)),
    "application_approve": Flow(setup=_seed_verified_application, act=_approve, check=_check_approval,
                                success=(200,), done=_approved_once),
}


def _reset(stack: Any) -> None:
    """A new, empty table (tests only) so each injected run starts from the same state. Recreated rather
    than emptied: its stream starts afresh too (moto copies the whole stream in every transaction)."""
    empty_table(stack)


def _clean_answer(response: Any) -> str | None:
    """None when the response is a clean refusal (409/503 with the error JSON), else what is wrong."""
    status = response["statusCode"]
    if status not in (409, 503):
        return f"status {status}"
    try:
        error = json.loads(response["body"])["error"]
    except (KeyError, TypeError, ValueError):
        return f"status {status} without the error JSON: {response.get('body')!r:.120}"
    if status == 503 and "Retry-After" not in (response.get("headers") or {}):
        return "503 without Retry-After"
    return None if {"code", "message"} <= set(error) else f"incomplete error JSON {error}"


def _run(stack: Any, flow: Flow, fault: Fault | None) -> tuple[Any, list[str], Any]:
    """Reset, seed, act (with the fault, if any); returns (response, violations, recorded calls)."""
    _reset(stack)
    ctx = flow.setup(stack)
    with watch() as calls:
        if fault is None:
            response = flow.act(stack, ctx)
        else:
            with inject(fault):
                try:
                    response = flow.act(stack, ctx)
                except Exception as exc:  # what Lambda would turn into an API Gateway 500
                    return None, [f"unhandled {type(exc).__name__}: {exc}"], calls
    problems = flow.check(stack, ctx, response)
    if response["statusCode"] not in flow.success:
        problem = _clean_answer(response)
        problems += [problem] if problem else []
    if flow.done is not None:
        problems += _retried_to_done(stack, flow, ctx, response, fault)
    return response, problems, calls


def _retried_to_done(stack: Any, flow: Flow, ctx: dict[str, Any], response: Any, fault: Fault | None) -> list[str]:
    """After a refusal the client sends the same request again (no fault now): it must succeed, and the
    whole effect must be there exactly once. A success under a lost condition may have skipped work it
    took for done already, so it is not held to ``done``."""
    final = response
    if response["statusCode"] not in flow.success:
        final = flow.act(stack, ctx)
        if final["statusCode"] not in flow.success:
            return [f"the retry answered {final['statusCode']}: {final.get('body')!r:.200}"]
    elif fault is not None and fault.kind == "ConditionalCheckFailed":
        return []
    return [f"after {'the retry' if final is not response else 'a success'}: {p}" for p in flow.done(stack, ctx, final)]


KNOWN: dict[str, pytest.MarkDecorator] = {}
CASES = [pytest.param(flow, kind, marks=KNOWN[flow] if flow in KNOWN and kind != "ConditionalCheckFailed" else (),
                      id=f"{flow}-{kind}") for flow in sorted(FLOWS) for kind in FAULT_KINDS]


@pytest.mark.parametrize(("flow_name", "kind"), CASES)
def test_persistent_fault_at_each_call_answers_cleanly_without_partial_state(portal_stack, flow_name: str,
                                                                            kind: FaultKind) -> None:
    stack, flow = portal_stack, FLOWS[flow_name]
    clean, problems, calls = _run(stack, flow, None)
    assert clean["statusCode"] in flow.success and not problems, problems
    failures = []
    for index, call in enumerate(list(calls.calls), start=1):
        if kind == "ConditionalCheckFailed" and not is_conditional(call):
            continue  # only conditional writes can lose their condition
        _, problems, _ = _run(stack, flow, Fault(kind, index))
        failures += [f"call {index} ({call.operation}): {p}" for p in problems]
    assert not failures, f"{flow_name} with {kind}:\n" + "\n".join(failures)


@pytest.mark.parametrize("kind", ["ThrottlingException", "ReadTimeoutError"])
@pytest.mark.parametrize("flow_name", sorted(FLOWS))
def test_transient_fault_at_each_call_is_retried_by_the_sdk(portal_stack, flow_name: str, kind: FaultKind) -> None:
    stack, flow = portal_stack, FLOWS[flow_name]
    clean, _, calls = _run(stack, flow, None)
    for index, call in enumerate(list(calls.calls), start=1):
        fault = Fault(kind, index, transient=True)
        response, problems, _ = _run(stack, flow, fault)
        assert fault.fired
        assert not problems, f"call {index} ({call.operation}): {problems}"
        assert response["statusCode"] == clean["statusCode"], f"call {index} ({call.operation})"


# -- what the staff routes leave to the stream: the credit after an accept, the rewards a payout covers ------
SETTLE = "settle_rewards"


@dataclass(frozen=True)
class StreamFlow:
    """``setup`` seeds and runs the staff route (no faults) and returns ctx with the ``records`` it put on
    the stream for the consumer; ``check`` lists broken invariants after any delivery; ``done`` after the
    whole effect."""

    setup: Callable[[Any], dict[str, Any]]
    check: Callable[[Any, dict[str, Any]], list[str]]
    done: Callable[[Any, dict[str, Any]], list[str]]


def _records_for(stack: Any, ctx: dict[str, Any], function_id: str) -> dict[str, Any]:
    trigger = next(t for t in consumers() if t.name == function_id)
    records = [r for batch in batches(trigger, ctx["pump"].new_records()) for r in batch]
    assert records, f"the staff route put nothing on the stream for {function_id}"
    return {**ctx, "records": records}


def _accepted(stack: Any) -> dict[str, Any]:
    ctx = _seed_review(stack, stream=True)
    assert _decide("accept")(stack, ctx)["statusCode"] == 200
    return _records_for(stack, ctx, SETTLE)


def _paid_out(stack: Any) -> dict[str, Any]:
    ctx = _seed_withdrawal(stack)
    assert _withdrawal_paid(stack, ctx)["statusCode"] == 200
    return _records_for(stack, ctx, SETTLE)


def _refunded_after_withdrawal(stack: Any) -> dict[str, Any]:
    return _records_for(stack, _seed_held_withdrawal(stack, refunded=False), SETTLE)


def _clawback_consistent(stack: Any, ctx: dict[str, Any]) -> list[str]:
    """The clawback and the hold happen together or not at all."""
    problems = _money(stack, ctx["referrer_id"])[0]
    clawbacks = [i for i in stack.items() if i.get("type") == "ledger" and i["kind"] == EntryKind.CLAWBACK]
    withdrawal = next(w for w in stack.items_of_type("withdrawal"))
    if (len(clawbacks) == 1) != (withdrawal["status"] == WithdrawalStatus.ON_HOLD) or len(clawbacks) > 1:
        problems.append(f"{len(clawbacks)} clawbacks with the withdrawal {withdrawal['status']}")
    return problems


def _held_once(stack: Any, ctx: dict[str, Any]) -> list[str]:
    withdrawal = next(w for w in stack.items_of_type("withdrawal"))
    balance = _balance(stack, ctx["referrer_id"])
    state = (withdrawal["status"], withdrawal.get("hold_cents"), withdrawal.get("hold_jobs"),
             balance["clawback_outstanding_cents"])
    return [] if state == ("on_hold", REWARD_CENTS, ["job-1"], REWARD_CENTS) else [f"after the refund: {state}"]


def _credit_consistent(stack: Any, ctx: dict[str, Any]) -> list[str]:
    problems = _money(stack, ctx["referrer_id"])[0]
    credits = len(_credits(stack))
    return problems + ([] if credits <= 1 else [f"{credits} credits for one accept"])


def _credited_once(stack: Any, ctx: dict[str, Any]) -> list[str]:
    (referral,) = _lead_items(stack)["referral"]
    credits = len(_credits(stack))
    return [] if (credits, referral["stage"]) == (1, Stage.REWARD_PENDING) else [
        f"{credits} credits, referral at {referral['stage']}"]


def _paid_rewards_consistent(stack: Any, ctx: dict[str, Any]) -> list[str]:
    """A reward is paid exactly when its referral shows ``reward_paid`` (they move together)."""
    stages = {r["lead_id"]: r["stage"] for r in stack.items_of_type("referral")}
    return _money(stack, ctx["referrer_id"])[0] + [
        f"reward {r['job_id']} {r['state']} with its referral at {stages[r['lead_id']]}"
        for r in stack.items_of_type("reward") if (r["state"] == "paid") != (stages[r["lead_id"]] == Stage.REWARD_PAID)]


def _covered_paid(stack: Any, ctx: dict[str, Any]) -> list[str]:
    states = {r["job_id"]: r["state"] for r in stack.items_of_type("reward")}
    return [] if states == {"job-0": "paid", "job-1": "available"} else [f"rewards {states} after the payout"]


STREAM_FLOWS: dict[str, StreamFlow] = {
    "credit_after_accept": StreamFlow(setup=_accepted, check=_credit_consistent, done=_credited_once),
    "rewards_paid_after_payout": StreamFlow(setup=_paid_out, check=_paid_rewards_consistent, done=_covered_paid),
    "clawback_holds_withdrawal": StreamFlow(setup=_refunded_after_withdrawal, check=_clawback_consistent,
                                            done=_held_once),
}


def _deliver(stack: Any, ctx: dict[str, Any]) -> bool:
    """Deliver the records once; True if the consumer took them all (else the event source retries)."""
    try:
        response = stack.consume(SETTLE, {"Records": ctx["records"]})
    except Exception:  # every record failed: Lambda reports an error and the batch is delivered again
        return False
    return not response.get("batchItemFailures")


def _run_stream(stack: Any, flow: StreamFlow, fault: Fault | None) -> tuple[list[str], Any, bool]:
    """Reset, seed, deliver (with the fault, if any); a refused delivery is delivered again without it.
    Returns (violations, recorded calls, whether the first delivery was taken)."""
    _reset(stack)
    ctx = flow.setup(stack)
    with watch() as calls:
        if fault is None:
            taken = _deliver(stack, ctx)
        else:
            with inject(fault):
                taken = _deliver(stack, ctx)
    problems = flow.check(stack, ctx)
    if not taken:
        problems += [] if _deliver(stack, ctx) else ["the redelivery failed too"]
        problems += [f"after the redelivery: {p}" for p in flow.check(stack, ctx)]
    elif fault is not None and fault.kind == "ConditionalCheckFailed":
        return problems, calls, taken  # a lost condition taken for "done already" (see _retried_to_done)
    return problems + [f"done: {p}" for p in flow.done(stack, ctx)], calls, taken


@pytest.mark.parametrize("kind", FAULT_KINDS)
@pytest.mark.parametrize("flow_name", sorted(STREAM_FLOWS))
def test_persistent_fault_in_the_stream_consumer_is_redelivered_to_the_same_end(portal_stack, flow_name: str,
                                                                                 kind: FaultKind) -> None:
    stack, flow = portal_stack, STREAM_FLOWS[flow_name]
    problems, calls, taken = _run_stream(stack, flow, None)
    assert taken and not problems, problems
    failures = []
    for index, call in enumerate(list(calls.calls), start=1):
        if kind == "ConditionalCheckFailed" and not is_conditional(call):
            continue
        problems, _, _ = _run_stream(stack, flow, Fault(kind, index))
        failures += [f"call {index} ({call.operation}): {p}" for p in problems]
    assert not failures, f"{flow_name} with {kind}:\n" + "\n".join(failures)


@pytest.mark.parametrize("flow_name", sorted(STREAM_FLOWS))
def test_transient_fault_in_the_stream_consumer_is_retried_by_the_sdk(portal_stack, flow_name: str) -> None:
    stack, flow = portal_stack, STREAM_FLOWS[flow_name]
    _, calls, _ = _run_stream(stack, flow, None)
    for index, call in enumerate(list(calls.calls), start=1):
        fault = Fault("ThrottlingException", index, transient=True)
        problems, _, taken = _run_stream(stack, flow, fault)
        assert fault.fired
        assert taken and not problems, f"call {index} ({call.operation}): {problems}"


@pytest.mark.parametrize(("content_type", "body"), [
    ("multipart/form-data", '{"name": "A", "email": "a@example.com"}'),
    ("application/json", b"\xff\xfe\x05\x1a<"),
], ids=["multipart-without-boundary", "not-utf8"])
def test_an_unreadable_body_is_a_400_not_a_crash(stack, content_type: str, body: str | bytes) -> None:
    # Found by schemathesis (tests/e2e/test_schemathesis.py): Powertools raised a bare ValueError -> 500.
    event = http_event("POST", "/admin/referrers", raw_body=body, headers={"content-type": content_type},
                       claims=STAFF_CLAIMS)
    response = stack.invoke(ADMIN, event)
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "malformed_request"
    assert stack.items() == []
