"""Payout details, safely (issue 19, item 4): formats checked per kind, encrypted at rest with the template's
KMS key (moto's KMS here), masked everywhere, a fresh sign-in to change them, an email when they change, a
withdrawal keeps the method on file, and only ``staff`` reveal it, each reveal audited."""

from __future__ import annotations

import json
from typing import Any

import jwt
import pytest

from referral_core.clock import epoch
from referral_core.dal.dynamo import Table
from tests.support.aws import Stack
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body
from tests.support.portal import ADMIN, SIGNING_KEY, create_referrer, portal, sign_in
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration

BANK = {"type": "bank_account", "bsb": "062-000", "account_number": "40912876", "account_name": "Jo Smith"}
#: Strings that must never leave the vault in clear: in a table item, a stream image, a log line, a view.
SECRETS = ("40912876", "062-000", "062000")
VALID_ABN = "51 824 753 556"  # the ATO's example ABN


def signed_in(stack: Stack, email: str = "jo@example.com") -> tuple[dict[str, Any], str]:
    referrer = create_referrer(stack, email=email)
    return referrer, sign_in(stack, email)


def put_method(stack: Stack, session: str, body: dict[str, Any]) -> dict[str, Any]:
    return portal(stack, "PUT", "/me/payout-method", session=session, body=body)


def stale_session(referrer_id: str, minutes_ago: int) -> str:
    issued = epoch() - minutes_ago * 60
    return jwt.encode({"sub": referrer_id, "aud": "referrer", "iat": issued, "exp": issued + 12 * 3600, "gen": 0},
                      SIGNING_KEY, algorithm="HS256")


def withdraw(stack: Stack, referrer_id: str, session: str, cents: int = 3_000) -> dict[str, Any]:
    Table(stack.table_name).update(f"REFERRER#{referrer_id}", "BALANCE", "SET available_cents = :a",
                                   values={":a": 10_000})
    response = portal(stack, "POST", "/me/withdrawals", session=session, body={"amount_cents": cents})
    assert response["statusCode"] == 201, response
    return dict(json_body(response))


def reveal(stack: Stack, withdrawal_id: str, claims: dict[str, str] = STAFF_CLAIMS) -> dict[str, Any]:
    return stack.invoke(ADMIN, http_event("POST", f"/admin/withdrawals/{withdrawal_id}/payout-details/reveal",
                                          claims=claims))


@pytest.mark.parametrize(("body", "shown"), [
    (BANK, {"type": "bank_account", "last_digits": "876", "display": "Bank account ending 876 (Jo S.)"}),
    ({"type": "bank_account", "bsb": "062000", "account_number": "12 345", "account_name": "Jo  Smith"},
     {"last_digits": "345"}),
    ({"type": "payid", "payid_kind": "email", "payid_value": "Jo.Smith@Example.com"},
     {"payid_kind": "email", "display": "PayID email J•••@e•••.com"}),
    ({"type": "payid", "payid_kind": "mobile", "payid_value": "0412 345 678"},
     {"payid_kind": "mobile", "last_digits": "678", "display": "PayID mobile ending 678"}),
    ({"type": "payid", "payid_kind": "abn", "payid_value": VALID_ABN},
     {"payid_kind": "abn", "last_digits": "556", "display": "PayID ABN ending 556"}),
    ({"type": "paypal", "paypal_email": "jo@example.org"}, {"type": "paypal", "display": "PayPal j•••@e•••.org"}),
], ids=["bank", "bank-unhyphenated", "payid-email", "payid-mobile", "payid-abn", "paypal"])
def test_each_kind_is_saved_and_shown_masked(portal_stack, body, shown):
    _, session = signed_in(portal_stack)
    saved = put_method(portal_stack, session, body)
    assert saved["statusCode"] == 200, saved
    read = portal(portal_stack, "GET", "/me/payout-method", session=session)
    assert read["statusCode"] == 200
    for view in (json_body(saved), json_body(read)):
        assert shown.items() <= view.items(), view
    assert not any(s in read["body"] for s in SECRETS)


