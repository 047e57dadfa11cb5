"""The served OpenAPI document is generated from the code and must not drift from it."""

from __future__ import annotations

import json

import pytest

from local.template import load_template
from scripts import openapi

pytestmark = pytest.mark.unit


def test_committed_openapi_matches_the_code():
    assert openapi.OUTPUT.read_text() == openapi.render(), "stale: run `make openapi`"


def test_every_public_json_route_of_the_template_is_described():
    spec = json.loads(openapi.OUTPUT.read_text())
    for fn in load_template().functions.values():
        for route in fn.routes:
            if "{proxy+}" in route.path or route.path in {"/openapi.json", "/docs", "/docs/{asset}"}:
                continue
            assert route.path in spec["paths"], route.path
    assert any(path.startswith("/admin/") for path in spec["paths"])


def test_json_answers_are_documented_with_their_model():
    # A route declares its model: responses={200: json_answer(Model, "...")} (referral_core.http), or a
    # pydantic return annotation; tests/support/response_models.py checks the real answers against it.
    spec = json.loads(openapi.OUTPUT.read_text())
    assert openapi.undocumented_bodies(spec) == []


def test_errors_have_the_one_error_body_and_staff_routes_document_401_and_403():
    spec = json.loads(openapi.OUTPUT.read_text())
    assert not {"HTTPValidationError", "ValidationError", "ResponseValidationError"} & set(
        spec["components"]["schemas"])
    for path, item in spec["paths"].items():
        for operation in item.values():
            responses = operation["responses"]
            if path.startswith("/admin/") and not path.startswith("/admin/assets/"):  # the console's files are public
                assert operation["security"], path
                assert {"401", "403"} <= set(responses), path
                assert responses["401"]["content"]["application/json"]["schema"]["$ref"].endswith("GatewayError")
            for status, response in responses.items():
                schema = (response.get("content") or {}).get("application/json", {}).get("schema")
                if status.startswith(("4", "5")) and status != "401" and schema is not None:
                    # 404 on a path id may also be API Gateway's own answer (no route for that segment)
                    assert schema == openapi.ERROR_REF or (
                        status == "404" and schema["oneOf"][0] == openapi.ERROR_REF), (path, status)


def test_error_documentation_is_added_to_resolver_routes():
    operation = {"requestBody": {}, "security": [{"staffJwt": []}],
                 "responses": {"201": {"description": "ok"}, "409": {"description": "taken",
                               "content": {"application/json": {"schema": openapi.RETURN_ARTIFACT}}}}}
    openapi._document_errors(operation, resolver=True)
    assert list(operation["responses"]) == ["201", "400", "401", "403", "409", "413", "422", "503"]
    by_id = {"parameters": [{"name": "id", "in": "path"}], "responses": {"200": {"description": "ok"}}}
    openapi._document_errors(by_id, resolver=True)
    assert by_id["responses"]["404"]["content"]["application/json"]["schema"] == {
        "oneOf": [openapi.ERROR_REF, {"$ref": "#/components/schemas/GatewayError"}]}
    assert operation["responses"]["409"]["content"]["application/json"]["schema"] == openapi.ERROR_REF
    assert operation["responses"]["409"]["description"] == "taken"
