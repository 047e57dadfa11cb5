"""Property-based API tests: schemathesis generates requests from the OpenAPI document the local stack
serves (GET /openapi.json) and checks every answer: no 5xx, a documented status and content type, and a
body that matches its documented schema. ``SOAK=1`` (``make soak``) generates at least 1,000 requests.

The document is read from functions/api_docs/openapi.json at collection (schemathesis' lazy fixture loader
does not work with pytest 9), and a test checks that the stack serves exactly that document.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterator

import pytest
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

pytestmark = pytest.mark.e2e

SOAK = os.environ.get("SOAK") == "1"
SOAK_REQUESTS = 1_000
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
SENT: list[str] = []


SPEC_FILE = REPO_ROOT / "functions" / "api_docs" / "openapi.json"
SPEC = json.loads(SPEC_FILE.read_text())
schema = schemathesis.openapi.from_dict(SPEC)


def _examples() -> int:
    if not SOAK:
        return 25
    operations = sum(len(item) for item in SPEC["paths"].values())
    return math.ceil(SOAK_REQUESTS / operations) + 10


def test_the_stack_serves_the_document_under_test(stack: StackProcess) -> None:
    served = stack.request("GET", "/openapi.json")
    assert served.status == 200
    assert served.json() == SPEC


@pytest.fixture(scope="module", autouse=True)
def _count_requests() -> Iterator[None]:
    yield
    if SOAK:
        assert len(SENT) >= SOAK_REQUESTS, f"only {len(SENT)} generated requests"


@schema.parametrize()
@settings(max_examples=_examples(), deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_every_answer_matches_the_served_openapi(case: schemathesis.Case, stack: StackProcess) -> None:
    headers = {"authorization": f"Bearer {stack.staff_token}"} if case.path.startswith("/admin") else {}
    SENT.append(case.operation.label)
    case.call_and_validate(base_url=stack.base_url, headers=headers, checks=CHECKS, allow_redirects=False,
                           timeout=30)
