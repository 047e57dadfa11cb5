"""Powertools Logger, and the Tracer when asked for, one of each per container.

Lambda's active tracing (template Globals) records every invocation without any SDK. Powertools' Tracer
adds subsegments per AWS call but imports the X-Ray SDK (~0.4 s of cold start, more than boto3 itself;
bench/RESULTS.md), so it is opt-in: template parameter ``TraceSubsegments`` → ``TRACE_SUBSEGMENTS``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, TypeVar

from aws_lambda_powertools import Logger

from referral_core.config import read_settings

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
