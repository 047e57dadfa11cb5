"""ABA (Cemtex) direct-entry files (issue 19, item 5): record widths, record types 0/1/7, totals and count,
BSB and account checks, and a round trip through the parser. Pure logic: no AWS."""

from __future__ import annotations

from datetime import date

import pytest

from referral_core.errors import InvalidInput
from referral_core.services.aba import (
    CREDIT,
    DEBIT,
    EOL,
    RECORD_LENGTH,
    AbaFormatError,
    AbaPayment,
    AbaSettings,
    aba_file,
    becs_text,
    parse_aba,
)

pytestmark = pytest.mark.unit

SETTINGS = AbaSettings(financial_institution="CBA", user_name="Fixit Computers Pty Ltd", apca_user_id="301500",
                       remitter_name="FIXIT COMPUTERS", trace_bsb="062-111", trace_account="10002000",
                       description="REWARDS")
PAYMENTS = [
    AbaPayment(bsb="062-000", account_number="40912876", account_name="Jo Smith", amount_cents=2_000,
               reference="REWARD W0001"),
    AbaPayment(bsb="083-004", account_number="12345", account_name="Zoë O'Brien-Ng", amount_cents=15_050,
               reference="REWARD W0002"),
    AbaPayment(bsb="733-000", account_number="987654321", account_name="Sam Lee " * 6, amount_cents=1,
               reference="REWARD W0003 with a long tail"),
]
DAY = date(2026, 12, 8)


def lines(text: str) -> list[str]:
    assert text.endswith(EOL)
    return text[:-len(EOL)].split(EOL)


def test_every_record_is_120_characters_ended_by_crlf_and_typed_0_1_7():
    text = aba_file(PAYMENTS, SETTINGS, process_on=DAY)
    records = lines(text)
    assert [len(r) for r in records] == [RECORD_LENGTH] * 5
    assert [r[0] for r in records] == ["0", "1", "1", "1", "7"]
    assert "\n" not in text.replace(EOL, "")


def test_the_descriptive_record_holds_the_business_and_the_date():
    head = lines(aba_file(PAYMENTS, SETTINGS, process_on=DAY))[0]
    assert head[1:18] == " " * 17 and head[18:20] == "01"
    assert head[20:23] == "CBA" and head[23:30] == " " * 7
    assert head[30:56] == "Fixit Computers Pty Ltd".ljust(26)
    assert head[56:62] == "301500"
    assert head[62:74] == "REWARDS".ljust(12)
    assert head[74:80] == "081226"
    assert head[80:] == " " * 40


def test_detail_records_place_each_field():
    first, second, third = lines(aba_file(PAYMENTS, SETTINGS, process_on=DAY))[1:4]
    assert first[1:8] == "062-000" and first[8:17] == " 40912876" and first[17] == " "
    assert first[18:20] == CREDIT and first[20:30] == "0000002000"
    assert first[30:62] == "Jo Smith".ljust(32) and first[62:80] == "REWARD W0001".ljust(18)
    assert first[80:87] == "062-111" and first[87:96] == " 10002000"
    assert first[96:112] == "FIXIT COMPUTERS ".ljust(16) and first[112:120] == "00000000"
    assert second[8:17] == "    12345"
    assert second[30:62].rstrip() == "Zoe O'Brien-Ng"  # accents dropped to the bank's character set
    assert second[20:30] == "0000015050"
    assert third[30:62] == ("Sam Lee " * 6)[:32]  # cut to the field, as banks do
    assert third[62:80] == "REWARD W0003 with "


def test_the_total_record_has_net_credit_debit_and_count():
    total = lines(aba_file(PAYMENTS, SETTINGS, process_on=DAY))[-1]
    assert total[1:8] == "999-999" and total[8:20] == " " * 12
    assert total[20:30] == total[30:40] == "0000017051"
    assert total[40:50] == "0000000000"
    assert total[50:74] == " " * 24 and total[74:80] == "000003" and total[80:] == " " * 40


def test_a_balancing_debit_nets_the_file_to_zero():
    text = aba_file(PAYMENTS, SETTINGS, process_on=DAY, balancing_debit=True)
    records = lines(text)
    debit = records[-2]
    assert debit[18:20] == DEBIT and debit[1:8] == "062-111" and debit[8:17] == " 10002000"
    assert debit[20:30] == "0000017051"
    total = records[-1]
    assert (total[20:30], total[30:40], total[40:50], total[74:80]) == ("0000000000", "0000017051", "0000017051",
                                                                       "000004")


