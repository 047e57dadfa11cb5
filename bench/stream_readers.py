"""Stream readers: records per second delivered end to end, before and after one reader, and the modelled
GetRecords calls per shard per second.

*Before* is the tree this branch started from (``git merge-base HEAD main``, six event source mappings on
the stream, one per consumer), exported with ``git archive`` into a temporary folder; *after* is this
tree (one reader, every consumer a route of it). Both run as ``python -m local`` subprocesses with the
same interpreter. Each round writes ``CLICKS`` click items straight into the stack's table (25 per
BatchWriteItem, the shape the redirect writes) for one share code, then waits for
``POST /_local/streams/drain``; records/s = clicks / (first write → drained), and the code's counter
must then hold every click (nothing lost, nothing counted twice). After a warm-up round each, rounds
alternate between the two stacks, the order flipping each round (the tables grow, and moto slows with
them, so a fixed order would favour the first).

GetRecords calls are modelled, not measured (moto has no shards to throttle): Lambda polls each shard of a
DynamoDB stream four times a second per event source mapping ("Lambda polls shards in your DynamoDB stream
for records at a base rate of 4 times per second", AWS Lambda developer guide), and DynamoDB Streams
throttles above two readers per shard.
"""

from __future__ import annotations

import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from bench.support import ROOT, Section, median, table
from local.template import load_template
from local.testing import StackProcess

CLICKS = 400
POLLS_PER_SHARD_PER_S = 4
MAX_READERS = 2


def before_tree(into: Path) -> str:
    """Export the commit this branch started from into ``into``; returns its short hash."""
    base = subprocess.run(["git", "merge-base", "HEAD", "main"], cwd=ROOT, capture_output=True, text=True,
                          check=True).stdout.strip()
    archive = subprocess.run(["git", "archive", base], cwd=ROOT, capture_output=True, check=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return base[:10]


def readers(template_path: Path) -> int:
    """Event source mappings on the table's stream in that template."""
    return sum(1 for _ in load_template(template_path, environ={}).stream_triggers())


def _click(code: str, epoch: int) -> dict[str, Any]:
    click_id = uuid.uuid4().hex[:24]
    return {"PutRequest": {"Item": {
        "pk": {"S": f"CLICK#{click_id}"}, "sk": {"S": "CLICK"}, "type": {"S": "click"},
        "click_id": {"S": click_id}, "code": {"S": code}, "referrer_id": {"S": "bench"}, "src": {"S": "link"},
        "placement": {"S": ""}, "visitor_hash": {"S": uuid.uuid4().hex}, "clicked_epoch": {"N": str(epoch)},
        "expiration": {"N": str(epoch + 86400)},
    }}}


class Bench:
    """One stack, a share code, and rounds of clicks through its stream."""

    def __init__(self, stack: StackProcess) -> None:
        self.stack = stack
        created = stack.request("POST", "/admin/referrers", body={"name": "Bench", "email": "bench@example.com"},
                                headers={"authorization": f"Bearer {stack.staff_token}"})
        assert created.status == 201, created.body
        self.code = created.json()["code"]
        info = stack.info()
        self.table = info["tables"]["Table"]
        self.dynamodb = stack.aws("dynamodb")
        stack.drain(60)
        self.counted = self._counted()

    def _counted(self) -> int:
        item = self.dynamodb.get_item(TableName=self.table, Key={"pk": {"S": f"STATS#{self.code}"},
                                                                 "sk": {"S": "PLACEMENT#-"}}).get("Item", {})
        return int(item.get("clicks_link", {}).get("N", "0"))

    def round(self) -> float:
        epoch = int(time.time())
        clicks = [_click(self.code, epoch) for _ in range(CLICKS)]
        started = time.monotonic()
        for start in range(0, CLICKS, 25):
            self.dynamodb.batch_write_item(RequestItems={self.table: clicks[start:start + 25]})
        self.stack.drain(300)
        elapsed = time.monotonic() - started
        counted = self._counted()
        if counted - self.counted != CLICKS:
            raise RuntimeError(f"{counted - self.counted} of {CLICKS} clicks counted")
        self.counted = counted
        return CLICKS / elapsed


def run(quick: bool = False) -> Section:
    rounds = 2 if quick else 4
    with tempfile.TemporaryDirectory(prefix="bench-streams-") as tmp:
        before_root = Path(tmp) / "before"
        before_root.mkdir()
        base = before_tree(before_root)
        stacks = {"before": StackProcess(local_dir=Path(tmp) / "before-local", root=before_root),
                  "after": StackProcess(local_dir=Path(tmp) / "after-local")}
        rates: dict[str, list[float]] = {"before": [], "after": []}
        try:
            benches = {name: Bench(stack.start(timeout_s=120)) for name, stack in stacks.items()}
            for bench in benches.values():
                bench.round()  # warm-up: workers started, first imports done
            for n in range(rounds):  # ABBA: the order flips each round, so drift (the tables grow) hits both
                for name in ("before", "after") if n % 2 == 0 else ("after", "before"):
                    rates[name].append(benches[name].round())
        finally:
            for stack in stacks.values():
                stack.stop()
        count = {"before": readers(before_root / "template.yaml"), "after": readers(ROOT / "template.yaml")}
    before, after = median(rates["before"]), median(rates["after"])
    checks = {"records/s after ≥ 0.9 x before (no worse, within this machine's noise)": after >= 0.9 * before,
              f"at most {MAX_READERS} stream readers": count["after"] <= MAX_READERS}
    rows = [[name, f"`{base}`" if name == "before" else "this tree", count[name],
             f"{median(rates[name]):.0f}", ", ".join(f"{r:.0f}" for r in rates[name]),
             count[name] * POLLS_PER_SHARD_PER_S,
             "throttled" if count[name] > MAX_READERS else "within the limit"]
            for name in ("before", "after")]
    body = (
        f"{CLICKS} clicks per round written straight into the local stack's table; after a warm-up round, "
        f"{rounds} rounds per stack, alternating, the order flipping each round. *records/s*: clicks / "
        "(first write → `POST /_local/streams/drain` answered), every click counted once (checked). "
        "*GetRecords / shard / s*: stream readers x 4 polls a second (Lambda's base rate per mapping); "
        f"DynamoDB Streams throttles more than {MAX_READERS} readers per shard. Moto has one shard and no "
        "throttling, so the local figures show the cost of routing in one function, not the throttling the "
        "six readers would meet on AWS.\n\n"
        + table(["stack", "tree", "stream readers", "records/s (median)", "rounds", "GetRecords / shard / s",
                 f"vs {MAX_READERS} readers"], rows)
    )
    return Section("Stream readers: records/s end to end and GetRecords per shard (bench/stream_readers.py)",
                   "python -m bench --only streams", body, checks)
