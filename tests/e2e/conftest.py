"""The e2e session fixture: the real local stack (`python -m local`) in a subprocess.

`stack` is a `local.testing.StackProcess`: `base_url`, `staff_token`, `viewer_token`, `webhook_secret`,
`local_dir`, and helpers `request(method, path, body=..., headers=...)`, `drain()` (wait until the
stream consumers are idle), `outbox()`, `tick()`, `info()`, `aws(service)` (boto3 on its moto server).
It runs on a free port with a temporary LOCAL_DIR and is stopped at the end of the session.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from local.testing import StackProcess


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    process = StackProcess(local_dir=tmp_path_factory.mktemp("local-stack"))
    try:
        process.start()
    except (RuntimeError, TimeoutError) as exc:
        log = (process.local_dir / "stack.log").read_text(encoding="utf-8", errors="replace")[-4000:]
        process.stop()
        pytest.fail(f"{exc}\n--- stack log (tail) ---\n{log}")
    try:
        yield process
    finally:
        process.stop()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """test_privacy reads what the whole session logged: run it after every other test."""
    items.sort(key=lambda item: item.nodeid.startswith("tests/e2e/test_privacy.py"))
