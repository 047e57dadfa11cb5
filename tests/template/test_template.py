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


def _stream_of(source: Any) -> str | None:
    """The table whose stream ``source`` (an EventSourceArn / a Pipe's Source) names, if it names one."""
    if isinstance(source, dict) and "Fn::GetAtt" in source:
        target = source["Fn::GetAtt"]
        logical_id, attr = target if isinstance(target, list) else str(target).split(".", 1)
        return str(logical_id) if attr in ("StreamArn", "LatestStreamArn") else None
    return None


def stream_readers(resources: dict[str, Any]) -> dict[str, list[str]]:
    """Per table: every resource that reads its DynamoDB stream (event source mappings, EventBridge Pipes)."""
    readers: dict[str, list[str]] = {}
    for logical_id, resource in resources.items():
        props = resource.get("Properties") or {}
        source = {"AWS::Lambda::EventSourceMapping": props.get("EventSourceArn"),
                  "AWS::Pipes::Pipe": props.get("Source")}.get(resource["Type"])
        table = _stream_of(source)
        if table:
            readers.setdefault(table, []).append(logical_id)
    return readers


#: DynamoDB Streams: "No more than two processes at most should be reading from the same streams shard at
#: the same time" (more are throttled). docs/architecture.md, "One reader on the stream".
MAX_STREAM_READERS = 2


def test_no_stream_has_more_than_two_readers(sam_cli):
    readers = stream_readers(translated()["Resources"])
    assert readers, "the table's stream drives the checks and notifications"
    for table, ids in readers.items():
        assert len(ids) <= MAX_STREAM_READERS, f"{table}'s stream has {len(ids)} readers: {ids}"


def test_a_third_reader_is_counted_whatever_resource_it_is(sam_cli):
    resources = dict(translated()["Resources"])
    stream = {"Fn::GetAtt": ["Table", "StreamArn"]}
    resources["ExtraMapping"] = {"Type": "AWS::Lambda::EventSourceMapping",
                                 "Properties": {"EventSourceArn": stream, "FunctionName": "x"}}
    resources["ExtraPipe"] = {"Type": "AWS::Pipes::Pipe", "Properties": {"Source": stream, "Target": "y"}}
    readers = stream_readers(resources)["Table"]
    assert {"ExtraMapping", "ExtraPipe"} <= set(readers)
    assert len(readers) > MAX_STREAM_READERS


def test_the_readers_filter_keeps_every_record_a_consumer_wants():
    """The mapping's coarse filter (event names, entity types) must not starve a route: each route pattern's
    event names and ``type`` values are among the mapping's."""
    from tests.support.stream_pump import consumers, readers

    (reader,) = readers()
    (coarse,) = reader.filter_patterns
    types = set(coarse["dynamodb"]["NewImage"]["type"]["S"])
    for route in consumers():
        for pattern in route.filters:
            assert set(pattern["eventName"]) <= set(coarse["eventName"]), route.name
            assert set(pattern["dynamodb"]["NewImage"]["type"]["S"]) <= types, route.name


def test_every_stream_consumer_is_safe_against_poison_records(sam_cli):
    resources = translated()["Resources"]
    mappings = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Lambda::EventSourceMapping"
                and _stream_of(v["Properties"].get("EventSourceArn"))]
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


def test_queue_consumers_report_partial_failures_and_outlast_their_function(sam_cli):
    """A queue mapping (the parked stream changes, the outbound webhook deliveries) reports failed messages
    alone; each queue hides a message longer than its function may take, or Lambda refuses the mapping."""
    resources = translated()["Resources"]
    queue_mappings = [v["Properties"] for v in resources.values() if v["Type"] == "AWS::Lambda::EventSourceMapping"
                      and not _stream_of(v["Properties"].get("EventSourceArn"))]
    assert queue_mappings, "the parked stream changes come back through an SQS event source"
    for props in queue_mappings:
        assert props["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        queue = resources[props["EventSourceArn"]["Fn::GetAtt"][0]]["Properties"]
        function = resources[props["FunctionName"]["Ref"]]["Properties"]
        if props["FunctionName"]["Ref"] == "DispatchChangesFunction":
            assert queue["FifoQueue"] is True, "parked changes keep their order per consumer and item"
        else:
            assert "RedrivePolicy" in queue, "a message its function keeps failing on ends in a dead-letter queue"
        assert queue["VisibilityTimeout"] >= function["Timeout"]


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


def test_cryptography_is_off_the_import_path_and_only_where_payout_details_are_sealed_or_opened():
    # PyJWT imports cryptography at start-up whenever it is importable: in the shared layer it would join
    # every cold start of the portal (issue 19: within 1.6x the floor). It lives in its own layer, built into
    # /opt/payout_crypto (on no import path), which dal.payout_methods adds to the path on first use.
    from referral_core.dal.payout_methods import CRYPTO_LAYER_DIR

    shared = (ROOT / "shared" / "requirements.txt").read_text()
    assert not any(line.split("#")[0].strip().startswith("cryptography") for line in shared.splitlines())
    layer = raw()["Resources"]["PayoutCryptoLayer"]
    assert layer["Metadata"]["BuildMethod"] == "makefile"
    makefile = (ROOT / layer["Properties"]["ContentUri"] / "Makefile").read_text()
    assert f'--target "$(ARTIFACTS_DIR)/{CRYPTO_LAYER_DIR.removeprefix("/opt/")}"' in makefile
    assert "--platform manylinux2014_aarch64" in makefile and "--python-version 3.13" in makefile
    with_layer = {k for k, fn in functions().items()
                  if {"Ref": "PayoutCryptoLayer"} in (fn["Properties"].get("Layers") or [])}
    assert with_layer == {"ReferrerPortalFunction", "StaffAdminFunction"}
