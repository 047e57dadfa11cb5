"""Fault injection: every DynamoDB call of each flow fails in turn (throttling, timeout, lost condition).

For each flow: one clean run counts its calls; then call 1..N fails. A *persistent* fault (raised at
``before-call``: the SDK does not retry it) must end in a clean answer: success, or 409/503 with the error
JSON (``{"error": {...}}``), never an unhandled exception (API Gateway would answer 500) and never partial
state (the flow's invariant). A *transient* fault (only the first HTTP attempt fails) must be absorbed by
the SDK's retries: the flow answers exactly as in the clean run.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.dynamo_calls import FAULT_KINDS, Fault, FaultKind, inject, is_conditional, watch
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.jobs import configure_webhook_secrets, post_job_event
from tests.support.leads import lead_body, post_lead

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


FLOWS: dict[str, Flow] = {
    "create_referrer": Flow(setup=lambda stack: {}, act=lambda stack, ctx: _create_referrer(stack),
                            check=_check_referrer, success=(201,)),
    "redirect": Flow(setup=_seed_code, act=_redirect, check=_check_redirect, success=(302,)),
    "capture_lead": Flow(setup=_seed_lead_flow,
                         act=lambda stack, ctx: post_lead(stack, lead_body(ref=ctx["code"], cid=None)),
                         check=_all_or_nothing("lead", "contact", success=201), success=(201,)),
    "job_webhook": Flow(setup=_seed_job_flow,
                        act=lambda stack, ctx: post_job_event(stack, "job.created", lead_id=ctx["lead_id"]),
                        check=_all_or_nothing("job", "job_event", success=200, retry_converges=True),
                        success=(200,)),
}


def _reset(stack: Any) -> None:
    """Empty the table (tests only) so each injected run starts from the same state."""
    for item in stack.items():
        stack.dynamodb.delete_item(TableName=stack.table_name,
                                   Key={"pk": {"S": item["pk"]}, "sk": {"S": item["sk"]}})


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
    return response, problems, calls


KNOWN: dict[str, pytest.MarkDecorator] = {}
CASES = [pytest.param(flow, kind, marks=KNOWN[flow] if flow in KNOWN and kind != "ConditionalCheckFailed" else (),
                      id=f"{flow}-{kind}") for flow in sorted(FLOWS) for kind in FAULT_KINDS]


@pytest.mark.parametrize(("flow_name", "kind"), CASES)
def test_persistent_fault_at_each_call_answers_cleanly_without_partial_state(stack, flow_name: str,
                                                                            kind: FaultKind) -> None:
    flow = FLOWS[flow_name]
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
def test_transient_fault_at_each_call_is_retried_by_the_sdk(stack, flow_name: str, kind: FaultKind) -> None:
    flow = FLOWS[flow_name]
    clean, _, calls = _run(stack, flow, None)
    for index, call in enumerate(list(calls.calls), start=1):
        fault = Fault(kind, index, transient=True)
        response, problems, _ = _run(stack, flow, fault)
        assert fault.fired
        assert not problems, f"call {index} ({call.operation}): {problems}"
        assert response["statusCode"] == clean["statusCode"], f"call {index} ({call.operation})"


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