@pytest.mark.parametrize(("body", "field"), [
    ({**BANK, "bsb": "06-2000"}, "bsb"),
    ({**BANK, "bsb": "0620001"}, "bsb"),
    ({**BANK, "account_number": "1234"}, "account_number"),
    ({**BANK, "account_number": "1234567890"}, "account_number"),
    ({**BANK, "account_number": "12-345-678"}, "account_number"),
    ({**BANK, "account_name": ""}, "account_name"),
    ({"type": "bank_account", "bsb": "062-000", "account_name": "Jo"}, "account_number"),
    ({**BANK, "paypal_email": "jo@example.org"}, "paypal_email"),
    ({"type": "payid", "payid_value": "jo@example.org"}, "payid_kind"),
    ({"type": "payid", "payid_kind": "email", "payid_value": "not-an-email"}, "payid_value"),
    ({"type": "payid", "payid_kind": "mobile", "payid_value": "02 9999 0000"}, "payid_value"),
    ({"type": "payid", "payid_kind": "mobile", "payid_value": "+1 415 555 2671"}, "payid_value"),
    ({"type": "payid", "payid_kind": "abn", "payid_value": "51 824 753 557"}, "payid_value"),
    ({"type": "payid", "payid_kind": "abn", "payid_value": "5182475355"}, "payid_value"),
    ({"type": "payid", "payid_kind": "phone", "payid_value": "0412345678"}, "payid_kind"),
    ({"type": "paypal", "paypal_email": "jo@"}, "paypal_email"),
    ({"type": "paypal"}, "paypal_email"),
    ({"type": "cheque"}, "type"),
    ({**BANK, "swift": "X"}, "swift"),
])
def test_a_bad_field_is_a_422_naming_it_and_nothing_is_saved(portal_stack, body, field):
    _, session = signed_in(portal_stack)
    before = portal_stack.items()
    response = put_method(portal_stack, session, body)
    assert response["statusCode"] == 422, response
    assert field in json_body(response)["error"]["fields"], json_body(response)
    assert portal_stack.items() == before
    assert not any(s in response["body"] for s in ("40912876", "51 824 753 557"))


def test_the_table_item_and_stream_images_hold_ciphertext_only(portal_stack):
    referrer, session = signed_in(portal_stack)
    pump = StreamPump(portal_stack)
    pump.new_records()  # what came before
    assert put_method(portal_stack, session, BANK)["statusCode"] == 200
    withdraw(portal_stack, referrer["referrer_id"], session)

    (stored,) = portal_stack.items_of_type("payout_method")
    assert set(stored["envelope"]) == {"key_arn", "encrypted_key", "nonce", "ciphertext", "algorithm"}
    assert stored["envelope"]["algorithm"] == "AES-256-GCM"
    (withdrawal,) = portal_stack.items_of_type("withdrawal")
    assert withdrawal["payout_envelope"] == stored["envelope"]
    everything = json.dumps(portal_stack.items(), default=str)
    images = json.dumps(pump.new_records(), default=str)
    assert stored["envelope"]["ciphertext"] in images  # the stream saw the items...
    for secret in (*SECRETS, "Smith"):  # ...but never the details (the name only as "Jo S.")
        assert secret not in images, images[max(0, images.find(secret) - 300):images.find(secret) + 100]
    for secret in SECRETS:
        assert secret not in everything


def test_an_envelope_opens_only_for_its_own_referrer(portal_stack):
    from referral_core.dal.payout_methods import Envelope, PayoutVault

    referrer, session = signed_in(portal_stack)
    put_method(portal_stack, session, BANK)
    (stored,) = portal_stack.items_of_type("payout_method")
    vault = PayoutVault(stored["envelope"]["key_arn"])
    assert json.loads(vault.open(Envelope.of(stored["envelope"]), referrer_id=referrer["referrer_id"])) == {
        "type": "bank_account", "bsb": "062-000", "account_number": "40912876", "account_name": "Jo Smith"}
    with pytest.raises(Exception, match=r"InvalidCiphertext|Decrypt"):
        vault.open(Envelope.of(stored["envelope"]), referrer_id="someone-else")


def test_changing_needs_a_fresh_sign_in(portal_stack):
    referrer, _ = signed_in(portal_stack)
    old = stale_session(referrer["referrer_id"], minutes_ago=16)
    response = put_method(portal_stack, old, BANK)
    assert response["statusCode"] == 403, response
    assert json_body(response)["error"]["code"] == "fresh_sign_in_required"
    assert portal_stack.items_of_type("payout_method") == []
    # reading it back masked, and everything else, still works with that session
    assert portal(portal_stack, "GET", "/me/payout-method", session=old)["statusCode"] == 404
    assert portal(portal_stack, "GET", "/me", session=old)["statusCode"] == 200
    # a session signed in 14 minutes ago may change it
    assert put_method(portal_stack, stale_session(referrer["referrer_id"], minutes_ago=14), BANK)["statusCode"] == 200


def test_a_change_emails_the_referrer_with_the_masked_form_only(portal_stack):
    _, session = signed_in(portal_stack)
    put_method(portal_stack, session, BANK)
    put_method(portal_stack, session, {"type": "paypal", "paypal_email": "jo.pay@example.org"})
    changed = [m for m in portal_stack.sent_emails() if m["subject"] == "Your payout details changed"]
    assert [m["to"] for m in changed] == [["jo@example.com"]] * 2
    first, second = (str(m["body"]) for m in changed)
    assert "Bank account ending 876" in first and "PayPal j•••@e•••.org" in second
    for secret in (*SECRETS, "jo.pay@"):
        assert secret not in first + second


