"""Local data survives a restart; restored items do not re-trigger stream consumers."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.local.conftest import read_queue, start_fixture_stack


@pytest.mark.integration
@pytest.mark.slow
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


@pytest.mark.unit
def test_a_snapshot_that_no_longer_fits_the_table_is_kept_aside(tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    from local.persistence import TableSnapshots

    (tmp_path / "tables").mkdir()
    (tmp_path / "tables" / "Table.json").write_text(json.dumps([{"old_key": {"S": "x"}}]))
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        ddb.create_table(
            TableName="t",
            KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        assert TableSnapshots(ddb, {"Table": "t"}, tmp_path).restore() == {}
    assert not (tmp_path / "tables" / "Table.json").exists()
    assert len(list((tmp_path / "tables").glob("Table.rejected-*.json"))) == 1


@pytest.mark.unit
def test_the_outbox_text_of_an_html_email_keeps_the_link_addresses() -> None:
    # moto keeps only the HTML part of an email sent with both; the outbox text is made from it
    from local.persistence import _strip_tags
    from referral_core.services.auth_links import magic_link_email

    url = "http://127.0.0.1:3000/dashboard?token=abc-123_x&y=1"
    email = magic_link_email({"name": "Jo Smith", "email": "jo@example.com"}, url)
    assert url in email.text  # the text part the app sends
    assert url in _strip_tags(email.html)  # and what /_local/outbox shows as text
    assert _strip_tags('<p><a href="https://x.example/a">https://x.example/a</a></p>') == "https://x.example/a"