@pytest.mark.parametrize("balancing", [False, True])
def test_a_file_round_trips_through_the_parser(balancing):
    parsed = parse_aba(aba_file(PAYMENTS, SETTINGS, process_on=DAY, balancing_debit=balancing))
    assert (parsed.financial_institution, parsed.apca_user_id, parsed.user_name, parsed.description,
            parsed.process_on) == ("CBA", "301500", "Fixit Computers Pty Ltd", "REWARDS", DAY)
    credits = [d for d in parsed.details if d.transaction_code == CREDIT]
    assert [(d.bsb, d.account_number, d.amount_cents) for d in credits] == [
        (p.bsb, p.account_number, p.amount_cents) for p in PAYMENTS]
    assert [d.account_name for d in credits] == [becs_text(p.account_name, 32).rstrip() for p in PAYMENTS]
    assert {(d.trace_bsb, d.trace_account, d.remitter_name) for d in parsed.details} == {
        ("062-111", "10002000", "FIXIT COMPUTERS")}
    assert parsed.totals.credit_cents == 17_051
    assert parsed.totals.debit_cents == (17_051 if balancing else 0)
    assert parsed.totals.count == len(PAYMENTS) + balancing


@pytest.mark.parametrize(("change", "field"), [
    ({"bsb": "062000"}, "payments.1.bsb"),
    ({"bsb": "62-0000"}, "payments.1.bsb"),
    ({"account_number": "1234"}, "payments.1.account_number"),
    ({"account_number": "1234567890"}, "payments.1.account_number"),
    ({"account_number": "12-345"}, "payments.1.account_number"),
    ({"account_number": "000000"}, "payments.1.account_number"),
    ({"account_name": "  "}, "payments.1.account_name"),
    ({"account_name": "東京"}, "payments.1.account_name"),  # nothing left in the bank's character set
    ({"amount_cents": 0}, "payments.1.amount_cents"),
    ({"amount_cents": -5}, "payments.1.amount_cents"),
    ({"amount_cents": 10_000_000_000}, "payments.1.amount_cents"),
    ({"amount_cents": True}, "payments.1.amount_cents"),
])
def test_a_bad_payment_is_a_422_naming_it(change, field):
    payments = [PAYMENTS[0], AbaPayment(**{**PAYMENTS[1].__dict__, **change})]
    with pytest.raises(InvalidInput) as raised:
        aba_file(payments, SETTINGS, process_on=DAY)
    assert field in raised.value.fields


@pytest.mark.parametrize(("change", "field"), [
    ({"financial_institution": "cba"}, "financial_institution"),
    ({"apca_user_id": "30150"}, "apca_user_id"),
    ({"remitter_name": ""}, "remitter_name"),
    ({"trace_bsb": "062 111"}, "trace_bsb"),
    ({"trace_account": "1"}, "trace_account"),
])
def test_bad_settings_are_a_422_naming_them(change, field):
    with pytest.raises(InvalidInput) as raised:
        aba_file(PAYMENTS, AbaSettings(**{**SETTINGS.__dict__, **change}), process_on=DAY)
    assert field in raised.value.fields


def test_an_empty_batch_or_a_total_over_ten_digits_is_refused():
    with pytest.raises(InvalidInput):
        aba_file([], SETTINGS, process_on=DAY)
    big = AbaPayment(bsb="062-000", account_number="40912876", account_name="Jo", amount_cents=9_000_000_000,
                     reference="R")
    with pytest.raises(InvalidInput) as raised:
        aba_file([big, big], SETTINGS, process_on=DAY)
    assert "payments" in raised.value.fields


@pytest.mark.parametrize(("corrupt", "message"), [
    (lambda t: t.replace(EOL, "\n"), "CR LF"),
    (lambda t: t.replace("Jo Smith", "Jo Smith "), "characters"),
    (lambda t: t.replace("0000002000", "0000002001", 1), "does not match"),
    (lambda t: t.replace("000003" + " " * 40, "000002" + " " * 40), "does not match"),
    (lambda t: EOL.join(t.split(EOL)[1:]), "type 0"),
    (lambda t: t.replace("1062-000", "1062 000"), "BSB"),
])
def test_the_parser_refuses_a_broken_file(corrupt, message):
    text = aba_file(PAYMENTS, SETTINGS, process_on=DAY)
    with pytest.raises(AbaFormatError, match=message):
        parse_aba(corrupt(text))
