"""Modelled AWS cost from the measured calls (bench/calls.py) and list prices.

Prices: us-east-1, on-demand, no free tier, as listed on the AWS pricing pages named below; checked by the
author against the 2025 revisions of those pages (DynamoDB on-demand after the November 2024 cut). Re-check
them before relying on the totals: they are constants on purpose, so a change is one line.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from bench.calls import Measurements, RecordResult, RequestResult
from bench.support import Section, table
from tests.support.aws import STREAM_READER, template
from tests.support.stream_pump import consumers

PRICES_CHECKED = "2025 revisions of the pages (bench run 2026-11-23); region us-east-1"
# "Amazon API Gateway pricing", HTTP APIs: first 300 million requests a month.
HTTP_API_PER_REQUEST = 1.00 / 1_000_000
# "AWS Lambda pricing", Arm: requests, and duration for the first 7.5 billion GB-s a month.
LAMBDA_PER_REQUEST = 0.20 / 1_000_000
LAMBDA_ARM_PER_GB_S = 0.0000133334
# "Amazon DynamoDB pricing" -> "Pricing for on-demand capacity" (Standard table class).
DYNAMODB_PER_WRU = 0.625 / 1_000_000
DYNAMODB_PER_RRU = 0.125 / 1_000_000
# "Amazon CloudWatch pricing" -> Logs, Standard ingestion.
LOGS_PER_GB = 0.50
# "Amazon SES pricing": outbound email.
SES_PER_EMAIL = 0.10 / 1_000


@dataclass
class Cost:
    api: float = 0.0
    lambda_requests: float = 0.0
    lambda_duration: float = 0.0
    dynamodb: float = 0.0
    logs: float = 0.0
    email: float = 0.0

    @property
    def total(self) -> float:
        return self.api + self.lambda_requests + self.lambda_duration + self.dynamodb + self.logs + self.email

    def add(self, other: Cost, times: float = 1.0) -> None:
        for name in ("api", "lambda_requests", "lambda_duration", "dynamodb", "logs", "email"):
            setattr(self, name, getattr(self, name) + times * getattr(other, name))


def _memory_gb(function_id: str) -> float:
    """A function's memory; a stream consumer (a route, not a function) runs in the stream's reader."""
    functions = template().functions
    return functions.get(function_id, functions[STREAM_READER]).memory_mb / 1024


def request_cost(r: RequestResult) -> Cost:
    """One API request: gateway, one invocation billed by the ms, its DynamoDB units and log bytes."""
    return Cost(api=HTTP_API_PER_REQUEST, lambda_requests=LAMBDA_PER_REQUEST,
                lambda_duration=_memory_gb(r.step.function_id) * math.ceil(r.ms) / 1000 * LAMBDA_ARM_PER_GB_S,
                dynamodb=r.rru * DYNAMODB_PER_RRU + r.wru * DYNAMODB_PER_WRU,
                logs=r.log_bytes / 1e9 * LOGS_PER_GB)


def record_cost(function_id: str, r: RecordResult, emails: float = 0.0) -> Cost:
    """One stream record that reaches a consumer, invoked alone (the worst case: no batching)."""
    per = 1 / r.records
    return Cost(lambda_requests=LAMBDA_PER_REQUEST,
                lambda_duration=_memory_gb(function_id) * math.ceil(r.ms * per) / 1000 * LAMBDA_ARM_PER_GB_S,
                dynamodb=(r.rru * DYNAMODB_PER_RRU + r.wru * DYNAMODB_PER_WRU) * per,
                logs=r.log_bytes * per / 1e9 * LOGS_PER_GB, email=emails * SES_PER_EMAIL)


def _batch_size(consumer: str) -> int:
    return next(route.batch_size for route in consumers() if route.name == consumer)


def scenario_cost(m: Measurements, scenario: str, *, full_batches: bool = False) -> Cost:
    """A request and everything its stream records cost downstream. ``full_batches``: consumers get full
    batches of their BatchSize that cost what one record alone costs (true of per-code counters when the
    clicks are on one code: the best case), instead of one invocation per record (the worst case)."""
    request = next(r for r in m.requests if r.step.scenario == scenario)
    cost = request_cost(request)
    for event, kind in m.produced.get(scenario, []):
        for (fn, e, k), result in m.records.items():
            if (e, k) == (event, kind):
                share = 1 / _batch_size(fn) if full_batches else 1.0
                cost.add(record_cost(fn, result, emails=1.0 if fn == "notify_status" else 0.0), share)
    return cost


# What each modelled unit is made of: (label, how many, [(scenario, times per unit)]).
REFERRAL = ["referral: a friend follows the link", "referral: Quick Help page", "referral: the friend asks for help",
            "referral: job created", "referral: job completed", "referral: job paid"]
UNITS: list[tuple[str, int, list[tuple[Any, ...]]]] = [
    ("1M redirects, each counted click invoking the counter alone (worst case)", 1_000_000,
     [("first visit (counted)", 1)]),
    ("1M redirects, clicks counted in full batches on one code (best case)", 1_000_000,
     [("first visit (counted)", 1, True)]),
    ("1k referrers created (with welcome email)", 1_000, [("staff create a referrer", 1)]),
    ("1k referrals (click, Quick Help, lead, job created/completed/paid, all stream checks)", 1_000,
     [(scenario, 1) for scenario in REFERRAL]),
]


def run(m: Measurements) -> Section:
    rows = []
    for label, count, parts in UNITS:
        cost = Cost()
        for scenario, times, *batched in parts:
            cost.add(scenario_cost(m, scenario, full_batches=bool(batched and batched[0])), times * count)
        rows.append([label, *(f"${v:.4f}" for v in (cost.api, cost.lambda_requests, cost.lambda_duration,
                                                     cost.dynamodb, cost.logs, cost.email)),
                     f"**${cost.total:.2f}**"])
    prices = table(["price", "value", "page"], [
        ["HTTP API request", "$1.00 / million", "Amazon API Gateway pricing (HTTP APIs, first 300M)"],
        ["Lambda request", "$0.20 / million", "AWS Lambda pricing"],
        ["Lambda Arm duration", "$0.0000133334 / GB-s", "AWS Lambda pricing (Arm, first 7.5B GB-s)"],
        ["DynamoDB write request unit", "$0.625 / million", "Amazon DynamoDB pricing, on-demand"],
        ["DynamoDB read request unit", "$0.125 / million", "Amazon DynamoDB pricing, on-demand"],
        ["CloudWatch Logs ingestion", "$0.50 / GB", "Amazon CloudWatch pricing (Standard logs)"],
        ["SES outbound email", "$0.10 / 1,000", "Amazon SES pricing"],
    ])
    body = (
        "Modelled from the measured calls, log bytes and warm in-process durations (moto answering in "
        "place of DynamoDB) of bench/calls.py, with each function's MemorySize from template.yaml; stream "
        "records are costed as one invocation each (no batching: an upper bound) unless the row says "
        "otherwise. No free tier, no storage, no data transfer. Init (cold start) duration is not included.\n\n"
        + table(["unit", "HTTP API", "Lambda requests", "Lambda duration", "DynamoDB", "Logs", "Email",
                 "total"], rows)
        + f"\n\nPrices (us-east-1; {PRICES_CHECKED}):\n\n" + prices
    )
    return Section("Modelled cost", "python -m bench --only calls,cost", body)
