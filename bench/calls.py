"""DynamoDB calls per request (every route) and per stream record (every consumer), on moto in-process.

Journeys replay what people do (staff create a referrer, a visitor follows the link, ...). Each request
runs on a warm container (the journey runs once to warm up, then again measured); the table's real stream
records that a request produced are then delivered one by one to each consumer whose FilterCriteria keep
them, counting that consumer's calls per record. Calls are counted with botocore ``before-parameter-build``
hooks on the app's client (tests/support/dynamo_calls.py); capacity units are estimated from the
parameters and the items read (on-demand rules: 4 KB per read unit, eventual reads half; 1 KB per write
unit, plus one per GSI the item is in; transactions double).
"""

from __future__ import annotations

import io
import json
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.support import ROOT, Section, table
from local.template import create_table_kwargs
from tests.support.aws import Stack, moto_stack, template
from tests.support.dynamo_calls import watch
from tests.support.events import STAFF_CLAIMS, http_event, load_event
from tests.support.jobs import configure_webhook_secrets, signed_event
from tests.support.portal import create_session_secret
from tests.support.stream_pump import StreamPump, batches, consumers

Context = dict[str, Any]


@dataclass(frozen=True)
class Step:
    """One request: ``route`` is the OpenAPI/template operation (``GET /r/{code}``) it exercises."""

    route: str
    scenario: str
    function_id: str
    event: Callable[[Context], dict[str, Any]]
    keep: Callable[[Context, dict[str, Any]], None] = lambda ctx, response: None


@dataclass
class RequestResult:
    step: Step
    status: int
    calls: str
    count: int
    rru: float
    wru: float
    ms: float
    log_bytes: int


@dataclass
class RecordResult:
    """Calls of one consumer per stream record of one kind (event name and item type)."""

    records: int = 0
    calls: int = 0
    rru: float = 0.0
    wru: float = 0.0
    ops: set[str] = field(default_factory=set)
    ms: float = 0.0
    log_bytes: int = 0


@dataclass
class Measurements:
    requests: list[RequestResult]
    records: dict[tuple[str, str, str], RecordResult]
    produced: dict[str, list[tuple[str, str]]]  # step scenario -> (event name, item type) of its records


def _admin(method: str, path: str, body: Any = None) -> dict[str, Any]:
    return http_event(method, path, body=body, claims=STAFF_CLAIMS)


def _redirect(code: str, method: str = "GET", ip: str = "203.0.113.7") -> dict[str, Any]:
    return http_event(method, f"/r/{code}", route="/r/{code}", path_params={"code": code}, source_ip=ip)


def _keep_code(ctx: Context, response: dict[str, Any]) -> None:
    ctx["code"] = json.loads(response["body"])["code"]


def _keep_cid(ctx: Context, response: dict[str, Any]) -> None:
    query = parse_qs(urlsplit(response["headers"]["Location"]).query)
    ctx["cid"] = query["cid"][0]


def _lead(ctx: Context) -> dict[str, Any]:
    event = load_event("capture_lead/post_lead_json.json")
    body = {**json.loads(event["body"]), "ref": ctx["code"], "cid": ctx["cid"],
            "email": f"sam-{uuid.uuid4().hex[:8]}@example.com", "phone": f"0412 {uuid.uuid4().int % 900 + 100} 678"}
    event["body"] = json.dumps(body)
    return event


def _job(event_type: str) -> Callable[[Context], dict[str, Any]]:
    def build(ctx: Context) -> dict[str, Any]:
        body = json.loads(load_event(f"job_webhook/{event_type}.json")["body"])
        body["data"].update(job_id=ctx.setdefault("job_id", f"J-{uuid.uuid4().hex[:8]}"), lead_id=ctx["lead_id"])
        return signed_event(body)
    return build


