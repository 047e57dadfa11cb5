"""Local stack throughput: redirects/s over HTTP vs raw GetItem/s on the stack's moto server.

Both sides run the same bounded loop (``THREADS`` threads for ``seconds``, 127.0.0.1 only), alternating
floor and candidate; the ratio of the median rates is the gateway + worker overhead of the local stack
(each redirect is itself one GetItem and one conditional PutItem on that moto server).
"""

from __future__ import annotations

import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

from bench.support import Section, alternate, median, table
from local.testing import StackProcess

THREADS = 4
TARGET = 0.5


def _rate(work: Callable[[], None], seconds: float) -> float:
    """Calls of ``work`` per second over ``THREADS`` threads; errors stop the bench."""
    done = [0] * THREADS
    errors: list[BaseException] = []
    deadline = time.monotonic() + seconds

    def loop(slot: int) -> None:
        try:
            while time.monotonic() < deadline:
                work()
                done[slot] += 1
        except BaseException as exc:
            errors.append(exc)

    started = time.monotonic()
    threads = [threading.Thread(target=loop, args=(i,)) for i in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]
    return sum(done) / (time.monotonic() - started)


def measure(stack: StackProcess, seconds: float, rounds: int) -> dict[str, float]:
    assert urlsplit(stack.base_url).hostname == "127.0.0.1"
    created = stack.request("POST", "/admin/referrers", body={"name": "Bench", "email": "bench@example.com"},
                            headers={"authorization": f"Bearer {stack.staff_token}"})
    assert created.status == 201, created.body
    code = created.json()["code"]
    info = stack.info()
    assert urlsplit(info["aws_endpoint"]).hostname == "127.0.0.1"
    dynamodb = stack.aws("dynamodb")
    table_name = info["tables"]["Table"]
    key = {"pk": {"S": f"CODE#{code}"}, "sk": {"S": "CODE"}}

    def redirect() -> None:
        response = stack.request("GET", f"/r/{code}")
        if response.status != 302:
            raise RuntimeError(f"redirect answered {response.status}")

    def get_item() -> None:
        if "Item" not in dynamodb.get_item(TableName=table_name, Key=key):
            raise RuntimeError("the code item is missing")

    cand, floor = alternate(lambda: _rate(redirect, seconds), lambda: _rate(get_item, seconds), rounds)
    return {"redirects": median(cand), "get_items": median(floor), "ratio": median(cand) / median(floor)}


def run(quick: bool = False) -> Section:
    seconds, rounds = (2.0, 3) if quick else (5.0, 5)
    with tempfile.TemporaryDirectory(prefix="bench-stack-") as tmp:
        stack = StackProcess(local_dir=Path(tmp))
        stack.start()
        try:
            m = measure(stack, seconds, rounds)
        finally:
            stack.stop()
    ok = m["ratio"] >= TARGET
    verdict = f"{m['ratio']:.2f} ≥ {TARGET} ✅" if ok else f"{m['ratio']:.2f} < {TARGET} ❌"
    body = (
        f"`python -m local` in a subprocess; {THREADS} client threads, {seconds:g} s per run, {rounds} "
        "alternating runs, medians. Redirects go through the gateway, the JWT-less route, a warm worker "
        "process and two DynamoDB calls on the stack's moto server; the floor is one boto3 GetItem on that "
        "same server.\n\n"
        + table(["redirects/s", "GetItem/s", "ratio (target ≥ 0.5)"],
                [[f"{m['redirects']:.0f}", f"{m['get_items']:.0f}", verdict]])
    )
    return Section("Local stack throughput", "python -m bench --only throughput", body,
                   {"throughput ratio": ok})
