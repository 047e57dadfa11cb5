"""Benchmark of GET /r/{code} against floors, and of the click counters' hot-key write rate.

    python bench/redirect_bench.py [--runs 9] [--warm 2000] [--append bench/RESULTS.md]

1. Cold import: a fresh interpreter importing the redirect handler and building its DynamoDB client, vs a
   floor interpreter importing boto3 and creating a DynamoDB client. Runs alternate in ABBA order, medians
   compared; with our modules precompiled (.pyc) and without. Target <= 1.15x.
2. Warm handler: the real handler vs a floor handler doing the same GetItem, both on the same real botocore
   client whose HTTP send is answered in memory (a ``before-send`` hook), so the SDK's serialisation and
   parsing are measured, not the network. Target <= 1.5x.
3. DynamoDB calls per redirect, counted with botocore ``before-call`` hooks. Target: 1 read, <= 1 write.
4. Hot key: 5,000 clicks/s on one code for 10 s. Click items are keyed by click id; the stream is split
   over ceil(rate / 1,000) shards (a DynamoDB partition takes 1,000 writes/s), and count_clicks reads
   batches of the template's BatchSize per shard and writes one transaction per (code, placement).
   Reports the most writes any partition key gets in a second. Target < 1,000.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import math
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
REDIRECT_DIR = ROOT / "functions" / "link_redirect"
SHARED = ROOT / "shared"
TABLE = "bench-table"
CODE = "VAN-JO"

ENV = {
    "AWS_DEFAULT_REGION": "us-east-1", "AWS_REGION": "us-east-1", "AWS_ACCESS_KEY_ID": "bench",
    "AWS_SECRET_ACCESS_KEY": "bench", "AWS_ACCOUNT_ID_ENDPOINT_MODE": "disabled",
    "TABLE_NAME": TABLE, "STAGE": "dev", "CURRENCY": "AUD", "PUBLIC_BASE_URL": "https://refer.example.com",
    "PEPPER_PARAM": "/bench/pepper", "LANDING_URL": "", "CLICK_TTL_DAYS": "120",
    "ALLOWED_REDIRECT_HOSTS": "www.example.com", "CODE_CACHE_SECONDS": "30",
    "POWERTOOLS_SERVICE_NAME": "link_redirect",
    "POWERTOOLS_LOG_LEVEL": "INFO", "POWERTOOLS_TRACE_DISABLED": "true",
}

# Each snippet prints the seconds from before its first import to "ready to call DynamoDB".
FLOOR_COLD = """
import time; t0 = time.perf_counter()
import boto3
boto3.client("dynamodb")
print(time.perf_counter() - t0)
"""
REDIRECT_COLD = """
import time; t0 = time.perf_counter()
import link_redirect
repo = link_redirect.links()
repo.table.client
print(time.perf_counter() - t0)
"""


def _repo_on_path() -> None:
    """The repository's own packages (local, tests) importable: this file also runs as a script."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))