JOURNEYS: dict[str, list[Step]] = {
    "referrer and link": [
        Step("POST /admin/referrers", "staff create a referrer", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/referrers",
                                {"name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com",
                                 "phone": "0412 345 678"}), _keep_code),
        Step("GET /r/{code}", "first visit (counted)", "LinkRedirectFunction", lambda ctx: _redirect(ctx["code"])),
        Step("GET /r/{code}", "same visitor again within the hour", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"])),
        Step("GET /r/{code}", "unknown code (404)", "LinkRedirectFunction", lambda ctx: _redirect("NOPE234")),
        Step("HEAD /r/{code}", "HEAD (not counted)", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"], method="HEAD")),
        Step("GET /openapi.json", "API description", "ApiDocsFunction",
             lambda ctx: http_event("GET", "/openapi.json")),
        Step("GET /docs", "API docs page", "ApiDocsFunction", lambda ctx: http_event("GET", "/docs")),
    ],
    "referral": [
        Step("POST /admin/referrers", "referral: staff create a referrer", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/referrers",
                                {"name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com"}), _keep_code),
        Step("GET /r/{code}", "referral: a friend follows the link", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"], ip=f"198.51.100.{uuid.uuid4().int % 250}"), _keep_cid),
        Step("GET /quick-help", "referral: Quick Help page", "CaptureLeadFunction",
             lambda ctx: load_event("capture_lead/get_quick_help_with_ref.json")),
        Step("POST /leads", "referral: the friend asks for help", "CaptureLeadFunction", _lead,
             lambda ctx, response: ctx.update(lead_id=json.loads(response["body"])["lead_id"])),
        Step("POST /webhooks/jobs", "referral: job created", "JobWebhookFunction", _job("job.created")),
        Step("POST /webhooks/jobs", "referral: job completed", "JobWebhookFunction", _job("job.completed")),
        Step("POST /webhooks/jobs", "referral: job paid", "JobWebhookFunction", _job("job.paid")),
        Step("GET /policy", "privacy policy", "CaptureLeadFunction",
             lambda ctx: load_event("capture_lead/get_policy.json")),
    ],
}


def _gsi_keys() -> tuple[tuple[str, str], ...]:
    kwargs = create_table_kwargs(template(), "Table")
    return tuple((next(k["AttributeName"] for k in g["KeySchema"] if k["KeyType"] == "HASH"), g["IndexName"])
                 for g in kwargs.get("GlobalSecondaryIndexes", []))


def _kind(record: dict[str, Any]) -> str:
    image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage") or {}
    return str(image.get("type", {}).get("S", "?"))


@contextmanager
def _logs() -> Iterator[io.StringIO]:
    """What the functions log (Powertools' one logger per process) goes to a buffer while the block runs."""
    from referral_core.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        yield buffer
    finally:
        logger.registered_handler.setStream(previous)


def _run_journey(stack: Stack, pump: StreamPump, steps: list[Step], measured: bool,
                 out: Measurements, times: dict[str, list[float]]) -> None:
    ctx: Context = {}
    gsi = _gsi_keys()
    for step in steps:
        event = step.event(ctx)
        with watch(gsi_keys=gsi) as calls, _logs() as log:
            started = time.perf_counter()
            response = stack.invoke(step.function_id, event)
            elapsed = (time.perf_counter() - started) * 1000
        step.keep(ctx, response)
        times.setdefault(step.scenario, []).append(elapsed)
        records = pump.new_records()
        if not measured:
            for trigger in consumers():
                pump.deliver(records, trigger)
            continue
        rru, wru = calls.capacity()
        out.requests.append(RequestResult(step, response["statusCode"], calls.summary(), len(calls.calls),
                                          rru, wru, elapsed, len(log.getvalue().encode())))
        out.produced[step.scenario] = [(r["eventName"], _kind(r)) for r in records]
        for trigger in consumers():
            for batch in batches(trigger, records):
                for record in batch:
                    key = (trigger.function_id, record["eventName"], _kind(record))
                    result = out.records.setdefault(key, RecordResult())
                    with watch(gsi_keys=gsi) as record_calls, _logs() as log:
                        started = time.perf_counter()
                        stack.invoke(trigger.function_id, {"Records": [record]})
                        result.ms += (time.perf_counter() - started) * 1000
                    result.log_bytes += len(log.getvalue().encode())
                    r, w = record_calls.capacity()
                    result.records += 1
                    result.calls += len(record_calls.calls)
                    result.rru += r
                    result.wru += w
                    result.ops.update(c.operation for c in record_calls.calls)


def measure(rounds: int = 5) -> Measurements:
    """Warm up, measure calls once, then time ``rounds`` more journeys (request ms are their medians)."""
    out = Measurements([], {}, {})
    with pytest.MonkeyPatch.context() as mp, moto_stack(mp) as stack:
        configure_webhook_secrets(stack)
        create_session_secret()
        pump = StreamPump(stack)
        for steps in JOURNEYS.values():
            times: dict[str, list[float]] = {}
            _run_journey(stack, pump, steps, measured=False, out=out, times={})
            _run_journey(stack, pump, steps, measured=True, out=out, times=times)
            for _ in range(rounds - 1):
                _run_journey(stack, pump, steps, measured=False, out=out, times=times)
            for result in out.requests:
                if result.step.scenario in times:
                    result.ms = statistics.median(times[result.step.scenario])
    return out


def documented_routes() -> set[str]:
    """Every operation a client can call: the OpenAPI document plus the template's non-proxy routes."""
    spec = json.loads((ROOT / "functions" / "api_docs" / "openapi.json").read_text())
    routes = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    routes |= {r.route_key for r in template().routes() if "{proxy+}" not in r.path}
    return routes


def run(quick: bool = False) -> tuple[Section, Measurements]:
    m = measure(rounds=2 if quick else 5)
    rows = [[r.step.route, r.step.scenario, r.status, r.count, r.calls, f"{r.rru:g}", f"{r.wru:g}",
             f"{r.ms:.0f}", r.log_bytes] for r in m.requests]
    record_rows = [[fn, event, kind, f"{r.calls / r.records:g}", ", ".join(sorted(r.ops)) or "none",
                    f"{r.rru / r.records:g}", f"{r.wru / r.records:g}"]
                   for (fn, event, kind), r in sorted(m.records.items())]
    measured = {r.step.route for r in m.requests}
    missing = sorted(documented_routes() - measured)
    by_consumer: dict[str, int] = defaultdict(int)
    for (fn, _, _), r in m.records.items():
        by_consumer[fn] += r.records
    idle = sorted(t.function_id for t in consumers() if t.function_id not in by_consumer)
    body = (
        "Per request (warm container):\n\n"
        + table(["route", "scenario", "status", "calls", "operations", "est. RRU", "est. WRU",
                 "ms (moto, median)", "log bytes"], rows)
        + "\n\nPer stream record delivered to a consumer (records its FilterCriteria keep; others cost "
        "nothing):\n\n"
        + table(["consumer", "event", "item type", "calls / record", "operations", "est. RRU", "est. WRU"],
                record_rows or [["(no record reached a consumer)", "", "", "", "", "", ""]])
        + f"\n\nRoutes without a scenario yet: {', '.join(missing) or 'none'}."
        + f"\nConsumers that no journey reached: {', '.join(idle) or 'none'}."
    )
    return Section("DynamoDB calls per request and per stream record", "python -m bench --only calls",
                   body), m
