"""template.yaml is the single source of truth: it must lint, validate and translate, and follow the
project's own rules for every function (runtime, architecture, logs, stream consumer safety)."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from pathlib import Path
from typing import Any

import pytest

from local.template import load_yaml

pytestmark = pytest.mark.template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = ROOT / "template.yaml"
SAM_PYTHON = ROOT / ".venv-sam" / "bin" / "python"
SAM = ROOT / ".venv-sam" / "bin" / "sam"
CHECKOV = ROOT / ".venv-checkov" / "bin" / "checkov"
ENV = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1", "SAM_CLI_TELEMETRY": "0"}



@pytest.fixture
def sam_cli() -> Path:
    assert SAM.exists(), "aws-sam-cli lives in its own venv: run `make test` (it creates .venv-sam)"
    return SAM


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=ROOT, env=ENV, capture_output=True, text=True, timeout=300, check=False)


@cache
def raw() -> dict[str, Any]:
    return load_yaml(TEMPLATE)


@cache
def translated() -> dict[str, Any]:
    out = _run(str(SAM_PYTHON), "local/sam_translate.py", str(TEMPLATE))
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout)


def functions() -> dict[str, dict[str, Any]]:
    return {k: v for k, v in raw()["Resources"].items() if v["Type"] == "AWS::Serverless::Function"}


def test_cfn_lint_is_clean():
    out = _run(str(ROOT / ".venv" / "bin" / "cfn-lint"), str(TEMPLATE))
    assert out.returncode == 0, out.stdout + out.stderr


def test_checkov_finds_nothing_unjustified():
    assert CHECKOV.exists(), "checkov lives in its own venv: run `make test` (it creates .venv-checkov)"
    out = _run(str(CHECKOV), "-f", str(TEMPLATE), "--config-file", str(ROOT / ".checkov.yaml"))
    assert out.returncode == 0, out.stdout + out.stderr
    assert "Failed checks: 0" in out.stdout


def test_every_checkov_suppression_says_why():
    for logical_id, resource in raw()["Resources"].items():
        for skip in ((resource.get("Metadata") or {}).get("checkov") or {}).get("skip", []):
            assert len(str(skip.get("comment", "")).split()) >= 6, f"{logical_id} skips {skip['id']} without a reason"


@pytest.mark.parametrize("args", [(), ("--lint",)], ids=["validate", "validate-lint"])
def test_sam_validate(sam_cli, args):
    out = _run(str(sam_cli), "validate", "--region", "us-east-1", *args)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "is a valid SAM Template" in out.stdout + out.stderr


def test_translation_gives_arm64_python313_functions_with_the_layer(sam_cli):
    resources = translated()["Resources"]
    lambdas = {k: v["Properties"] for k, v in resources.items() if v["Type"] == "AWS::Lambda::Function"}
    assert set(lambdas) == set(functions())
    for props in lambdas.values():
        assert props["Runtime"] == "python3.13"
        assert props["Architectures"] == ["arm64"]
        assert props["TracingConfig"] == {"Mode": "Active"}
        assert props["Layers"], "every function runs with the shared layer"


def test_every_stream_consumer_is_safe_against_poison_records(sam_cli):
    mappings = [v["Properties"] for v in translated()["Resources"].values()
                if v["Type"] == "AWS::Lambda::EventSourceMapping"]
    assert mappings, "DynamoDB Streams drive the checks and notifications"
    for props in mappings:
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert props["BisectBatchOnFunctionError"] is True
        assert 0 <= props["MaximumRetryAttempts"] <= 10
        assert props["MaximumRecordAgeInSeconds"] > 0
        assert "OnFailure" in props["DestinationConfig"]
        assert props["FilterCriteria"]["Filters"], "consumers only see the records they handle"
        for flt in props["FilterCriteria"]["Filters"]:
            json.loads(flt["Pattern"])


def test_every_function_has_a_log_group_with_retention_and_its_own_service_name():
    resources = raw()["Resources"]
    log_groups = [r["Properties"] for r in resources.values() if r["Type"] == "AWS::Logs::LogGroup"]
    named = {json.dumps(g.get("LogGroupName")) for g in log_groups}
    services = set()
    for logical_id, fn in functions().items():
        assert any(logical_id in name for name in named), f"{logical_id} has no log group"
        service = fn["Properties"]["Environment"]["Variables"]["POWERTOOLS_SERVICE_NAME"]
        services.add(service)
        handler = fn["Properties"]["Handler"]
        code_uri = fn["Properties"]["CodeUri"]
        assert (ROOT / code_uri / f"{handler.rsplit('.', 1)[0]}.py").exists(), handler
    assert len(services) == len(functions())
    assert all(g.get("RetentionInDays") for g in log_groups)


def test_the_table_is_one_on_demand_table_with_streams_ttl_and_pitr():
    tables = [r["Properties"] for r in raw()["Resources"].values() if r["Type"] == "AWS::DynamoDB::Table"]
    assert len(tables) == 1
    table = tables[0]
    assert table["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["TimeToLiveSpecification"] == {"AttributeName": "expiration", "Enabled": True}
    assert table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"] is True


def test_the_custom_domain_is_optional_and_complete_when_given(sam_cli):
    resources = translated()["Resources"]
    domain = {k: v for k, v in resources.items() if k.startswith("ApiDomain")}
    assert {k: v["Condition"] for k, v in domain.items()} == {
        "ApiDomain": "HasCustomDomain", "ApiDomainMapping": "HasCustomDomain",
        "ApiDomainRecord": "HasCustomDomainZone"}
    # The mapping waits for the stage SAM generates for the HttpApi (the name is SAM's, so check it exists).
    assert domain["ApiDomainMapping"]["DependsOn"] in resources
    assert resources[domain["ApiDomainMapping"]["DependsOn"]]["Type"] == "AWS::ApiGatewayV2::Stage"


def test_the_custom_domain_becomes_the_public_origin_unless_one_is_set():
    from local.template import load_template

    plain = load_template(TEMPLATE)
    with_domain = load_template(TEMPLATE, parameter_overrides={
        "CustomDomainName": "refer.example.com", "PublicBaseUrl": "",
        "CustomDomainCertificateArn": "arn:aws:acm:us-east-1:123456789012:certificate/abc"})
    explicit = load_template(TEMPLATE, parameter_overrides={
        "CustomDomainName": "refer.example.com", "PublicBaseUrl": "https://www.example.com"})

    def origin(t: Any) -> str:
        return str(t.functions["LinkRedirectFunction"].env["PUBLIC_BASE_URL"])

    assert origin(with_domain) == "https://refer.example.com"
    assert origin(explicit) == "https://www.example.com"
    assert origin(plain) == "http://127.0.0.1:3000"  # the local stack's own origin
