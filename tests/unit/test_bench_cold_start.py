"""bench/cold_start.py: what a run adds up, and how a ratio is taken (the timings themselves are noise)."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from bench import cold_start

pytestmark = pytest.mark.unit


@pytest.fixture(autouse=True)
def dev_site(monkeypatch: pytest.MonkeyPatch) -> None:
    # The bench installs the deployed requirements into .bench/ (pip, minutes on a fresh machine); what
    # is checked here does not depend on which copy of the libraries is imported.
    monkeypatch.setattr(cold_start, "lambda_site", lambda: Path(sysconfig.get_paths()["purelib"]))


def test_a_function_that_uses_aws_pays_the_floor_and_its_import_and_ratios_are_paired() -> None:
    m = cold_start.measure(cold_start.load_template().functions["LinkRedirectFunction"], rounds=3)
    assert m["import_ms"] > 0 and m["floor_ms"] > 0
    assert m["ready_ms"] > m["floor_ms"]  # boto3 + client, then the handler on top
    assert 1.0 < m["ratio"] < 5  # per run (floor + import) / floor
    assert m["separate_ratio"] > 0


def test_a_function_without_aws_pays_only_its_import() -> None:
    m = cold_start.measure(cold_start.load_template().functions["StaffPageFunction"], rounds=3)
    assert m["ready_ms"] == pytest.approx(m["import_ms"], rel=0.5)
    assert m["ready_ms"] < m["floor_ms"]  # a static page: no boto3 at all
    assert m["ratio"] < 1.0


def test_every_inbound_adapter_is_measured_against_the_1_6x_target() -> None:
    # issue 20: "cold start of each adapter within 1.6x the floor"; the bench measures every template
    # function, so an adapter is in the table as soon as it is in template.yaml (figures: bench/RESULTS.md)
    adapters = sorted(name for name in cold_start.load_template().functions if name.endswith("WebhookFunction"))
    assert {"JobWebhookFunction", "SquareWebhookFunction", "XeroWebhookFunction"} <= set(adapters)
    assert all(cold_start.TARGETS.get(name, cold_start.DEFAULT_TARGET) == 1.6 for name in adapters)


def test_a_function_whose_route_modules_use_aws_pays_the_floor_too() -> None:
    # the staff endpoint's handler module no longer imports the AWS layer (every route module does, loaded
    # on first use): its first request still builds a client, so its cold start is import + floor
    m = cold_start.measure(cold_start.load_template().functions["StaffAdminFunction"], rounds=3)
    assert m["ready_ms"] > m["floor_ms"]
    assert m["ratio"] > 1.0
