"""Template loading and resolution: short tags, Globals, parameters, intrinsics, the typed model."""

from __future__ import annotations

import boto3
import pytest
from moto import mock_aws

from local.template import (
    Template,
    TemplateError,
    create_table_kwargs,
    load_template,
    load_yaml,
    table_ttl_attribute,
)
from tests.local.conftest import FIXTURE_TEMPLATE

pytestmark = pytest.mark.unit


def test_short_tags_become_long_form(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("A: !Ref X\nB: !GetAtt T.Arn\nC: !Sub '${a}'\nD: !Join [',', [a, b]]\nE: !If [c, 1, 2]\n")
    data = load_yaml(path)
    assert data["A"] == {"Ref": "X"}
    assert data["B"] == {"Fn::GetAtt": ["T", "Arn"]}
    assert data["C"] == {"Fn::Sub": "${a}"}
    assert data["D"] == {"Fn::Join": [",", ["a", "b"]]}
    assert data["E"] == {"Fn::If": ["c", 1, 2]}


def test_intrinsics_and_globals_resolve_to_local_values(fixture_template: Template) -> None:
    echo = fixture_template.function("EchoFunction")
    assert echo.env == {
        # from Globals.Function, merged with the function's own variables
        "TABLE_NAME": "referral-local-Table",
        "SEEN_QUEUE_URL": "http://127.0.0.1/123456789012/referral-local-SeenQueue",
        "STAGE": "test",
        "GREETING": "hello",
        "HOSTS": "a.example,b.example",
        "MODE": "local",
        "POOL_ARN": "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_localPool",
        "SUB": "hello-us-east-1",
        "HOOK_SECRET_ARN": "arn:aws:secretsmanager:us-east-1:123456789012:secret:referral-local-HookSecret",
    }
    assert echo.timeout_s == 5
    assert echo.handler == "echo_fixture.handler"
    assert echo.code_uri == FIXTURE_TEMPLATE.parent / "functions" / "echo"


def test_parameters_take_local_overrides() -> None:
    template = load_template(FIXTURE_TEMPLATE, environ={"LOCAL_PARAM_Greeting": "hi", "LOCAL_PARAM_Stage": "prod"})
    env = template.function("EchoFunction").env
    assert env["GREETING"] == "hi"
    assert env["MODE"] == "live"
    real = load_template(port=4321, environ={})
    assert real.parameters["PublicBaseUrl"] == "http://127.0.0.1:4321"
    assert real.pseudo["AWS::StackName"] == "referral-local"


def test_physical_ids_replace_placeholders(fixture_template: Template) -> None:
    fixture_template.set_physical("Pool", "us-east-1_abc", Arn="arn:pool")
    fixture_template.set_physical("PoolClient", "client123")
    fixture_template.set_physical("Table", "tbl", Arn="arn:tbl", StreamArn="arn:tbl/stream/1")
    authorizer = fixture_template.http_apis["Api"].authorizers["Jwt"]
    assert authorizer.issuer == "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_abc"
    assert authorizer.audience == ("client123",)
    assert fixture_template.function("EchoFunction").env["TABLE_NAME"] == "tbl"
    assert {t.stream_arn for t in fixture_template.stream_triggers()} == {"arn:tbl/stream/1"}


def test_http_routes_and_authorizers(fixture_template: Template) -> None:
    routes = {(r.route_key, r.function_id, r.authorizer) for r in fixture_template.routes()}
    assert routes == {
        ("GET /echo/{id}", "EchoFunction", None),
        ("GET /echo/me", "EchoFunction", None),
        ("ANY /files/{proxy+}", "EchoFunction", None),
        ("POST /items", "EchoFunction", None),
        ("GET /secure", "EchoFunction", "Jwt"),
    }


def test_stream_triggers_carry_the_mapping_settings(fixture_template: Template) -> None:
    triggers = {t.function_id: t for t in fixture_template.stream_triggers()}
    picky = triggers["PickyConsumer"]
    assert picky.batch_size == 10
    assert picky.report_batch_item_failures
    assert picky.maximum_retry_attempts == 2
    assert picky.on_failure_arn == "arn:aws:sqs:us-east-1:123456789012:referral-local-FailureQueue"
    assert picky.filter_patterns == ({"dynamodb": {"NewImage": {"kind": {"S": ["job"]}}}},)
    assert triggers["CrashConsumer"].bisect_on_error
    assert triggers["AllConsumer"].filter_patterns == ()
    assert triggers["AllConsumer"].maximum_retry_attempts == -1


def test_schedules(fixture_template: Template) -> None:
    schedules = fixture_template.function("Ticker").schedules
    assert [(s.event_id, s.expression) for s in schedules] == [("Daily", "rate(1 day)")]


def test_missing_parameter_default_is_an_error(tmp_path) -> None:
    path = tmp_path / "t.yaml"
    path.write_text("Parameters:\n  Needed: {Type: String}\nResources: {}\n")
    with pytest.raises(TemplateError, match="LOCAL_PARAM_Needed"):
        load_template(path, environ={})
    assert load_template(path, environ={"LOCAL_PARAM_Needed": "x"}).parameters["Needed"] == "x"


def test_real_template_model() -> None:
    template = load_template(environ={})
    functions = template.functions
    assert {"LinkRedirectFunction", "StaffAdminFunction", "DispatchChangesFunction"} <= set(functions)
    staff_routes = [r for r in template.routes() if r.function_id == "StaffAdminFunction"]
    assert staff_routes
    assert all(r.authorizer == "StaffJwt" for r in staff_routes)
    authorizer = template.http_apis["HttpApi"].authorizers["StaffJwt"]
    assert authorizer.issuer.startswith("https://cognito-idp.us-east-1.amazonaws.com/")
    for function in functions.values():
        # the shared layer first (Globals); the portal and the staff endpoint also get cryptography's layer
        extra = (template.root / "layers" / "payout_crypto",) if function.logical_id in (
            "ReferrerPortalFunction", "StaffAdminFunction") else ()
        assert function.layer_dirs == (template.root / "shared", *extra)
        assert function.env["TABLE_NAME"] == "referral-local-Table"
        assert function.env["PUBLIC_BASE_URL"] == "http://127.0.0.1:3000"
    reader = {t.function_id: t for t in template.stream_triggers()}["DispatchChangesFunction"]
    assert reader.stream_arn == template.get_att("Table", "StreamArn")
    assert reader.report_batch_item_failures
    (parked,) = functions["DispatchChangesFunction"].queues
    assert parked.queue_arn.endswith(":referral-local-ParkedChangesQueue.fifo")
    assert parked.report_batch_item_failures and parked.batch_size == 10
    assert table_ttl_attribute(template, "Table") == "expiration"


@pytest.mark.parametrize("path", [None, FIXTURE_TEMPLATE], ids=["real", "fixture"])
def test_create_table_kwargs_build_the_templates_table_on_moto(path) -> None:
    template = load_template(path, environ={})
    kwargs = create_table_kwargs(template, "Table", table_name="t-under-test")
    with mock_aws():
        ddb = boto3.client("dynamodb", region_name="us-east-1")
        table = ddb.create_table(**kwargs)["TableDescription"]
    props = template.properties("Table")
    assert table["TableName"] == "t-under-test"
    assert table["KeySchema"] == props["KeySchema"]
    assert {i["IndexName"] for i in table.get("GlobalSecondaryIndexes", [])} == {
        i["IndexName"] for i in props.get("GlobalSecondaryIndexes", [])
    }
    assert table["StreamSpecification"]["StreamViewType"] == props["StreamSpecification"]["StreamViewType"]
    assert kwargs["BillingMode"] == "PAY_PER_REQUEST"
