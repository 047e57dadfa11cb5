"""Everything the real template.yaml declares is served locally, with no local configuration."""

from __future__ import annotations

import json
import re

import pytest

from local.__main__ import MAIN_ROUTES
from local.gateway import Router
from local.runtime import InvokeResult
from local.streams import build_consumers
from local.template import load_template

pytestmark = pytest.mark.unit

TEMPLATE = load_template(environ={})
ROUTES = list(TEMPLATE.routes())


def sample_path(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "sample", re.sub(r"\{[^}]+\+\}", "a/b", path))


def test_the_template_has_routes_and_triggers() -> None:
    assert ROUTES
    assert list(TEMPLATE.stream_triggers())


@pytest.mark.parametrize("route", ROUTES, ids=[r.route_key for r in ROUTES])
def test_every_http_route_resolves_to_its_function(route) -> None:
    router = Router(ROUTES)
    method = "GET" if route.method == "ANY" else route.method
    found = router.match(method, sample_path(route.path))
    assert found is not None
    matched, _ = found
    assert (matched.function_id, matched.authorizer) == (route.function_id, route.authorizer)
    if route.authorizer:
        authorizers = {n for api in TEMPLATE.http_apis.values() for n in api.authorizers}
        assert route.authorizer in authorizers, "the authorizer must be a JWT authorizer the stack emulates"
    function = TEMPLATE.function(route.function_id)
    assert (function.code_uri / f"{function.module.replace('.', '/')}.py").exists()


def test_every_stream_trigger_gets_a_consumer_with_its_settings() -> None:
    triggers = list(TEMPLATE.stream_triggers())
    consumers = build_consumers(
        triggers, TEMPLATE.functions, lambda fn, event: InvokeResult(fn, "r"), lambda dest, record: None
    )
    assert [c.trigger for c in consumers] == triggers
    raw_resources = TEMPLATE.raw["Resources"]
    for consumer in consumers:
        props = raw_resources[consumer.trigger.function_id]["Properties"]["Events"][consumer.trigger.event_id][
            "Properties"
        ]
        status = consumer.status()
        assert status["batch_size"] == props.get("BatchSize", 100)
        patterns = [f["Pattern"] for f in (props.get("FilterCriteria") or {}).get("Filters", [])]
        assert [json.dumps(p, sort_keys=True) for p in status["filters"]] == [
            json.dumps(json.loads(p), sort_keys=True) for p in patterns
        ]
        assert consumer.trigger.stream_arn == TEMPLATE.get_att("Table", "StreamArn")


@pytest.mark.parametrize(("label", "method", "path"), [r[:3] for r in MAIN_ROUTES], ids=[r[0] for r in MAIN_ROUTES])
def test_the_banners_main_routes_are_in_the_template(label: str, method: str, path: str) -> None:
    assert Router(ROUTES).match(method, path.replace("{code}", "CODE")) is not None, label
