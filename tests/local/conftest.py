"""Fixtures for tests of the local stack itself (tests/local).

`FIXTURE_TEMPLATE` is a tiny template with its own fixture functions; `fixture_stack` runs it with
`python -m local` in a subprocess (module scope), so moto state never mixes with the test process.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from local.template import Template, load_template
from local.testing import StackProcess

FIXTURES = Path(__file__).parent / "fixtures"
FIXTURE_TEMPLATE = FIXTURES / "template.yaml"


@pytest.fixture
def fixture_template() -> Template:
    return load_template(FIXTURE_TEMPLATE, port=3000, environ={})


def start_fixture_stack(local_dir: Path) -> StackProcess:
    process = StackProcess(local_dir=local_dir, template=FIXTURE_TEMPLATE)
    try:
        return process.start()
    except (RuntimeError, TimeoutError) as exc:
        log = (local_dir / "stack.log").read_text(encoding="utf-8", errors="replace")[-4000:]
        process.stop()
        pytest.fail(f"{exc}\n--- stack log (tail) ---\n{log}")


@pytest.fixture(scope="module")
def fixture_stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    process = start_fixture_stack(tmp_path_factory.mktemp("fixture-stack"))
    try:
        yield process
    finally:
        process.stop()


def read_queue(stack: StackProcess, logical_id: str) -> list[dict[str, Any]]:
    """Every message currently on a fixture queue (consumed)."""
    sqs = stack.aws("sqs")
    url = stack.info()["queues"][logical_id]
    messages: list[dict[str, Any]] = []
    while True:
        batch = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        if not batch:
            return messages
        for message in batch:
            messages.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