# -- 1. cold import --------------------------------------------------------------------------------
def _env(pycache: Path | None) -> dict[str, str]:
    env = {**os.environ, **ENV, "PYTHONPATH": f"{REDIRECT_DIR}{os.pathsep}{SHARED}"}
    env.pop("PYTHONPYCACHEPREFIX", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _fresh(snippet: str, pycache: Path | None) -> float:
    out = subprocess.run([sys.executable, "-c", snippet], env=_env(pycache), check=True, capture_output=True,
                         text=True)
    return float(out.stdout.strip().splitlines()[-1])


def cold(runs: int, pycache: Path | None) -> dict[str, float]:
    """Alternating fresh interpreters. ``pycache``: our modules precompiled there (else compiled at import,
    as when a read-only /var/task or /opt holds only sources; the SDK always has its .pyc)."""
    if pycache is not None:
        subprocess.run([sys.executable, "-m", "compileall", "-q", str(SHARED / "referral_core"),
                        str(REDIRECT_DIR)], env=_env(pycache), check=True)
    _fresh(FLOOR_COLD, pycache), _fresh(REDIRECT_COLD, pycache)  # warm-up: file cache and .pyc in place
    floor, redirect = [], []
    for run in range(runs):  # ABBA order, so drift in the machine's load hits both sides alike
        pair = [(floor, FLOOR_COLD), (redirect, REDIRECT_COLD)]
        for samples, snippet in pair if run % 2 == 0 else pair[::-1]:
            samples.append(_fresh(snippet, pycache))
    f, r = statistics.median(floor), statistics.median(redirect)
    return {"floor_ms": f * 1000, "redirect_ms": r * 1000, "ratio": r / f}


# -- 2/3. warm handler and calls per redirect ------------------------------------------------------
class CannedDynamo:
    """Answers DynamoDB requests in memory (botocore ``before-send``) and counts calls (``before-call``)."""

    def __init__(self, client: Any) -> None:
        self.calls: Counter[str] = Counter()
        code_item = {"pk": {"S": f"CODE#{CODE}"}, "sk": {"S": "CODE"}, "type": {"S": "share_code"},
                     "code": {"S": CODE}, "referrer_id": {"S": "R1"}, "status": {"S": "active"},
                     "uses": {"N": "0"}, "placement": {"S": "van"},
                     "landing_url": {"S": "https://www.example.com/help"}}
        self._bodies = {"GetItem": json.dumps({"Item": code_item}).encode(), "PutItem": b"{}"}
        client.meta.events.register("before-call.dynamodb", self._count)
        client.meta.events.register("before-send.dynamodb", self._answer)

    def _count(self, model: Any, **_: Any) -> None:
        self.calls[model.name] += 1

    def _answer(self, request: Any, **_: Any) -> Any:
        from botocore.awsrequest import AWSResponse

        target = request.headers["X-Amz-Target"].decode().split(".")[-1]
        raw = _Raw(self._bodies[target])
        return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.0"}, raw)


class _Raw:
    def __init__(self, body: bytes) -> None:
        self._body = body

    def stream(self, **_: Any) -> Any:
        yield self._body

    def read(self, *_: Any) -> bytes:
        return self._body


@contextlib.contextmanager
def _redirect_module() -> Any:
    os.environ.update(ENV)
    sys.path[:0] = [str(REDIRECT_DIR), str(SHARED)]
    import link_redirect

    from referral_core.dal.aws import client

    ssm = client("ssm")
    ssm.meta.events.register("before-send.ssm", lambda request, **_: _ssm_answer(request))
    yield link_redirect


def _ssm_answer(request: Any) -> Any:
    from botocore.awsrequest import AWSResponse

    body = json.dumps({"Parameter": {"Name": "/bench/pepper", "Value": "bench-pepper", "Type": "String"}})
    return AWSResponse(request.url, 200, {"content-type": "application/x-amz-json-1.1"}, _Raw(body.encode()))


def _event(ip: str, method: str = "GET", agent: str = "Mozilla/5.0 (iPhone) Safari/604.1") -> dict[str, Any]:
    return {
        "version": "2.0", "routeKey": "GET /r/{code}", "rawPath": f"/r/{CODE}", "rawQueryString": "",
        "headers": {"host": "refer.example.com", "user-agent": agent}, "pathParameters": {"code": CODE},
        "requestContext": {"domainName": "refer.example.com",
                           "http": {"method": method, "path": f"/r/{CODE}", "sourceIp": ip,
                                    "userAgent": agent}},
    }


def _timed(handlers: dict[str, Any], events: list[dict[str, Any]], context: Any) -> dict[str, float]:
    """Median seconds per request of each handler over 5 interleaved loops (after a warm-up)."""
    for handler in handlers.values():
        for event in events[:50]:
            handler(event, context)
    samples: dict[str, list[float]] = {name: [] for name in handlers}
    for _ in range(5):
        for name, handler in handlers.items():
            start = time.perf_counter()
            for event in events:
                handler(event, context)
            samples[name].append((time.perf_counter() - start) / len(events))
    return {name: statistics.median(values) for name, values in samples.items()}


def warm(iterations: int) -> tuple[dict[str, float], dict[str, dict[str, int]]]:
    _repo_on_path()
    from local._worker import LambdaContext

    with _redirect_module() as module:
        repo, codes = module.links(), module.code_cache()
        dynamo = repo.table.client
        canned = CannedDynamo(dynamo)
        context = LambdaContext.of("bench", memory_limit_in_mb=1024, aws_request_id="bench")
        key = {"pk": {"S": f"CODE#{CODE}"}, "sk": {"S": "CODE"}}

        def floor_get(event: dict[str, Any], _context: Any) -> dict[str, Any]:
            out = dynamo.get_item(TableName=TABLE, Key=key)
            return {"statusCode": 302, "headers": {"Location": out["Item"]["landing_url"]["S"]}, "body": ""}

        def floor_get_put(event: dict[str, Any], _context: Any) -> dict[str, Any]:
            out = dynamo.get_item(TableName=TABLE, Key=key)
            dynamo.put_item(TableName=TABLE, Item={"pk": {"S": "CLICK#x"}, "sk": {"S": "CLICK"}})
            return {"statusCode": 302, "headers": {"Location": out["Item"]["landing_url"]["S"]}, "body": ""}

        # every request a new visitor, so every one is a counted click (the costliest path)
        events = [_event(f"198.51.{i // 250}.{i % 250}") for i in range(iterations)]
        cached = _timed({"floor": floor_get, "redirect": module.handler}, events, context)
        codes.ttl_seconds = 0  # the same handler reading the code on every request
        codes.clear()
        uncached = _timed({"floor": floor_get_put, "redirect": module.handler}, events, context)

        calls: dict[str, dict[str, int]] = {}
        for label, event, ttl in (
            ("new visitor, code not cached", _event("203.0.113.1"), 0),
            ("link preview bot", _event("203.0.113.2", agent="WhatsApp/2.24 A"), 0),
            ("HEAD", _event("203.0.113.3", "HEAD"), 0),
            ("new visitor, code cached", _event("203.0.113.4"), 30),
        ):
            codes.ttl_seconds = ttl
            codes.clear()
            if ttl:
                codes.get(CODE, repo.get_code)  # an earlier request cached it
            canned.calls.clear()
            module.handler(event, context)
            calls[label] = dict(canned.calls)
    return {"floor_us": cached["floor"] * 1e6, "redirect_us": cached["redirect"] * 1e6,
            "ratio": cached["redirect"] / cached["floor"],
            "uncached_floor_us": uncached["floor"] * 1e6, "uncached_redirect_us": uncached["redirect"] * 1e6,
            "uncached_ratio": uncached["redirect"] / uncached["floor"]}, calls


# -- 4. hot key ------------------------------------------------------------------------------------
def hot_key(rate: int, seconds: int, batch_size: int) -> dict[str, Any]:
    """Writes per partition key per second for ``rate`` clicks/s on one code."""
    from referral_core.dal.links import MARKERS_PER_TRANSACTION

    shards = math.ceil(rate / 1000)
    writes: Counter[tuple[str, int]] = Counter()
    rng = random.Random(7)
    for second in range(seconds):
        per_shard: dict[int, list[tuple[str, str]]] = {s: [] for s in range(shards)}
        for _ in range(rate):
            click_pk = f"CLICK#{rng.getrandbits(96):024x}"
            writes[(click_pk, second)] += 1  # the redirect's conditional put
            shard = int(hashlib.md5(click_pk.encode()).hexdigest(), 16) % shards
            per_shard[shard].append((click_pk, rng.choice(["qr", "link"])))
        for records in per_shard.values():
            for start in range(0, len(records), batch_size):
                batch = records[start:start + batch_size]
                # one (code, placement) group; one transaction per 98 clicks
                for chunk in range(0, len(batch), MARKERS_PER_TRANSACTION):
                    for click_pk, _src in batch[chunk:chunk + MARKERS_PER_TRANSACTION]:
                        writes[(click_pk, second)] += 1  # its COUNTED# marker (same partition)
                    writes[(f"STATS#{CODE}", second)] += 1
                    writes[(f"CODE#{CODE}", second)] += 1
    by_key = Counter[str]()
    for (pk, _), n in writes.items():
        by_key[pk] = max(by_key[pk], n)
    top = by_key.most_common(3)
    return {"rate": rate, "seconds": seconds, "shards": shards, "batch_size": batch_size,
            "max_writes_per_key_per_s": top[0][1], "top_keys": top}


def template_batch_size() -> int:
    _repo_on_path()
    from tests.support.stream_pump import consumers

    return next(route.batch_size for route in consumers() if route.name == "count_clicks")


# -- report ----------------------------------------------------------------------------------------
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=9, help="fresh interpreters per side (>= 7)")
    parser.add_argument("--warm", type=int, default=2000, help="requests per warm timing loop")
    parser.add_argument("--append", type=Path, help="append the results as Markdown to this file")
    args = parser.parse_args()
    if args.runs < 7:
        parser.error("--runs must be at least 7")

    with tempfile.TemporaryDirectory() as pycache:
        cold_result = cold(args.runs, Path(pycache))
    cold_source = cold(args.runs, None)
    warm_result, calls = warm(args.warm)
    hot = hot_key(5000, 10, template_batch_size())
    verdict = {
        "cold <= 1.15x": cold_result["ratio"] <= 1.15,
        "warm <= 1.5x": warm_result["ratio"] <= 1.5,
        "1 read, <= 1 write": all(c.get("GetItem", 0) <= 1 and c.get("PutItem", 0) <= 1
                                  for c in calls.values()),
        "hot key < 1000/s": hot["max_writes_per_key_per_s"] < 1000,
    }
    lines = [
        f"### {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())} — "
        f"Python {platform.python_version()} on {platform.machine()}",
        "", f"Command: `python {' '.join(sys.argv)}`", "",
        "| Measure | Floor | Redirect | Ratio / value | Target | OK |", "|---|---|---|---|---|---|",
        f"| Cold import + DynamoDB client, .pyc present (median of {args.runs} alternating fresh "
        "interpreters) | "
        f"{cold_result['floor_ms']:.1f} ms | {cold_result['redirect_ms']:.1f} ms | "
        f"{cold_result['ratio']:.2f}x | <= 1.15x | {verdict['cold <= 1.15x']} |",
        f"| Same, our modules not precompiled (no .pyc: compiled at every cold start) | "
        f"{cold_source['floor_ms']:.1f} ms | {cold_source['redirect_ms']:.1f} ms | "
        f"{cold_source['ratio']:.2f}x | (build should ship .pyc) | |",
        f"| Warm handler, new visitor each request (median of 5 loops x {args.warm}, canned HTTP); floor: "
        f"GetItem | {warm_result['floor_us']:.0f} us | {warm_result['redirect_us']:.0f} us | "
        f"{warm_result['ratio']:.2f}x | <= 1.5x | {verdict['warm <= 1.5x']} |",
        f"| Same, code cache off (CODE_CACHE_SECONDS=0); floor: GetItem + PutItem | "
        f"{warm_result['uncached_floor_us']:.0f} us | {warm_result['uncached_redirect_us']:.0f} us | "
        f"{warm_result['uncached_ratio']:.2f}x | (like for like) | |",
        f"| DynamoDB calls per redirect | | | {json.dumps(calls)} | 1 read, <= 1 write | "
        f"{verdict['1 read, <= 1 write']} |",
        f"| Hot key: 5,000 clicks/s on one code, {hot['shards']} shards, BatchSize {hot['batch_size']} | | | "
        f"max {hot['max_writes_per_key_per_s']} writes/s on one key; top {hot['top_keys']} | < 1,000/s | "
        f"{verdict['hot key < 1000/s']} |",
        "",
    ]
    report = "\n".join(lines)
    print(report)
    if args.append:
        with args.append.open("a") as out:
            out.write(report + "\n")


if __name__ == "__main__":
    main()
