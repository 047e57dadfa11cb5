"""The answer check used by every integration test (tests/support/response_models.py) catches drift."""

from __future__ import annotations

import json

import pytest
from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ValidationError

from referral_core.http import create_resolver, json_answer, json_response
from tests.support.events import http_event
from tests.support.response_models import check_answer, declared

pytestmark = pytest.mark.unit


class Thing(BaseModel):
    thing_id: str
    size: int
    note: str | None = None


app = create_resolver()


@app.post("/things", responses={201: json_answer(Thing, "Created")})
def post_thing() -> Response[str]:
    return json_response(201, {})


@app.get("/things/<thing_id>")
def get_thing(thing_id: str) -> Thing:
    return Thing(thing_id=thing_id, size=1)


def answer(status: int, body: object, content_type: str = "application/json") -> dict[str, object]:
    return {"statusCode": status, "headers": {"Content-Type": content_type}, "body": json.dumps(body)}


def test_routes_declare_their_models_by_responses_or_return_annotation():
    assert declared(app) == {"POST /things 201": Thing, "GET /things/{thing_id} 200": Thing}


def test_an_answer_that_is_its_model_passes_and_is_named():
    post = http_event("POST", "/things")
    assert check_answer(app, post, answer(201, {"thing_id": "t1", "size": 3})) == "POST /things 201"
    get = http_event("GET", "/things/t1")
    assert check_answer(app, get, answer(200, {"thing_id": "t1", "size": 3, "note": None})) == (
        "GET /things/{thing_id} 200")


@pytest.mark.parametrize("body", [
    {"thing_id": "t1"},                           # a required field is missing
    {"thing_id": "t1", "size": "3"},              # a number sent as text (the check is strict)
    {"thing_id": "t1", "size": 3, "note": 4},
])
def test_an_answer_outside_its_schema_fails(body):
    with pytest.raises(ValidationError):
        check_answer(app, http_event("POST", "/things"), answer(201, body))


def test_an_attribute_the_model_does_not_declare_fails():
    with pytest.raises(AssertionError, match="outside Thing"):
        check_answer(app, http_event("POST", "/things"), answer(201, {"thing_id": "t1", "size": 3, "colour": "red"}))


def test_statuses_and_content_without_a_declared_model_are_not_checked():
    post = http_event("POST", "/things")
    assert check_answer(app, post, answer(422, {"error": {}})) is None
    assert check_answer(app, post, answer(201, "<p>hi</p>", content_type="text/html")) is None
    assert check_answer(app, http_event("GET", "/nowhere"), answer(200, {})) is None
    assert check_answer(app, {"Records": []}, answer(201, {})) is None
