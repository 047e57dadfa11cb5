"""Property-based API tests: schemathesis generates requests from the OpenAPI document the local stack
serves (GET /openapi.json) and checks every answer: no 5xx, a documented status and content type, and a
body that matches its documented schema. ``SOAK=1`` (``make soak``) generates at least 1,000 requests and
asserts that it did; every run ends with a tally (requests, 5xx, failed checks, time) in the terminal.

Requests are generated in both modes (valid and invalid input) and carry the credentials a real caller has,
so that generated input gets past authentication: ``/admin`` the staff token, ``/me`` a referrer's session
(signed in through the magic link), and valid-mode ``/webhooks/jobs`` deliveries a Standard Webhooks
signature over the exact body sent (invalid-mode deliveries keep their generated headers).

It runs on a stack of its own: the generated requests create leads, referrers and codes by the thousand
and use up the per-IP lead limit, which would otherwise reach the tests that run after it.

The document is read from functions/api_docs/openapi.json at collection (schemathesis' lazy fixture loader
does not work with pytest 9), and a test checks that the stack serves exactly that document.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import re
import time
import uuid
from collections import Counter
from collections.abc import Iterator

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from local.template import REPO_ROOT
from local.testing import StackProcess
from referral_core.auth import Role, required_role
from scripts.send_job_event import sign
from tests.e2e.conftest import running_stack

pytestmark = pytest.mark.e2e

SOAK = os.environ.get("SOAK") == "1"
SOAK_REQUESTS = 1_000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
# (operation, status) of every request sent, and the operations whose answer failed a check.
SENT: Counter[tuple[str, int]] = Counter()
FAILED: Counter[str] = Counter()


SPEC_FILE = REPO_ROOT / "functions" / "api_docs" / "openapi.json"
ARTIFACTS = REPO_ROOT / "test-artifacts"
SPEC = json.loads(SPEC_FILE.read_text())
schema = schemathesis.openapi.from_dict(SPEC)


def _examples() -> int:
    if not SOAK:
        return 25
    operations = sum(len(item) for item in SPEC["paths"].values())
    return math.ceil(SOAK_REQUESTS / operations) + 10


class WebhookSignature(requests.auth.AuthBase):
    """Signs the prepared request's body the way the job system does (scripts/send_job_event.py)."""

    def __init__(self, secret: str) -> None:
        self.secret = secret

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        body = request.body or b""
        raw = body.encode() if isinstance(body, str) else body
        webhook_id, now = f"msg_{uuid.uuid4().hex}", int(time.time())
        request.headers.update({"webhook-id": webhook_id, "webhook-timestamp": str(now),
                                "webhook-signature": sign(self.secret, webhook_id, now, raw)})
        return request


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """This module's own local stack (overrides the session's)."""
    with running_stack(tmp_path_factory.mktemp("local-stack-schemathesis")) as process:
        yield process


def test_the_stack_serves_the_document_under_test(stack: StackProcess) -> None:
    served = stack.request("GET", "/openapi.json")
    assert served.status == 200
    assert served.json() == SPEC


@pytest.fixture(scope="module")
def referrer_session(stack: StackProcess) -> str:
    """A session token of a fresh referrer, through the magic link as the portal gets one."""
    email = f"schemathesis-{uuid.uuid4().hex[:8]}@example.com"
    staff = {"authorization": f"Bearer {stack.staff_token}"}
    assert stack.request("POST", "/admin/referrers", body={"name": "Gen Referrer", "email": email},
                         headers=staff).status == 201
    assert stack.request("POST", "/auth/magic-link", body={"email": email}).status == 202
    mails = [m for m in stack.outbox() if email in m["to"] and m["subject"] == "Your sign-in link"]
    match = re.search(r"/dashboard#token=([\w-]+)", mails[-1]["html"] or mails[-1]["text"])
    assert match, mails
    session = stack.request("POST", "/auth/session", body={"token": match.group(1)})
    assert session.status == 200, session.body
    return str(session.json()["session_token"])


@pytest.fixture(scope="module", autouse=True)
def _tally(pytestconfig: pytest.Config) -> Iterator[None]:
    """After the module: one line in the terminal (shown even when every test passes) and, per operation and
    status, the counts in test-artifacts/schemathesis.json."""
    started = time.monotonic()
    yield
    sent = sum(SENT.values())
    statuses = Counter[int]()
    per_operation: dict[str, dict[int, int]] = {}
    for (operation, status), n in sorted(SENT.items()):
        statuses[status] += n
        per_operation.setdefault(operation, {})[status] = n
    summary = (f"schemathesis: {sent} requests over {len(per_operation)} operations in "
               f"{time.monotonic() - started:.0f} s; {sum(n for s, n in statuses.items() if s >= 500)} 5xx; "
               f"{sum(FAILED.values())} failed checks {dict(FAILED)}; statuses {dict(sorted(statuses.items()))}")
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "schemathesis.json").write_text(json.dumps(
        {"soak": SOAK, "summary": summary, "failed": FAILED, "per_operation": per_operation}, indent=1))
    capture = pytestconfig.pluginmanager.get_plugin("capturemanager")
    with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
        print(f"\n{summary}")
    if SOAK:
        assert sent >= SOAK_REQUESTS, f"only {sent} generated requests"


@schema.parametrize()
@settings(max_examples=_examples(), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_answer_matches_the_served_openapi(case: schemathesis.Case, stack: StackProcess,
                                                 referrer_session: str) -> None:
    headers: dict[str, str] = {}
    auth: requests.auth.AuthBase | None = None
    if case.path.startswith("/admin"):  # a token with the role the operation needs (x-required-role)
        admin = required_role(case.method.upper(), case.path) is Role.ADMIN
        headers["authorization"] = f"Bearer {stack.admin_token if admin else stack.staff_token}"
    elif case.path.startswith("/me"):
        headers["authorization"] = f"Bearer {referrer_session}"
    elif case.path == "/webhooks/jobs" and (case.meta is None or case.meta.generation.mode.is_positive):
        auth = WebhookSignature(stack.webhook_secret)
    response = case.call(base_url=stack.base_url, headers=headers, auth=auth, allow_redirects=False, timeout=30)
    SENT[(case.operation.label, response.status_code)] += 1
    try:
        case.validate_response(response, checks=CHECKS, headers=headers)
    except (AssertionError, BaseExceptionGroup):  # schemathesis' FailureGroup is a BaseExceptionGroup
        FAILED[case.operation.label] += 1
        raise
