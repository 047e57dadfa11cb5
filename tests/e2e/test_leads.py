"""Quick Help over HTTP on the local stack: link -> form -> lead, then the stream's checks flag a duplicate."""

from __future__ import annotations

import uuid
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest

from local.testing import StackProcess

pytestmark = pytest.mark.e2e

FORM = {"content-type": "application/x-www-form-urlencoded"}


def lead_partition(stack: StackProcess, lead_id: str) -> dict[str, dict]:
    from referral_core.dal.dynamo import deserialize

    table = stack.info()["tables"]["Table"]
    out = stack.aws("dynamodb").query(TableName=table, KeyConditionExpression="pk = :pk",
                                      ExpressionAttributeValues={":pk": {"S": f"LEAD#{lead_id}"}})
    return {item["sk"]: item for item in (deserialize(raw) for raw in out["Items"])}


def test_a_customer_from_a_link_sends_the_form_and_a_duplicate_is_flagged(stack: StackProcess) -> None:
    # Given a referrer's link, followed by a customer
    email = f"jo-{uuid.uuid4().hex[:8]}@example.com"
    created = stack.request("POST", "/admin/referrers", body={"name": "Jo Smith", "email": email},
                            headers={"authorization": f"Bearer {stack.staff_token}"}).json()
    location = stack.request("GET", f"/r/{created['code']}").headers["location"]
    carried = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}

    # When the Quick Help form opens, it carries ref/cid and the policy version
    page = stack.request("GET", "/quick-help?" + urlencode(carried))
    assert page.status == 200
    assert f'name="cid" value="{carried["cid"]}"' in page.body.decode()
    version = stack.request("GET", "/policy").json()["version"]

    # When the customer posts the form, and later the same person writes in again naming someone else
    customer = f"sam-{uuid.uuid4().hex[:8]}@example.com"
    form = {**carried, "policy_version": version, "name": "Sam <i>", "email": customer, "postcode": "3000",
            "issue": "Laptop", "consent_contact": "on"}
    first = stack.request("POST", "/leads", body=urlencode(form), headers=FORM)
    second = stack.request("POST", "/leads", headers={"idempotency-key": uuid.uuid4().hex}, body={
        "name": "Sam", "email": customer, "postcode": "3000", "issue": "Again", "ref": created["code"],
        "referred_by": "Bob", "consent": {"contact": True, "policy_version": version}})

    # Then a thank-you page (escaped) and a JSON 201
    assert first.status == 201
    assert "Thanks, Sam &lt;i&gt;" in first.body.decode()
    assert second.status == 201
    lead_id = second.json()["lead_id"]

    # and once the stream is drained, the second lead is in review with its flags; nothing was deleted
    stack.drain()
    partition = lead_partition(stack, lead_id)
    assert {"LEAD", "REFERRAL", "FLAG#duplicate_contact", "FLAG#unclear_source"} <= set(partition)
    assert partition["REFERRAL"]["review_status"] == "open"
    assert partition["LEAD"]["referrer_id"] == created["referrer_id"]


def test_wrong_content_type_and_oversized_bodies_are_refused(stack: StackProcess) -> None:
    assert stack.request("POST", "/leads", body="hello", headers={"content-type": "text/plain"}).status == 415
    big = stack.request("POST", "/leads", body="{" + " " * (1024 * 1024) + "}",
                        headers={"content-type": "application/json"})
    assert big.status == 413
