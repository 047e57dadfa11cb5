"""The one body reader's bounds (referral_core.bodies.loads): hostile JSON is a 400 naming ``body``."""

from __future__ import annotations

import pytest

from referral_core.bodies import MAX_DEPTH, MAX_JSON_BYTES, MAX_NUMBER_CHARS, loads
from referral_core.errors import MalformedRequest, PayloadTooLarge

pytestmark = pytest.mark.unit


def test_ordinary_json_is_read_as_json():
    assert loads('{"a": [1, -2.5, {"b": null, "c": true}], "s": "[[{{"}') == {
        "a": [1, -2.5, {"b": None, "c": True}], "s": "[[{{"}
    assert loads(b'{"name": "J\\u00f6"}') == {"name": "Jö"}


def test_nesting_up_to_the_bound_is_read_and_deeper_is_refused():
    assert loads("[" * MAX_DEPTH + "]" * MAX_DEPTH) is not None
    with pytest.raises(MalformedRequest) as refused:
        loads("[" * (MAX_DEPTH + 1) + "]" * (MAX_DEPTH + 1))
    assert refused.value.fields == {"body": f"nested deeper than {MAX_DEPTH} levels"}


def test_brackets_inside_strings_do_not_count_as_nesting():
    text = '{"issue": "' + "[{" * 5000 + '\\"]"}'
    assert loads(text)["issue"].startswith("[{[{")


@pytest.mark.parametrize("body", ["9" * 4400, '{"n": -' + "1" * 4400 + "}", "1." + "5" * 4400,
                                  "1" * (MAX_NUMBER_CHARS + 1)])
def test_number_literals_longer_than_the_bound_are_refused_not_a_value_error(body):
    with pytest.raises(MalformedRequest) as refused:
        loads(body)
    assert refused.value.fields == {"body": f"a number longer than {MAX_NUMBER_CHARS} characters"}


def test_a_long_number_within_the_bound_still_reaches_the_model():
    assert loads(str(10**40)) == 10**40


@pytest.mark.parametrize("body", ["NaN", '{"a": Infinity}', "[-Infinity]", "1e400", "-1e999"])
def test_non_finite_numbers_are_refused(body):
    with pytest.raises(MalformedRequest):
        loads(body)


@pytest.mark.parametrize("body", ["{", "", b"\xff\xfe", '{"a": 1,}', "[" * 10])
def test_anything_unreadable_is_malformed_request(body):
    with pytest.raises(MalformedRequest) as refused:
        loads(body)
    assert set(refused.value.fields) == {"body"}


def test_the_resolvers_size_cap():
    with pytest.raises(PayloadTooLarge):
        loads('"' + "x" * MAX_JSON_BYTES + '"', max_bytes=MAX_JSON_BYTES)


# -- text and consent in the request models (issue 16, item 14) -------------------------------------------
@pytest.mark.parametrize("text", ["Sam\x00", "Sam\x1b[2J", "Sam\x7f", "Sa\x85m", "Sam\u009b", "Sam\nLee",
                                  "Sam\tLee", "Sam\rLee"])
def test_one_line_text_refuses_every_control_character(text):
    from referral_core.bodies import validate
    from referral_core.errors import InvalidInput
    from referral_core.models.referrers import CreateReferrerRequest

    with pytest.raises(InvalidInput) as refused:
        validate(CreateReferrerRequest, {"name": text, "email": "jo@example.com"})
    assert "control characters" in refused.value.fields["name"]


@pytest.mark.parametrize(("text", "accepted"), [("line 1\nline 2", True), ("a\r\n\tb", True),
                                                ("a\x00b", False), ("a\x0bb", False), ("a\x85b", False),
                                                ("a\x1bb", False)])
def test_multi_line_text_keeps_line_breaks_and_tabs_only(text, accepted):
    from pydantic import ValidationError

    from referral_core.models.rewards import RejectRequest

    if accepted:
        assert RejectRequest.model_validate({"note": text}).note == text.strip()
    else:
        with pytest.raises(ValidationError):
            RejectRequest.model_validate({"note": text})


@pytest.mark.parametrize("value", [1, 1.0, "true", "on", "yes", False, None])
def test_consent_is_the_json_value_true_only(value):
    from pydantic import ValidationError

    from referral_core.models.leads import Consent, ReferAJobRequest

    with pytest.raises(ValidationError):
        Consent.model_validate({"contact": value, "policy_version": "v1"})
    with pytest.raises(ValidationError):
        ReferAJobRequest.model_validate({"friend_name": "Pat", "friend_email": "p@example.com",
                                         "postcode": "3000", "issue": "Wi-Fi", "friend_agreed": value})
    assert Consent.model_validate_json('{"contact": true, "policy_version": "v1"}').contact is True
