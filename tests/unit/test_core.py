"""Pure logic of the shared core: no sockets, no AWS."""

from __future__ import annotations

import dataclasses

import pytest

from referral_core import ids
from referral_core.auth import staff_from_event
from referral_core.config import read_settings
from referral_core.contacts import clean_phone, mask_name
from referral_core.errors import ConfigError, Forbidden, InvalidInput, Unauthorized
from referral_core.hashing import email_hash, normalise_email
from referral_core.services.redirect import is_live, with_query

pytestmark = pytest.mark.unit


def test_codes_are_readable_and_ids_sort_by_time():
    codes = {ids.new_code() for _ in range(500)}
    assert len(codes) == 500
    assert all(set(c) <= set(ids.CODE_ALPHABET) for c in codes)
    first, second = ids.new_id(), ids.new_id()
    assert len(first) == 26 and first[:8] <= second[:8]


@pytest.mark.parametrize(
    ("raw", "normal"),
    [("Jo.Smith+ads@GoogleMail.com", "josmith@gmail.com"), ("A.B+x@example.com", "a.b@example.com")],
)
def test_email_normalisation_for_matching(raw, normal):
    assert normalise_email(raw) == normal
    assert email_hash("p", raw) == email_hash("p", normal) != email_hash("other", normal)


def test_phone_numbers_become_e164_or_name_the_field():
    assert clean_phone("0412 345 678", "AU") == "+61412345678"
    assert clean_phone("+44 20 7946 0958", "AU") == "+442079460958"
    with pytest.raises(InvalidInput) as err:
        clean_phone("12", "AU", field="friend_phone")
    assert "friend_phone" in err.value.fields


def test_masked_names_show_no_more_than_needed():
    assert mask_name("Joanne Smith") == "Jo S."
    assert mask_name("Cher") == "Ch"


def test_settings_fail_fast_listing_every_missing_variable():
    @dataclasses.dataclass(frozen=True, kw_only=True)
    class S:
        table_name: str
        days: int
        hosts: tuple[str, ...] = ()

    with pytest.raises(ConfigError, match="DAYS, TABLE_NAME"):
        read_settings(S, {})
    assert read_settings(S, {"TABLE_NAME": "t", "DAYS": "3", "HOSTS": "a.com, b.com"}) == S(
        table_name="t", days=3, hosts=("a.com", "b.com"))
    with pytest.raises(ConfigError, match="DAYS must be an integer"):
        read_settings(S, {"TABLE_NAME": "t", "DAYS": "x"})


def test_a_role_group_is_checked_again_in_the_handler():
    def event(claims):
        return {"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}

    assert staff_from_event(event({"sub": "1", "cognito:groups": "[staff ops]"})).groups == {"staff", "ops"}
    with pytest.raises(Forbidden):
        staff_from_event(event({"sub": "1", "cognito:groups": "[ops]"}))
    with pytest.raises(Unauthorized):
        staff_from_event({"requestContext": {}})


def test_code_liveness_rules():
    now = "2026-11-23T09:00:00.000000Z"
    assert is_live({"status": "active"}, now)
    assert not is_live({"status": "disabled"}, now)
    assert not is_live({"status": "active", "expires_at": "2026-11-23T08:59:59Z"}, now)
    assert not is_live({"status": "active", "max_uses": 3, "uses": 3}, now)
    assert is_live({"status": "active", "max_uses": 3, "uses": 2}, now)


def test_landing_query_is_replaced_not_duplicated():
    assert with_query("https://x.test/help?ref=OLD&a=1", {"ref": "NEW", "cid": "c"}) == (
        "https://x.test/help?a=1&ref=NEW&cid=c")
