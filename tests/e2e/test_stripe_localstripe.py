"""Stripe end to end with a third-party emulator (issue 20): localstripe (PyPI ``localstack-localstripe``)
sends its own signed webhooks to the local stack's ``POST /webhooks/stripe``, the official ``stripe``
client drives it, and a referred friend's payment reaches ``customer_paid`` and a pending reward.

Everything listens on 127.0.0.1: localstripe through ``tests.support.localstripe_server`` (its own
``python -m localstripe`` binds every interface), the local stack with ``StripeApiUrl`` pointed at it, so
the adapter reads the invoice's customer (localstripe's invoices carry no ``customer_email``) through
Stripe's API with the restricted key kept in ``StripeWebhookSecret``.

localstripe's limits, worked around as a business on Stripe would bill: it makes invoices for a
subscription only (``POST /v1/invoices`` without one answers "No upcoming invoices"), has no
``/finalize`` and drops an invoice's metadata; its subscription's first invoice is finalized and paid with
the customer's default card, which sends ``invoice.payment_succeeded``.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
import stripe

from local.testing import StackProcess, free_port
from referral_core.dal.dynamo import deserialize
from tests.e2e.conftest import running_stack

pytestmark = pytest.mark.e2e

REPO = Path(__file__).resolve().parents[2]
SIGNING_SECRET = "whsec_localstripe_e2e_0123456789abcdef"
#: localstripe accepts secret keys only (``sk_…``); in AWS this is a restricted key (docs/integrations/stripe.md).
API_KEY = "sk_test_localstripe_e2e"


def eventually(check: Callable[[], Any], timeout_s: float = 40, what: str = "") -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        found = check()
        if found:
            return found
        if time.monotonic() > deadline:
            pytest.fail(f"not reached in {timeout_s}s: {what}")
        time.sleep(0.5)


@pytest.fixture(scope="module")
def localstripe(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    port = free_port()
    log = (tmp_path_factory.mktemp("localstripe") / "localstripe.log").open("wb")
    process = subprocess.Popen([sys.executable, "-m", "tests.support.localstripe_server", "--port", str(port)],
                               cwd=REPO, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"

    def up() -> bool:
        try:
            urllib.request.urlopen(f"{url}/v1/customers", timeout=1)
        except urllib.error.HTTPError:
            return True  # 401 without a key: it answers
        except OSError:
            assert process.poll() is None, "localstripe exited"
            return False
        return True

    try:
        eventually(up, 20, "localstripe answering")
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


@pytest.fixture(scope="module")
def stack(localstripe: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[StackProcess]:
    """This module's own local stack: its StripeApiUrl is the emulator's (overrides the session stack)."""
    with running_stack(tmp_path_factory.mktemp("local-stack-stripe"),
                       {"LOCAL_PARAM_StripeApiUrl": localstripe}) as process:
        yield process


@pytest.fixture(scope="module")
def client(localstripe: str, stack: StackProcess) -> stripe.StripeClient:
    # The endpoint's signing secret and the API key in the stack's StripeWebhookSecret ...
    secret_arn = stack.info()["secrets"]["StripeWebhookSecret"]
    stack.aws("secretsmanager").put_secret_value(
        SecretId=secret_arn, SecretString=json.dumps({"secrets": [SIGNING_SECRET], "api_key": API_KEY}))
    # ... and localstripe's webhook endpoint pointed at the stack with the same secret
    body = urlencode({"url": f"{stack.base_url}/webhooks/stripe", "secret": SIGNING_SECRET}).encode()
    request = urllib.request.Request(f"{localstripe}/_config/webhooks/local-stack", data=body, method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 200
    return stripe.StripeClient(API_KEY, base_addresses={"api": localstripe})


def staff(stack: StackProcess, method: str, path: str, body: dict[str, Any] | None = None, *,
          token: str | None = None) -> dict[str, Any]:
    response = stack.request(method, path, body=body, headers={"authorization": f"Bearer {token or stack.staff_token}"})
    assert response.status in (200, 201), response.body
    return dict(response.json())


def test_a_friend_paying_a_stripe_invoice_reaches_paid_and_a_pending_reward(stack, client) -> None:
    # Given a programme without review, a referrer and a lead from a friend who gave the referrer's code
    program = staff(stack, "GET", "/admin/program")
    staff(stack, "PUT", "/admin/program", {**program["rules"], "require_review": False,
                                           "expected_version": program["version"]}, token=stack.admin_token)
    referrer = staff(stack, "POST", "/admin/referrers",
                     {"name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com"})
    friend = f"sam-{uuid.uuid4().hex[:8]}@example.net"
    version = stack.request("GET", "/policy").json()["version"]
    lead = stack.request("POST", "/leads", headers={"idempotency-key": uuid.uuid4().hex}, body={
        "name": "Sam Lee", "email": friend, "postcode": "3000", "issue": "Gutters", "ref": referrer["code"],
        "consent": {"contact": True, "policy_version": version}})
    assert lead.status == 201, lead.body
    lead_id = lead.json()["lead_id"]
    stack.drain()

    # When the business bills the friend in Stripe (the official client, against localstripe): a customer
    # with the friend's email and a card, and the job's invoice, paid
    card = client.v1.payment_methods.create(params={"type": "card", "card": {
        "number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}})
    customer = client.v1.customers.create(params={"email": friend, "name": "Sam Lee", "payment_method": card.id,
                                                  "invoice_settings": {"default_payment_method": card.id}})
    product = client.v1.products.create(params={"name": "Gutter clean", "type": "service"})
    plan = client.v1.plans.create(params={"product": product.id, "amount": 48000, "currency": "aud",
                                          "interval": "month"})
    subscription = client.v1.subscriptions.create(params={"customer": customer.id, "items": [{"plan": plan.id}]})
    invoice = client.v1.invoices.retrieve(str(subscription.latest_invoice))
    assert (invoice.status, invoice.amount_paid, invoice.to_dict().get("customer_email")) == ("paid", 48000, None)

    # Then localstripe's signed invoice.payment_succeeded becomes the job, paid and completed under the
    # payment intent's id, matched to the lead by the customer's email read through the API
    job_id = str(invoice.payment_intent)
    table = stack.aws("dynamodb")
    table_name = stack.info()["tables"]["Table"]

    def job() -> dict[str, Any] | None:
        found = table.get_item(TableName=table_name, Key={"pk": {"S": f"JOB#{job_id}"}, "sk": {"S": "JOB"}},
                               ConsistentRead=True).get("Item")
        item = deserialize(found) if found else None
        return item if item and {"completed", "paid"} <= set(item["statuses"]) else None

    stored = eventually(job, what="the job paid")
    assert (stored["amount_cents"], stored["currency"]) == (48000, "AUD")
    assert stored.get("email_hash"), "the customer's email, read through localstripe's API, is on the job"

    # and the referral reaches customer_paid, then a pending reward (the staff API)
    def referral() -> dict[str, Any] | None:
        stack.drain()
        page = staff(stack, "GET", f"/admin/referrers/{referrer['referrer_id']}")
        mine = [r for r in page["referrals"] if r.get("lead_id") == lead_id]
        return page if mine and mine[0]["stage"] == "reward_pending" and page["balance"]["pending_cents"] > 0 \
            else None

    page = eventually(referral, what="the referral at reward_pending")
    [row] = [r for r in page["referrals"] if r["lead_id"] == lead_id]
    assert (row["job_id"], row["progress_stage"]) == (job_id, "reward_pending")
    assert page["balance"]["available_cents"] == 0  # held for the programme's holding period
    assert job()["linked_lead_id"] == lead_id
