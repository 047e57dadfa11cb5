"""Hostile JSON against every JSON route of the API (issue 16, item 6).

The routes come from the generated OpenAPI document (every operation with a JSON request body) and are
sent to the function the template routes them to, signed in (staff claims, a referrer session, a signed
webhook) so that the body is what gets refused. A new JSON route is covered with no change here.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.aws import Stack
from tests.support.events import json_body
from tests.support.jobs import WEBHOOK, configure_webhook_secrets, job_body, signed_event
from tests.support.portal import create_referrer, sign_in
from tests.support.providers import configure_providers
from tests.support.routes import SPEC, Caller, json_operations, request_schema
from tests.support.stripe_events import configure_stripe_secrets

pytestmark = pytest.mark.integration

ROUTES = json_operations()
ROUTE_IDS = [f"{method} {path}" for method, path in ROUTES]

#: Each is a body that used to make a function fail with a 500 (or a DynamoDB error) before this fix.
HOSTILE = {
    "arrays 5,000 deep": "[" * 5000 + "]" * 5000,
    "objects 2,000 deep": '{"a":' * 2000 + "1" + "}" * 2000,
    "nested inside a field": '{"name": ' + "[" * 5000 + "]" * 5000 + "}",
    "4,400-digit integer": "9" * 4400,
    "4,400-digit integer in a field": '{"name": "x", "expected_version": ' + "9" * 4400 + "}",
    "NaN": '{"amount_cents": NaN}',
    "Infinity": '{"amount_cents": -Infinity}',
    "float out of range": '{"amount_cents": 1e400}',
}


@pytest.fixture
def api(portal_stack: Stack) -> Caller:
    configure_webhook_secrets(portal_stack)
    configure_stripe_secrets(portal_stack)
    configure_providers(portal_stack)
    referrer = create_referrer(portal_stack)
    return Caller(portal_stack, sign_in(portal_stack, referrer["email"]))


def test_every_json_route_is_covered():
    assert {"POST /leads", "POST /auth/magic-link", "POST /auth/session", "POST /me/withdrawals",
            "PUT /admin/program", "POST /webhooks/jobs", "POST /webhooks/stripe", "POST /webhooks/square",
            "POST /webhooks/xero"} <= set(ROUTE_IDS)


@pytest.mark.parametrize(("method", "path"), ROUTES, ids=ROUTE_IDS)
def test_hostile_json_is_a_400_with_the_error_body_and_writes_nothing(api, method, path):
    before = api.stack.items()
    for name, body in HOSTILE.items():
        response = api.send(method, path, body)
        assert response["statusCode"] == 400, (name, response)
        error = json_body(response)["error"]
        assert error["code"] == "malformed_request", (name, error)
        assert set(error["fields"]) == {"body"}, (name, error)
    assert api.stack.items() == before


def integer_fields(schema: dict[str, Any], path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    """``(field path, maximum)`` of every integer in a request schema (``None`` when it has no maximum)."""
    if "$ref" in schema:
        yield from integer_fields(SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], path)
        return
    if schema.get("type") == "integer":
        yield path, schema.get("maximum")
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from integer_fields(alternative, path)
    for name, sub in (schema.get("properties") or {}).items():
        yield from integer_fields(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from integer_fields(schema["items"], (*path, "0"))


def request_integers() -> list[tuple[str, str, tuple[str, ...], Any]]:
    found = []
    for method, path in ROUTES:
        schema = request_schema(method, path)
        found.extend((method, path, field, maximum) for field, maximum in integer_fields(schema))
    return found


INTEGERS = request_integers()


def test_every_integer_field_of_a_request_has_a_documented_maximum():
    assert INTEGERS, "no integer field found: the walk over the OpenAPI document is broken"
    assert [f"{m} {p} {'.'.join(f)}" for m, p, f, maximum in INTEGERS if maximum is None] == []


def nested(field: tuple[str, ...], value: Any) -> Any:
    """``{"a": {"b": [{"c": value}]}}`` for ``("a", "b", "0", "c")``."""
    for part in reversed(field):
        value = [value] if part == "0" else {part: value}
    return value


@pytest.mark.parametrize(("method", "path", "field", "maximum"), INTEGERS,
                         ids=[f"{m} {p} {'.'.join(f)}" for m, p, f, _ in INTEGERS])
def test_an_integer_above_its_maximum_is_a_422_naming_the_field(api, method, path, field, maximum):
    before = api.stack.items()
    for value in (maximum + 1, 10**40):
        response = api.send(method, path, json.dumps(nested(field, value)))
        assert response["statusCode"] == 422, (value, response)
        assert ".".join(field) in json_body(response)["error"]["fields"], (value, json_body(response))
    assert api.stack.items() == before


def test_a_signed_job_event_of_10_to_the_40_cents_is_refused_and_nothing_is_written(api):
    # Given an otherwise valid, correctly signed job.paid event
    before = api.stack.items()
    body = job_body("job.paid", amount_cents=10**40)

    # When it is delivered
    response = api.stack.invoke(WEBHOOK, signed_event(body))

    # Then it is a 422 naming the amount (DynamoDB would have refused the number), and nothing is stored,
    # not even the delivery's idempotency record
    assert response["statusCode"] == 422, response
    assert "data.amount_cents" in json_body(response)["error"]["fields"]
    assert api.stack.items() == before
    # and the largest allowed amount is still accepted
    ok = api.stack.invoke(WEBHOOK, signed_event(job_body("job.paid", amount_cents=1_000_000_000)))
    assert ok["statusCode"] == 200, ok


def string_fields(schema: dict[str, Any],
                  path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], dict[str, Any]]]:
    """``(field path, schema)`` of every string in a request schema."""
    if "$ref" in schema:
        yield from string_fields(SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]], path)
        return
    if schema.get("type") == "string":
        yield path, schema
    for alternative in schema.get("anyOf", []) + schema.get("oneOf", []) + schema.get("allOf", []):
        yield from string_fields(alternative, path)
    for name, sub in (schema.get("properties") or {}).items():
        yield from string_fields(sub, (*path, name))
    if isinstance(schema.get("items"), dict):
        yield from string_fields(schema["items"], (*path, "0"))


def request_strings() -> list[tuple[str, str, tuple[str, ...], dict[str, Any]]]:
    found = []
    for method, path in ROUTES:
        schema = request_schema(method, path)
        found.extend((method, path, field, sub) for field, sub in string_fields(schema)
                     if "enum" not in sub and "const" not in sub and sub.get("format") != "date-time")
    return found


STRINGS = request_strings()


@pytest.mark.parametrize(("method", "path", "field", "schema"), STRINGS,
                         ids=[f"{m} {p} {'.'.join(f)}" for m, p, f, _ in STRINGS])
def test_a_nul_in_any_text_field_is_a_422_naming_the_field(api, method, path, field, schema):
    # A value of an acceptable length whose only fault is the NUL (other control characters: unit tests)
    value = ("Jo\x00" + "x" * 40)[:max(int(schema.get("maxLength", 40)), 3)]
    value += "x" * max(0, int(schema.get("minLength", 0)) - len(value))
    before = api.stack.items()
    response = api.send(method, path, json.dumps(nested(field, value)))
    assert response["statusCode"] == 422, response
    assert ".".join(field) in json_body(response)["error"]["fields"], json_body(response)
    assert api.stack.items() == before


@pytest.mark.parametrize(("method", "path"), [("POST", "/admin/referrers"), ("POST", "/auth/magic-link"),
                                              ("POST", "/me/share-codes"), ("PUT", "/admin/program")])
def test_a_resolver_body_over_64_kb_is_a_413_before_it_is_parsed(api, method, path):
    before = api.stack.items()
    response = api.send(method, path, '{"name": "' + "x" * 70_000 + '"}')
    assert response["statusCode"] == 413, response
    assert json_body(response)["error"]["code"] == "payload_too_large"
    assert api.stack.items() == before
