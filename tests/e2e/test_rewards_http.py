"""Rewards over HTTP on the local stack (`python -m local` in a subprocess): staff routes, the stream
consumer and the schedule. Sequential only: moto undoes a failed TransactWriteItems by putting back a
deep copy of the whole table, which detaches the table's stream from the poller (nothing is delivered
afterwards) and, under concurrent requests, can lose other requests' writes. So no concurrency over HTTP here:
tests/integration/test_rewards_properties.py races in-process with moto's requests made atomic instead.

Referrals and jobs are written straight into the local table (their own routes belong to other issues);
the stack's stream poller then runs SettleRewardsFunction exactly as Lambda would.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from referral_core.dal.dynamo import Table
from referral_core.dal.rewards import RewardRepos
from referral_core.services.withdrawals import request_withdrawal
from referral_core.stages import RANK, Stage
from tests.support.rewards import BALANCE_FIELDS

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]


@dataclass
class LocalStack:
    base_url: str
    token: str
    table: Table

    def call(self, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        request = urllib.request.Request(
            self.base_url + path, method=method, data=json.dumps(body).encode() if body is not None else None,
            headers={"Authorization": f"Bearer {self.token}", "Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                return response.status, json.loads(response.read() or b"null")
        except urllib.error.HTTPError as exc:
            return exc.code, json.loads(exc.read() or b"null")



def eventually(check: Callable[[], bool], timeout_s: float = 30) -> None:
    """Stream consumers run asynchronously: poll until ``check`` holds."""
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, "timed out waiting for the stream consumer"
        time.sleep(0.3)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalStack]:
    port, local_dir = _free_port(), tmp_path_factory.mktemp("local")
    env = {**os.environ, "PORT": str(port), "LOCAL_DIR": str(local_dir)}
    log = (local_dir / "stack.log").open("w")  # kept in pytest's temp directory for diagnosis
    process = subprocess.Popen([sys.executable, "-m", "local"], cwd=REPO, env=env, stdout=log,
                               stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(120):
            try:
                with urllib.request.urlopen(base + "/_local/health", timeout=2):
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("the local stack did not start")
        with urllib.request.urlopen(base + "/_local/info", timeout=10) as response:
            info = json.loads(response.read())
        client = boto3.client("dynamodb", endpoint_url=info["aws_endpoint"], region_name="us-east-1",
                              aws_access_key_id="testing", aws_secret_access_key="testing")  # local-admin (IAM on)
        # The admin token: these tests change the programme rules (admin) as well as staff's daily work.
        yield LocalStack(base, (local_dir / "admin-token").read_text().strip(),
                         Table(info["tables"]["Table"], client))
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def rules(local: LocalStack, **changes: Any) -> dict[str, Any]:
    status, current = local.call("GET", "/admin/program")
    assert status == 200
    return {**current["rules"], **changes, "expected_version": current["version"]}


def test_paid_job_is_credited_released_on_tick_and_paid_out_once(local):
    # Given rules without review or holding, a referrer, and a completed and paid job
    assert local.call("PUT", "/admin/program", rules(local, require_review=False, holding_days=0))[0] == 200
    referrer, lead, job = "ref-e2e", "lead-e2e", "job-e2e"
    local.table.put({"pk": f"REFERRER#{referrer}", "sk": "BALANCE", "type": "balance",
                     "referrer_id": referrer, **dict.fromkeys(BALANCE_FIELDS, 0), "version": 0})
    local.table.put({"pk": f"JOB#{job}", "sk": "JOB", "type": "job", "job_id": job, "lead_id": lead,
                     "statuses": {"created", "completed", "paid"}, "amount_cents": 30_000, "currency": "AUD"})
    local.table.put({"pk": f"LEAD#{lead}", "sk": "REFERRAL", "type": "referral", "lead_id": lead,
                     "referrer_id": referrer, "job_id": job, "stage": str(Stage.JOB_COMPLETED),
                     "stage_rank": RANK[Stage.JOB_COMPLETED], "postcode": "2000"})

    # When attribution moves the referral to customer_paid (twice: the consumer must credit once)
    for _ in range(2):
        local.table.update(f"LEAD#{lead}", "REFERRAL", "SET stage = :s, stage_rank = :r",
                           values={":s": str(Stage.CUSTOMER_PAID), ":r": RANK[Stage.CUSTOMER_PAID]})
    eventually(lambda: local.table.get(f"REFERRER#{referrer}", "BALANCE")["pending_cents"] == 2_500)

    # and the schedule runs
    assert local.call("POST", "/_local/tick")[0] == 200
    eventually(lambda: local.table.get(f"LEAD#{lead}", "REFERRAL")["stage"] == Stage.REWARD_AVAILABLE)
    balance = local.table.get(f"REFERRER#{referrer}", "BALANCE")
    assert (balance["pending_cents"], balance["available_cents"]) == (0, 2_500)

    # Then a withdrawal is listed for staff and recorded as paid once
    withdrawal = request_withdrawal(RewardRepos.on(local.table, currency="AUD"), referrer, 2_500, currency="AUD")
    _, page = local.call("GET", "/admin/withdrawals?status=requested")
    assert withdrawal.withdrawal_id in [w["withdrawal_id"] for w in page["items"]]
    path, body = f"/admin/withdrawals/{withdrawal.withdrawal_id}/paid", {"payout_reference": "BANK-1"}
    assert [local.call("POST", path, body)[0] for _ in range(2)] == [200, 409]
    balance = local.table.get(f"REFERRER#{referrer}", "BALANCE")
    assert (balance["available_cents"], balance["held_cents"], balance["paid_cents"]) == (0, 0, 2_500)
    # and the payout's stream record marks the reward it covers paid
    eventually(lambda: local.table.get(f"LEAD#{lead}", "REFERRAL")["stage"] == Stage.REWARD_PAID)


def test_programme_versions_over_http(local):
    # Runs last: after a failed transaction moto's stream no longer reaches the consumers (see the docstring).
    body = rules(local, holding_days=7)
    assert local.call("PUT", "/admin/program", body)[0] == 200
    status, error = local.call("PUT", "/admin/program", body)  # the same expected_version again
    assert (status, error["error"]["fields"]) == (409, {"expected_version": "stale"})
