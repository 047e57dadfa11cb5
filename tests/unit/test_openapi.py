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
            if "{proxy+}" in route.path or route.path in {"/openapi.json", "/docs"}:
                continue
            assert route.path in spec["paths"], route.path
    assert any(path.startswith("/admin/") for path in spec["paths"])
