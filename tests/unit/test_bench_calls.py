"""bench/calls.py measures every route a client can call: a new route without a scenario fails here."""

from __future__ import annotations

from collections import Counter

import pytest

from bench.calls import JOURNEYS, documented_routes

pytestmark = pytest.mark.unit


def test_every_documented_route_is_a_step_of_some_journey():
    named = {step.route for steps in JOURNEYS.values() for step in steps}
    assert sorted(documented_routes() - named) == []


def test_steps_of_routes_run_their_documented_function_and_scenarios_are_unique():
    from tests.support.aws import template

    routes = {r.route_key: r.function_id for r in template().routes()}
    steps = [step for steps in JOURNEYS.values() for step in steps]
    for step in steps:
        if step.route in routes:
            assert routes[step.route] == step.function_id, step
        elif step.route.startswith("schedule "):  # a scheduled function, on its template schedule
            expressions = {t.expression for t in template().functions[step.function_id].schedules}
            assert step.route.removeprefix("schedule ") in expressions, step
        else:  # one of the StaffAdmin proxy's routes (the OpenAPI document names them)
            assert step.route.split()[1].startswith("/admin/") and step.function_id == "StaffAdminFunction", step
    assert [s for s, n in Counter(step.scenario for step in steps).items() if n > 1] == []