def test_a_withdrawal_keeps_the_method_on_file_when_requested(portal_stack):
    referrer, session = signed_in(portal_stack)
    none_on_file = withdraw(portal_stack, referrer["referrer_id"], session, 2_000)
    assert none_on_file.get("payout_method") is None
    put_method(portal_stack, session, BANK)
    first = withdraw(portal_stack, referrer["referrer_id"], session)
    put_method(portal_stack, session, {"type": "paypal", "paypal_email": "jo@example.org"})

    assert first["payout_method"]["display"] == "Bank account ending 876 (Jo S.)"
    me = json_body(portal(portal_stack, "GET", "/me", session=session))
    shown = {w["withdrawal_id"]: w.get("payout_method") for w in me["withdrawals"]}
    assert shown[first["withdrawal_id"]]["type"] == "bank_account"  # the later change does not move it
    listed = json_body(portal_stack.invoke(ADMIN, http_event("GET", "/admin/withdrawals", claims=STAFF_CLAIMS)))
    assert {w["withdrawal_id"]: (w.get("payout_method") or {}).get("display") for w in listed["items"]} == {
        first["withdrawal_id"]: "Bank account ending 876 (Jo S.)", none_on_file["withdrawal_id"]: None}
    page = json_body(portal_stack.invoke(ADMIN, http_event("GET", f"/admin/referrers/{referrer['referrer_id']}",
                                                           claims=STAFF_CLAIMS)))
    assert {(w.get("payout_method") or {}).get("display") for w in page["withdrawals"]} == {
        "Bank account ending 876 (Jo S.)", None}
    assert not any("payout_envelope" in w for w in page["withdrawals"])
    assert not any(s in json.dumps(listed) + json.dumps(me) + json.dumps(page) for s in SECRETS)

    revealed = json_body(reveal(portal_stack, first["withdrawal_id"]))
    assert (revealed["type"], revealed["bsb"], revealed["account_number"]) == ("bank_account", "062-000", "40912876")
    assert reveal(portal_stack, none_on_file["withdrawal_id"])["statusCode"] == 404


def test_only_staff_reveal_and_each_reveal_is_audited(portal_stack):
    referrer, session = signed_in(portal_stack)
    put_method(portal_stack, session, BANK)
    withdrawal = withdraw(portal_stack, referrer["referrer_id"], session)

    denied = reveal(portal_stack, withdrawal["withdrawal_id"], VIEWER_CLAIMS)
    assert denied["statusCode"] == 403
    assert not any(s in denied["body"] for s in SECRETS)
    for _ in range(2):
        answer = reveal(portal_stack, withdrawal["withdrawal_id"])
        assert answer["statusCode"] == 200
        assert answer["headers"]["Cache-Control"] == "no-store"
        assert json_body(answer)["account_name"] == "Jo Smith"
        assert json_body(answer)["revealed_by"] == "staff:staff@example.com"
    audits = [a for a in portal_stack.items_of_type("audit")
              if a["action"] == "withdrawal.payout_details_revealed"]
    assert len(audits) == 2
    assert {a["pk"] for a in audits} == {f"WITHDRAWAL#{withdrawal['withdrawal_id']}"}
    assert {a["actor"] for a in audits} == {"staff:staff@example.com"}
    assert all(a["detail"]["payout_method"] == "Bank account ending 876 (Jo S.)" for a in audits)
    assert not any(s in json.dumps(audits) for s in SECRETS)
    assert reveal(portal_stack, "no-such-withdrawal")["statusCode"] == 404

    # paid: the details are no longer shown
    paid = portal_stack.invoke(ADMIN, http_event("POST", f"/admin/withdrawals/{withdrawal['withdrawal_id']}/paid",
                                                 body={"payout_reference": "EFT-1"}, claims=STAFF_CLAIMS))
    assert paid["statusCode"] == 200, paid
    assert reveal(portal_stack, withdrawal["withdrawal_id"])["statusCode"] == 409


def test_logs_never_carry_payout_details(portal_stack, capsys, caplog):
    referrer, session = signed_in(portal_stack)
    put_method(portal_stack, session, BANK)
    put_method(portal_stack, session, {**BANK, "account_number": "1234"})  # a 422 is logged too
    put_method(portal_stack, session, {"type": "payid", "payid_kind": "mobile", "payid_value": "0412 345 678"})
    put_method(portal_stack, session, BANK)
    withdrawal = withdraw(portal_stack, referrer["referrer_id"], session)
    assert reveal(portal_stack, withdrawal["withdrawal_id"])["statusCode"] == 200

    captured = capsys.readouterr()
    logs = captured.out + captured.err + caplog.text
    assert "payout method changed" in logs and "payout details revealed" in logs
    for secret in (*SECRETS, "0412 345 678", "+61412345678", "412345678"):
        assert secret not in logs


def test_erasing_the_referrer_removes_their_encrypted_details(portal_stack):
    _, session = signed_in(portal_stack)
    put_method(portal_stack, session, BANK)
    erased = portal_stack.invoke(ADMIN, http_event("POST", "/admin/people/erase", claims=ADMIN_CLAIMS, body={
        "email": "jo@example.com", "note": "Erasure request #7"}))
    assert erased["statusCode"] == 200, erased
    (stored,) = portal_stack.items_of_type("payout_method")
    assert "envelope" not in stored
    assert stored["masked"] == {"type": "bank_account", "display": "[erased]"}
