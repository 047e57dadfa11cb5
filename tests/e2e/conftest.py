"""The e2e session fixture: the real local stack (`python -m local`) in a subprocess.

`stack` is a `local.testing.StackProcess`: `base_url`, `staff_token`, `viewer_token`, `webhook_secret`,
`local_dir`, and helpers `request(method, path, body=..., headers=...)`, `drain()` (wait until the
stream consumers are idle), `outbox()`, `tick()`, `info()`, `aws(service)` (boto3 on its moto server).
It runs on a free port with a temporary LOCAL_DIR and is stopped at the end of the session.

IAM: the stack runs each function with its role's credentials and moto refuses what the role does not allow;
the stack also judges each call's resource and leading keys (``GET /_local/iam``). A test after which the
stack reports a new call without a grant fails, and the session's calls join the IAM usage report
(tests/support/iam_usage.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from local.testing import StackProcess
from tests.support import iam_usage


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    with running_stack(tmp_path_factory.mktemp("local-stack")) as process:
        yield process


@contextmanager
def running_stack(local_dir: Path, env: dict[str, str] | None = None) -> Iterator[StackProcess]:
    """A started local stack (``env``: extra variables, e.g. ``LOCAL_PARAM_<Name>`` template parameters),
    stopped afterwards, its IAM calls joining the usage report."""
    process = StackProcess(local_dir=local_dir, env=dict(env or {}))
    try:
        process.start()
    except (RuntimeError, TimeoutError) as exc:
        log = (process.local_dir / "stack.log").read_text(encoding="utf-8", errors="replace")[-4000:]
        process.stop()
        pytest.fail(f"{exc}\n--- stack log (tail) ---\n{log}")
    try:
        yield process
    finally:
        try:
            iam_usage.merge_stack_report(process.request("GET", "/_local/iam").json())
        finally:
            process.stop()


@pytest.fixture(autouse=True)
def _calls_without_grant(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test after which the stack has judged a new call without a grant (resources, leading keys)."""
    if "stack" not in request.fixturenames:
        yield
        return
    process: StackProcess = request.getfixturevalue("stack")
    before = len(process.request("GET", "/_local/iam").json()["violations"])
    yield
    new = process.request("GET", "/_local/iam").json()["violations"][before:]
    if new:
        lines = "\n".join(f"  {v['function']}: {v['action']} on {v['resource']} ({v['reason']})" for v in new)
        pytest.fail(f"the local stack saw AWS calls without a grant:\n{lines}", pytrace=False)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """test_privacy reads what the whole session logged: run it after every other test."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/e2e/test_privacy.py"))
