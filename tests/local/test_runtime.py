"""Worker processes: warm reuse, pool limit, errors and timeouts as results."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from local.runtime import Runtime, lambda_environment
from local.template import Template

pytestmark = pytest.mark.unit


def http_event(path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    return {
        "rawPath": path,
        "queryStringParameters": query or {},
        "requestContext": {"http": {"method": "GET"}},
    }


@pytest.fixture
def runtime(fixture_template: Template) -> Iterator[Runtime]:
    rt = Runtime(fixture_template.functions, aws_endpoint="http://127.0.0.1:9", max_concurrency=2, timeout_scale=0.2)
    try:
        yield rt
    finally:
        rt.close()


def body(result: Any) -> dict[str, Any]:
    import json

    assert result.ok, result.error
    return json.loads(result.payload["body"])  # type: ignore[no-any-return]


def test_worker_is_cold_once_then_warm(runtime: Runtime) -> None:
    first = runtime.invoke("EchoFunction", http_event("/echo/1"))
    second = runtime.invoke("EchoFunction", http_event("/echo/2"))
    assert first.cold_start
    assert not second.cold_start
    assert body(first)["pid"] == body(second)["pid"] != os.getpid()
    assert body(second)["invocations"] == 2
    assert body(first)["function_name"] == "referral-local-EchoFunction"
    assert 0 < body(first)["remaining_ms"] <= 1000  # Timeout 5 s scaled by 0.2


def test_worker_environment(runtime: Runtime, fixture_template: Template) -> None:
    env = body(runtime.invoke("EchoFunction", http_event("/echo/1")))["env"]
    assert env["GREETING"] == "hello"
    assert env["AWS_LAMBDA_FUNCTION_NAME"] == "referral-local-EchoFunction"
    full = lambda_environment(fixture_template.function("EchoFunction"), "http://127.0.0.1:9")
    assert full["AWS_ENDPOINT_URL"] == "http://127.0.0.1:9"
    assert full["AWS_ACCOUNT_ID_ENDPOINT_MODE"] == "disabled"
    assert full["AWS_REGION"] == full["AWS_DEFAULT_REGION"] == "us-east-1"


def test_pool_is_bounded(runtime: Runtime) -> None:
    with ThreadPoolExecutor(max_workers=6) as pool:
        results = list(
            pool.map(lambda _: runtime.invoke("EchoFunction", http_event("/files/sleep", {"s": "0.2"})), range(6))
        )
    assert all(r.ok for r in results)
    assert runtime.worker_count("EchoFunction") <= 2


def test_handler_exception_is_an_error_result(runtime: Runtime) -> None:
    result = runtime.invoke("EchoFunction", http_event("/files/crash"))
    assert not result.ok
    assert result.error is not None
    assert result.error["errorType"] == "RuntimeError"
    assert result.error["errorMessage"] == "boom"
    assert runtime.invoke("EchoFunction", http_event("/echo/1")).ok  # the worker survives


def test_timeout_kills_the_worker(runtime: Runtime) -> None:
    result = runtime.invoke("EchoFunction", http_event("/files/sleep", {"s": "5"}))
    assert result.timed_out
    assert result.error is not None
    assert "timed out" in result.error["errorMessage"]
    after = runtime.invoke("EchoFunction", http_event("/echo/1"))
    assert after.ok
    assert after.cold_start


def test_import_error_is_reported_per_invocation(fixture_template: Template) -> None:
    broken = dataclasses.replace(fixture_template.function("Ticker"), handler="no_such_module.handler")
    rt = Runtime({"Ticker": broken}, aws_endpoint=None)
    try:
        result = rt.invoke("Ticker", {})
    finally:
        rt.close()
    assert result.error is not None
    assert result.error["errorType"] == "Runtime.ImportModuleError"
