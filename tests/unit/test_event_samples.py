"""Deploy readiness: every template function has sample events in events/<code folder>/ (the files
``sam local invoke -e`` takes), each is valid JSON of the function's trigger type, and tests use them.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from local.template import load_template

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
EVENTS = ROOT / "events"
FUNCTIONS = sorted(load_template().functions.values(), key=lambda f: f.logical_id)
TEST_SOURCES = "\n".join(p.read_text() for p in (ROOT / "tests").rglob("*.py") if p.name != Path(__file__).name)


def _folder(function) -> str:
    """events/<code folder>/, except a job-system adapter's (``<provider>_webhook``): events/<provider>/,
    the provider's documented payloads (issue 20)."""
    folder = function.code_uri.name
    provider = folder.removesuffix("_webhook")
    return provider if provider != folder and (EVENTS / provider).is_dir() else folder


def _samples(folder: str) -> list[Path]:
    return sorted((EVENTS / folder).glob("*.json"))


def _kind(event: dict) -> str:
    if event.get("version") == "2.0" and "requestContext" in event:
        return "http"
    if event.get("Records") and all(r.get("eventSource") == "aws:dynamodb" for r in event["Records"]):
        return "stream"
    if event.get("Records") and all(r.get("eventSource") == "aws:sqs" for r in event["Records"]):
        return "sqs"
    if event.get("detail-type") == "Scheduled Event":
        return "schedule"
    return "unknown"


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_every_function_has_sample_events_of_its_trigger_type(function) -> None:
    folder = _folder(function)
    samples = _samples(folder)
    assert samples, f"{function.logical_id}: add at least one events/{folder}/<scenario>.json"
    for path in samples:
        event = json.loads(path.read_text())
        kinds = {"http" if function.routes else "", "stream" if function.streams else "",
                 "sqs" if function.queues else "", "schedule" if function.schedules else ""}
        # A ScheduleV2 target gets its Input as is: any JSON is a valid scheduled event.
        ok = _kind(event) in kinds or "schedule" in kinds
        assert ok, f"{path.name}: a {_kind(event)} event, expected one of {kinds - {''}}"


@pytest.mark.parametrize("function", FUNCTIONS, ids=lambda f: f.logical_id)
def test_some_test_loads_the_function_samples(function) -> None:
    folder = _folder(function)
    # load_event("folder/name.json") or load_event(f"folder/{name}.json"), in a test or a tests/support helper
    used = re.search(rf"""load_event\(f?["']{re.escape(folder)}/[\w.{{}}-]+\.json["']""", TEST_SOURCES)
    assert used, f"{function.logical_id}: no test loads events/{folder}/*.json (use load_event)"
