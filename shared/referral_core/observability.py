"""Powertools Logger and Metrics, and the Tracer when asked for, one of each per container.

Metrics are CloudWatch embedded metric format (EMF) lines on stdout: no API call, nothing on the hot path
until a handler that counts something returns (:func:`publishes_metrics`). The namespace is the stack's
name (template Globals ``POWERTOOLS_METRICS_NAMESPACE``); each function is its ``service`` dimension.

Lambda's active tracing (template Globals) records every invocation without any SDK. Powertools' Tracer
adds subsegments per AWS call but imports the X-Ray SDK, which costs more cold start than boto3 itself
(see bench/RESULTS.md), so it is opt-in: template parameter ``TraceSubsegments`` → ``TRACE_SUBSEGMENTS``.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable
from functools import cache
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from referral_core.config import read_settings
from referral_core.errors import DomainError

F = TypeVar("F", bound=Callable[..., Any])


@dataclasses.dataclass(frozen=True, kw_only=True)
class ObservabilitySettings:
    trace_subsegments: bool = False


class NoSubsegments:
    """The Tracer's decorators, doing nothing (active tracing still records the invocation)."""

    def capture_lambda_handler(self, fn: F) -> F:
        return fn

    def capture_method(self, fn: F) -> F:
        return fn


def _tracer() -> Any:
    if read_settings(ObservabilitySettings).trace_subsegments:
        from aws_lambda_powertools import Tracer

        return Tracer()
    return NoSubsegments()


logger = Logger()
tracer = _tracer()
@cache
def _metrics() -> Any:
    """Built on the first count, inside an invocation: the namespace is read from the function's environment
    then (and a function that counts nothing never imports the Metrics utility)."""
    from aws_lambda_powertools import Metrics

    return Metrics()


def count(name: str, value: int = 1) -> None:
    """Add ``value`` to the invocation's count of ``name`` (docs/operations.md lists the metrics)."""
    if value:
        from aws_lambda_powertools.metrics import MetricUnit

        _metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)


def count_webhook_rejection(exc: DomainError) -> None:
    """A webhook delivery refused: ``WebhookRejected`` for the sender's fault (4xx), else ``WebhookUnavailable``
    (the ``on_error`` of every webhook handler's :func:`referral_core.http_errors.raw_routes`)."""
    count("WebhookRejected" if exc.status < 500 else "WebhookUnavailable")


def publishes_metrics(handler: F) -> F:
    """Flush what the invocation counted, if anything (Powertools' ``log_metrics`` warns on an empty set)."""

    @functools.wraps(handler)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return handler(*args, **kwargs)
        finally:
            if _metrics.cache_info().currsize and _metrics().metric_set:
                _metrics().flush_metrics()

    return wrapper  # type: ignore[return-value]
