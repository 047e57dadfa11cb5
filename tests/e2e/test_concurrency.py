"""Races against the real local stack (several warm workers per function, moto behind them).

Code creation: many referrers created at once all get distinct codes; the same email sent concurrently
creates one referrer and the others get 409. The races run on a stack of their own, so that their load
and their cancelled transactions stay out of the session stack.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest

from local.testing import StackProcess

pytestmark = pytest.mark.e2e

PARALLEL = 8
CREATIONS = 200 if os.environ.get("SOAK") == "1" else 24


@pytest.fixture(scope="module")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    process = StackProcess(local_dir=tmp_path_factory.mktemp("race-stack")).start()
    try:
        yield process
    finally:
        process.stop()


def _create(stack: StackProcess, email: str):
    return stack.request("POST", "/admin/referrers", body={"name": "Racer", "email": email},
                         headers={"authorization": f"Bearer {stack.staff_token}"})


def test_concurrent_creations_get_unique_codes(stack: StackProcess) -> None:
    run = uuid.uuid4().hex[:6]
    emails = [f"race-{run}-{n}@example.com" for n in range(CREATIONS)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        responses = list(pool.map(lambda e: _create(stack, e), emails))
    assert [r.status for r in responses] == [201] * CREATIONS, [r.body for r in responses if r.status != 201]
    codes = [r.json()["code"] for r in responses]
    assert len(set(codes)) == CREATIONS
    for code in codes[:5]:
        assert stack.request("GET", f"/r/{code}").status == 302


def test_the_same_email_at_once_creates_one_referrer(stack: StackProcess) -> None:
    email = f"same-{uuid.uuid4().hex[:6]}@example.com"
    with ThreadPoolExecutor(PARALLEL) as pool:
        statuses = sorted(r.status for r in pool.map(lambda _: _create(stack, email), range(PARALLEL)))
    assert statuses == [201] + [409] * (PARALLEL - 1)
