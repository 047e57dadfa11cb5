"""The IAM usage recorder: which AWS actions each function calls during the suite, against its grants.

- In-process (integration tests): a botocore ``before-parameter-build`` hook on the moto stack's boto3
  session and on every botocore session created later sees every call of the clients
  ``referral_core.dal.aws.client`` creates (and of any other client); calls made while ``Stack.invoke``
  runs a function (:data:`CURRENT_FUNCTION`) are that function's.
- The local stack (e2e tests): its workers record their own calls the same way and the stack judges them
  (``GET /_local/iam``); the e2e fixtures merge that report here.

Every call is judged against the function's grants from the SAM-translated template (``local.iam``: action,
resource, ``dynamodb:LeadingKeys``). A call without a grant fails the test that made it, whatever subset
runs. "No grant never used" is judged at the end of the session, and only after a full run: every module
of tests/integration collected, nothing deselected, every one of their tests passed (a partial run cannot
know). ``test-artifacts/iam-usage.json`` records calls, used and unused grants and the verdicts.
"""

from __future__ import annotations

import contextvars
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local.aws_calls import Describer
from local.iam import FunctionPolicy, Usage, function_policies, service_requests, table_hash_keys, translate
from local.template import ACCOUNT_ID, REGION, REPO_ROOT, load_template

#: The function whose code is running in-process (set by ``Stack.invoke``).
CURRENT_FUNCTION: contextvars.ContextVar[str | None] = contextvars.ContextVar("iam_function", default=None)

TEMPLATE = REPO_ROOT / "template.yaml"
ARTIFACT = REPO_ROOT / "test-artifacts" / "iam-usage.json"
#: The modules whose complete, green run is the evidence for "no grant never used".
EVIDENCE_DIR = REPO_ROOT / "tests" / "integration"

#: Resources a test made on moto standing for a template resource: the id moto gave it -> the id the template
#: resolves to in-process (local.template), e.g. a Cognito pool or a KMS key (moto picks its id): calls on it
#: are judged as calls on the template's resource. See :func:`stands_for`.
STANDS_FOR: dict[str, str] = {}

#: Grants no test exercises, each with the reason it is still needed: (function, action) -> why.
UNUSED_OK: dict[tuple[str, str], str] = {}


@cache
def policies() -> dict[str, FunctionPolicy]:
    return function_policies(translate(TEMPLATE), load_template(TEMPLATE))


@cache
def describer() -> Describer:
    return Describer(region=REGION, account=ACCOUNT_ID, hash_keys=table_hash_keys(load_template(TEMPLATE)))


@dataclass
class Recorder:
    usage: Usage | None = None
    #: violations of the test running now (in-process), reported by the stack fixture's teardown.
    pending: list[dict[str, Any]] = field(default_factory=list)
    evidence_items: set[str] = field(default_factory=set)
    evidence_passed: set[str] = field(default_factory=set)
    evidence_not_green: set[str] = field(default_factory=set)
    deselected_evidence: bool = False
    missing_modules: list[str] = field(default_factory=list)
    summary: dict[str, Any] | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)

    def get_usage(self) -> Usage:
        if self.usage is None:
            self.usage = Usage(policies())
        return self.usage

    def before_parameter_build(self, params: dict[str, Any], model: Any, **_: Any) -> None:
        function = CURRENT_FUNCTION.get()
        if function is None:  # the test's own setup and checks
            return
        service = model.service_model.signing_name or model.service_model.endpoint_prefix
        with self.lock:
            try:
                described = {k: STANDS_FOR.get(v, v) if k in ("UserPoolId", "KeyId") and isinstance(v, str) else v
                             for k, v in params.items()}
                requests = describer().describe(service, model.name, described)
            except Exception as exc:  # never break the app's call: fail the test instead
                self.pending.append({"function": function, "action": f"{service}:{model.name}", "resource": "?",
                                     "reason": f"the recorder could not describe the call: {exc!r}"})
                return
            self.pending += self.get_usage().record(function, requests)

    def take_pending(self) -> list[dict[str, Any]]:
        out, self.pending = self.pending, []
        return out


RECORDER = Recorder()


def stands_for(moto_id: str, template_id: str) -> None:
    """Judge the calls on ``moto_id`` (made by a test) as calls on the template's ``template_id``."""
    STANDS_FOR[moto_id] = template_id


def record_calls_of(session: Any) -> None:
    """Record the calls of every client ``session`` (boto3's default session under moto) creates from now, and
    of every botocore session created from now (code that builds its own, e.g. a Powertools persistence
    layer without a client, bypasses ``referral_core.dal.aws.client``)."""
    from botocore import handlers

    session.events.register("before-parameter-build", RECORDER.before_parameter_build,
                            unique_id="iam-usage-recorder")
    entry = ("before-parameter-build", RECORDER.before_parameter_build)
    if entry not in handlers.BUILTIN_HANDLERS:
        handlers.BUILTIN_HANDLERS.append(entry)


@contextmanager
def running(function: str) -> Iterator[None]:
    """Attribute the AWS calls made inside the block to ``function`` (its code runs, as in Lambda)."""
    token = CURRENT_FUNCTION.set(function)
    try:
        yield
    finally:
        CURRENT_FUNCTION.reset(token)


