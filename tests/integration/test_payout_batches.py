"""Pay in a batch (issue 19, item 5): requested withdrawals to bank accounts → one batch (never two, never
one on hold) → an ABA (Cemtex) file the parser reads back with totals equal to the batch → a CSV → the whole
batch marked paid with the bank's reference, safely retried; staff only, every download audited."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

import pytest

from referral_core.dal.dynamo import Table
from referral_core.services.aba import parse_aba
from tests.support.aws import Stack
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body
from tests.support.portal import ADMIN, create_referrer, portal, sign_in

pytestmark = pytest.mark.integration

BANKS = [
    {"type": "bank_account", "bsb": "062-000", "account_number": "40912876", "account_name": "Jo Smith"},
    {"type": "bank_account", "bsb": "083-004", "account_number": "123456789", "account_name": "=Sam O'Neil"},
]
SECRETS = ("40912876", "123456789")
PAYOUT_FILE = {"apca_user_id": "301500", "user_name": "Smith Plumbing Pty Ltd", "remitter_name": "SMITH PLUMBING",
               "financial_institution": "cba", "bsb": "062-111", "account_number": "10203040"}


def admin(stack: Stack, method: str, path: str, body: Any = None, claims: dict[str, str] = STAFF_CLAIMS,
          query: dict[str, str] | None = None) -> dict[str, Any]:
    return stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=claims))


def withdrawal_of(stack: Stack, email: str, method: dict[str, Any], cents: int) -> dict[str, Any]:
    referrer = create_referrer(stack, email=email)
    session = sign_in(stack, email)
    assert portal(stack, "PUT", "/me/payout-method", session=session, body=method)["statusCode"] == 200
    Table(stack.table_name).update(f"REFERRER#{referrer['referrer_id']}", "BALANCE", "SET available_cents = :a",
                                   values={":a": 10_000})
    response = portal(stack, "POST", "/me/withdrawals", session=session, body={"amount_cents": cents})
    assert response["statusCode"] == 201, response
    return dict(json_body(response))


def set_payout_file(stack: Stack, **changes: Any) -> dict[str, Any]:
    current = json_body(admin(stack, "GET", "/admin/program"))
    return admin(stack, "PUT", "/admin/program", claims=ADMIN_CLAIMS, body={
        **current["rules"], "payout_file": {**PAYOUT_FILE, **changes}, "expected_version": current["version"]})


@pytest.fixture
def two(portal_stack):
    return [withdrawal_of(portal_stack, f"p{n}@example.com", BANKS[n], cents)
            for n, cents in enumerate((3_000, 4_550))]


def test_settings_are_validated_naming_the_field(portal_stack):
    for field, bad in (("apca_user_id", "12345"), ("user_name", "x" * 27), ("financial_institution", "CB1"),
                       ("bsb", "062000"), ("account_number", "12"), ("remitter_name", "x" * 17)):
        answer = set_payout_file(portal_stack, **{field: bad})
        assert answer["statusCode"] == 422, (field, answer)
        assert field in answer["body"]
    saved = set_payout_file(portal_stack)
    assert saved["statusCode"] == 200, saved
    assert json_body(saved)["rules"]["payout_file"]["financial_institution"] == "CBA"


def test_a_batch_aba_file_parses_with_totals_equal_to_the_sum(portal_stack, two):
    set_payout_file(portal_stack)
    created = admin(portal_stack, "POST", "/admin/payout-batches",
                    body={"withdrawal_ids": [w["withdrawal_id"] for w in two]})
    assert created["statusCode"] == 201, created
    batch = json_body(created)
    assert (batch["status"], batch["count"], batch["total_cents"]) == ("open", 2, 7_550)
    assert not any(s in created["body"] for s in SECRETS)

    answer = admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.aba")
    assert answer["statusCode"] == 200, answer
    assert answer["headers"]["Cache-Control"] == "no-store"
    parsed = parse_aba(answer["body"])
    assert (parsed.apca_user_id, parsed.financial_institution, parsed.user_name) == (
        "301500", "CBA", "Smith Plumbing Pty Ltd")
    assert parsed.totals.credit_cents == 7_550 == sum(d.amount_cents for d in parsed.details)
    assert parsed.totals.count == 2 and parsed.totals.net_cents == 7_550
    assert {(d.bsb, d.account_number, d.amount_cents) for d in parsed.details} == {
        ("062-000", "40912876", 3_000), ("083-004", "123456789", 4_550)}
    assert {d.trace_bsb for d in parsed.details} == {"062-111"}

    sheet = admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.csv")
    assert sheet["statusCode"] == 200
    rows = list(csv.DictReader(io.StringIO(sheet["body"])))
    assert {r["account_name"] for r in rows} == {"Jo Smith", "'=Sam O'Neil"}  # formula-safe
    assert {r["amount"] for r in rows} == {"30.00", "45.50"}

    audits = [a for a in portal_stack.items_of_type("audit")]
    downloads = [a for a in audits if a["action"] == "payout_batch.file_downloaded"]
    assert {a["detail"]["format"] for a in downloads} == {"aba", "csv"}
    reveals = [a for a in audits if a["action"] == "withdrawal.payout_details_revealed"]
    assert len(reveals) == 4 and {a["detail"]["batch_id"] for a in reveals} == {batch["batch_id"]}
    assert any(a["action"] == "payout_batch.created" for a in audits)
    assert not any(s in json.dumps(audits) for s in SECRETS)

    listed = json_body(admin(portal_stack, "GET", "/admin/payout-batches"))
    assert [b["batch_id"] for b in listed["items"]] == [batch["batch_id"]]
    assert json_body(admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}"))["total_cents"] == 7_550


def test_no_withdrawal_in_two_batches_nor_twice_nor_on_hold(portal_stack, two):
    ids = [w["withdrawal_id"] for w in two]
    twice = admin(portal_stack, "POST", "/admin/payout-batches", body={"withdrawal_ids": [ids[0], ids[0]]})
    assert twice["statusCode"] == 422 and "withdrawal_ids.1" in twice["body"]
    assert admin(portal_stack, "POST", "/admin/payout-batches", body={"withdrawal_ids": ids})["statusCode"] == 201
    again = admin(portal_stack, "POST", "/admin/payout-batches", body={"withdrawal_ids": [ids[1]]})
    assert again["statusCode"] == 409 and "withdrawal_ids.0" in again["body"]
    assert len(portal_stack.items_of_type("payout_batch")) == 1

    held = withdrawal_of(portal_stack, "held@example.com", BANKS[0], 2_000)
    Table(portal_stack.table_name).update(f"WITHDRAWAL#{held['withdrawal_id']}", "WITHDRAWAL",
                                          "SET #s = :h", names={"#s": "status"}, values={":h": "on_hold"})
    refused = admin(portal_stack, "POST", "/admin/payout-batches", body={"withdrawal_ids": [held["withdrawal_id"]]})
    assert refused["statusCode"] == 422 and "on_hold" in refused["body"]

    paypal = withdrawal_of(portal_stack, "pp@example.com", {"type": "paypal", "paypal_email": "pp@example.org"}, 2_000)
    refused = admin(portal_stack, "POST", "/admin/payout-batches",
                    body={"withdrawal_ids": [paypal["withdrawal_id"]]})
    assert refused["statusCode"] == 422
    assert paypal["withdrawal_id"] in refused["body"] and "withdrawal_ids.0" in refused["body"]


def test_paid_marks_every_withdrawal_and_a_retry_never_pays_twice(portal_stack, two):
    set_payout_file(portal_stack)
    batch = json_body(admin(portal_stack, "POST", "/admin/payout-batches",
                            body={"withdrawal_ids": [w["withdrawal_id"] for w in two]}))
    # a partial failure: the first withdrawal was paid, the batch not yet
    first = admin(portal_stack, "POST", f"/admin/withdrawals/{two[0]['withdrawal_id']}/paid",
                  body={"payout_reference": "BANK-77"})
    assert first["statusCode"] == 200
    # the file would pay it again: refused (naming it) until the batch is finished
    file = admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.aba")
    assert file["statusCode"] == 409 and "items.0" in file["body"]
    for _ in range(2):
        paid = admin(portal_stack, "POST", f"/admin/payout-batches/{batch['batch_id']}/paid",
                     body={"payout_reference": "BANK-77"})
        assert paid["statusCode"] == 200, paid
        assert json_body(paid)["status"] == "paid"
    statuses = {w["withdrawal_id"]: w["status"] for w in portal_stack.items_of_type("withdrawal")}
    assert set(statuses.values()) == {"paid"}
    entries = [e for e in portal_stack.items_of_type("ledger") if e.get("kind") == "withdrawal_paid"]
    assert sorted(e["source_id"] for e in entries) == sorted(w["withdrawal_id"] for w in two)
    other = admin(portal_stack, "POST", f"/admin/payout-batches/{batch['batch_id']}/paid",
                  body={"payout_reference": "OTHER"})
    assert other["statusCode"] == 409
    assert admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.aba")["statusCode"] == 409
    assert sum(1 for a in portal_stack.items_of_type("audit") if a["action"] == "payout_batch.paid") == 1


def test_viewer_is_refused_every_route(portal_stack, two):
    batch = json_body(admin(portal_stack, "POST", "/admin/payout-batches",
                            body={"withdrawal_ids": [two[0]["withdrawal_id"]]}))
    base = f"/admin/payout-batches/{batch['batch_id']}"
    for method, path, body in (("POST", "/admin/payout-batches", {"withdrawal_ids": ["x"]}),
                               ("GET", "/admin/payout-batches", None), ("GET", base, None),
                               ("GET", f"{base}/file.aba", None), ("GET", f"{base}/file.csv", None),
                               ("POST", f"{base}/paid", {"payout_reference": "X"})):
        answer = admin(portal_stack, method, path, body=body, claims=VIEWER_CLAIMS)
        assert answer["statusCode"] == 403, (method, path)


def test_an_unset_bank_file_setting_is_a_409_naming_it(portal_stack, two):
    batch = json_body(admin(portal_stack, "POST", "/admin/payout-batches",
                            body={"withdrawal_ids": [two[0]["withdrawal_id"]]}))
    answer = admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.aba")
    assert answer["statusCode"] == 409 and "payout_file.apca_user_id" in answer["body"]


def test_logs_never_carry_payout_details(portal_stack, two, capsys, caplog):
    set_payout_file(portal_stack)
    batch = json_body(admin(portal_stack, "POST", "/admin/payout-batches",
                            body={"withdrawal_ids": [w["withdrawal_id"] for w in two]}))
    assert admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.aba")["statusCode"] == 200
    assert admin(portal_stack, "GET", f"/admin/payout-batches/{batch['batch_id']}/file.csv")["statusCode"] == 200
    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "payout batch file downloaded" in logs
    assert not any(s in logs for s in SECRETS)
