"""scripts/send_job_event.py: a replay (same webhook-id, same arguments) sends the same body, and where it
sends follows --url, $JOB_WEBHOOK_URL and $PORT (docs/jobs.md's recipe works as written). No sockets:
``send`` is replaced by a recorder."""

from __future__ import annotations

import base64
import json
import time

import pytest

from scripts import send_job_event

pytestmark = pytest.mark.unit

SECRET = "whsec_" + base64.b64encode(b"k" * 32).decode()


@pytest.fixture
def sent(monkeypatch, tmp_path):
    """Run the script in a folder with a .local/ (as after ``make run``); returns the deliveries."""
    deliveries: list[tuple[str, bytes, str]] = []

    def record(url, secret, body, webhook_id):
        deliveries.append((url, body, webhook_id))
        return 200, "{}"

    monkeypatch.setattr(send_job_event, "send", record)
    monkeypatch.setenv("WEBHOOK_SECRET", SECRET)
    monkeypatch.chdir(tmp_path)
    (tmp_path / ".local").mkdir()
    return deliveries


def test_a_replay_with_the_same_id_and_arguments_sends_the_same_body(sent, monkeypatch):
    args = ["job.paid", "--job-id", "J-1001", "--amount-cents", "48000", "--webhook-id", "msg_1"]
    assert send_job_event.main(args) == 0
    later = time.time() + 120  # the replay comes two minutes later: "now" has moved on
    monkeypatch.setattr(send_job_event, "datetime", _FrozenDatetime(later))
    assert send_job_event.main(args) == 0
    (_, first, _), (_, second, _) = sent
    assert first == second
    # a new delivery (another id) is dated now
    assert send_job_event.main([*args[:-1], "msg_2"]) == 0
    assert json.loads(sent[2][1])["data"]["occurred_at"] != json.loads(first)["data"]["occurred_at"]


def test_an_explicit_occurred_at_wins(sent):
    send_job_event.main(["job.paid", "--job-id", "J-1", "--webhook-id", "msg_1"])
    send_job_event.main(["job.paid", "--job-id", "J-1", "--webhook-id", "msg_1",
                         "--occurred-at", "2026-11-22T10:00:00Z"])
    assert json.loads(sent[1][1])["data"]["occurred_at"] == "2026-11-22T10:00:00Z"


def test_without_a_local_folder_nothing_is_written(sent, tmp_path):
    (tmp_path / ".local").rmdir()
    send_job_event.main(["job.paid", "--job-id", "J-1", "--webhook-id", "msg_1"])
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(("environ", "url"), [
    ({}, "http://127.0.0.1:3000/webhooks/jobs"),
    ({"PORT": "3100"}, "http://127.0.0.1:3100/webhooks/jobs"),
    ({"PORT": "3100", "JOB_WEBHOOK_URL": "https://api.example.com/webhooks/jobs"},
     "https://api.example.com/webhooks/jobs"),
])
def test_the_default_url_follows_job_webhook_url_then_port(environ, url):
    assert send_job_event.default_url(environ) == url


class _FrozenDatetime:
    """Stands in for ``datetime`` in the script: ``now()`` is a fixed later moment."""

    def __init__(self, epoch: float) -> None:
        from datetime import UTC, datetime
        self._now = datetime.fromtimestamp(epoch, UTC)

    def now(self, *_tz):
        return self._now