def fail_on_calls_without_grant() -> None:
    """Fail the current test if a function made a call its grants do not allow (the stack fixture calls it)."""
    found = RECORDER.take_pending()
    if found:
        lines = "\n".join(f"  {v['function']}: {v['action']} on {v['resource']}"
                          + (f" keys {v['leading_keys']}" if v.get("leading_keys") else "") + f" ({v['reason']})"
                          for v in found)
        pytest.fail(f"AWS calls without a grant in template.yaml (as AWS would deny them):\n{lines}",
                    pytrace=False)


def merge_stack_report(report: dict[str, Any]) -> None:
    """Add the local stack's ``GET /_local/iam`` (the e2e tests' calls, judged by the stack)."""
    RECORDER.get_usage().merge(report)


# --------------------------------------------------------------------------------------------- the session


def _is_evidence(item: pytest.Item) -> bool:
    return Path(str(item.path)).parent == EVIDENCE_DIR


def pytest_collection_finish(session: pytest.Session) -> None:
    on_disk = {p.name for p in EVIDENCE_DIR.glob("test_*.py")}
    collected = {Path(str(i.path)).name for i in session.items if _is_evidence(i)}
    RECORDER.missing_modules = sorted(on_disk - collected)
    RECORDER.evidence_items = {i.nodeid for i in session.items if _is_evidence(i)}


def pytest_deselected(items: list[pytest.Item]) -> None:
    if any(_is_evidence(i) for i in items):
        RECORDER.deselected_evidence = True


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    if report.nodeid not in RECORDER.evidence_items:
        return
    if report.when == "call" and report.passed:
        RECORDER.evidence_passed.add(report.nodeid)
    elif report.failed or report.skipped:
        RECORDER.evidence_not_green.add(report.nodeid)


def full_run_problem(recorder: Recorder = RECORDER) -> str | None:
    """Why this session cannot judge unused grants, or None when it can."""
    if recorder.missing_modules:
        return f"not every integration module ran (missing {len(recorder.missing_modules)}, e.g. " \
               f"{recorder.missing_modules[0]})"
    if recorder.deselected_evidence:
        return "integration tests were deselected (-k/-m)"
    if not recorder.evidence_items:
        return "no integration test ran"
    not_green = (recorder.evidence_items - recorder.evidence_passed) | recorder.evidence_not_green
    if not_green:
        return f"{len(not_green)} integration tests did not pass"
    return None


def unused_grants(usage: Usage) -> dict[str, list[dict[str, str]]]:
    """Per function: the grants no call and no service use needed, minus :data:`UNUSED_OK`."""
    service = service_requests(load_template(TEMPLATE))
    out: dict[str, list[dict[str, str]]] = {}
    for function, policy in usage.policies.items():
        used = set(usage.used.get(function, set()))
        for request, _why in service.get(function, []):
            verdict = policy.judge(request)
            used.update(g.key for g in verdict.grants)
        for grant in policy.grants():
            if grant.key in used:
                continue
            reason = UNUSED_OK.get((function, grant.action))
            out.setdefault(function, []).append({"grant": grant.key, **({"allowed_because": reason} if reason else {})})
    return out


def report(usage: Usage, problem: str | None) -> dict[str, Any]:
    unused = unused_grants(usage) if problem is None else {}
    service = service_requests(load_template(TEMPLATE))
    return {
        "full_run": problem is None,
        "unused_judged": problem is None,
        "why_not_judged": problem,
        "calls_without_grant": usage.violations,
        "unused_grants": {f: [u for u in us if "allowed_because" not in u] for f, us in unused.items()
                          if any("allowed_because" not in u for u in us)},
        "unused_allowed": {f: [u for u in us if "allowed_because" in u] for f, us in unused.items()
                           if any("allowed_because" in u for u in us)},
        "service_uses": {f: [{**r.as_json(), "why": why} for r, why in rs] for f, rs in service.items()},
        "managed_policies": {f: p.managed for f, p in usage.policies.items()},
        **usage.as_json(),
    }


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    usage = RECORDER.usage
    if usage is None:  # no function ran in this session (unit or template tests only)
        return
    problem = full_run_problem()
    data = report(usage, problem)
    ARTIFACT.parent.mkdir(parents=True, exist_ok=True)
    ARTIFACT.write_text(json.dumps(data, indent=2, sort_keys=True), encoding="utf-8")
    RECORDER.summary = data
    if data["calls_without_grant"] or data["unused_grants"]:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def pytest_terminal_summary(terminalreporter: Any) -> None:
    data = RECORDER.summary
    if data is None:
        return
    write = terminalreporter.write_line
    terminalreporter.section("IAM usage (test-artifacts/iam-usage.json)")
    write(f"{len(data['functions'])} functions called AWS; {len(data['calls_without_grant'])} calls without a grant")
    for v in data["calls_without_grant"][:20]:
        write(f"  NO GRANT  {v['function']}: {v['action']} on {v['resource']} ({v['reason']})")
    if not data["unused_judged"]:
        write(f"unused grants not judged: {data['why_not_judged']}")
        return
    for function, grants in data["unused_grants"].items():
        for grant in grants:
            write(f"  UNUSED    {function}: {grant['grant']}")
    if not data["unused_grants"]:
        write("every grant was used (or is listed with its reason)")
