"""Local data survives a restart; restored items do not re-trigger stream consumers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.local.conftest import read_queue, start_fixture_stack

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_restart_keeps_items_outbox_and_generated_secrets(tmp_path: Path) -> None:
    # Given a stack with an item, an email and generated secrets
    first = start_fixture_stack(tmp_path)
    try:
        created = first.request("POST", "/items", body={"pk": "keep", "sk": "1", "kind": "job", "value": "v"})
        assert created.status == 201
        first.drain()
        first.aws("ses").send_email(
            Source="sender@example.com",
            Destination={"ToAddresses": ["kept@example.com"]},
            Message={"Subject": {"Data": "Kept"}, "Body": {"Text": {"Data": "still here"}}},
        )
        secret, pepper = first.webhook_secret, first.read_file("pepper")
    finally:
        assert first.stop() == 0  # SIGTERM: clean exit with a final snapshot
    assert json.loads((tmp_path / "tables" / "Table.json").read_text())

    # When it starts again on the same directory
    second = start_fixture_stack(tmp_path)
    try:
        # Then the data, the outbox and the secrets are back
        table = second.info()["tables"]["Table"]
        item = second.aws("dynamodb").get_item(TableName=table, Key={"pk": {"S": "keep"}, "sk": {"S": "1"}})
        assert item["Item"]["value"] == {"S": "v"}
        assert [m["subject"] for m in second.outbox()] == ["Kept"]
        assert second.webhook_secret == secret
        assert second.read_file("pepper") == pepper
        # and restoring did not replay the item to the consumers
        status = second.drain()
        assert all(c["invocations"] == 0 for c in status["consumers"])
        assert read_queue(second, "SeenQueue") == []
    finally:
        second.stop()
