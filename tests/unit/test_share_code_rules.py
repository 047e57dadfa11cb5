"""Pure share-code rules of issue 16: reserved and look-alike words, visibility, zone modes, and the
attribution of a zone-locked lead. No AWS."""

from __future__ import annotations

from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.code_words import CONTAINED, EXACT, reserved_word, skeleton
from referral_core.models.program import Attribution
from referral_core.services.attribution import Outcome, decide
from referral_core.services.redirect import is_bot
from referral_core.services.share_codes import custom_code_problem, share_message
from referral_core.visibility import is_public, may_match_typed
from referral_core.zones import zone_locked_out, zone_mode

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(("code", "word"), [
    ("PAYPAL-REFUND", "PAYPAL"), ("PAYPAL-REFUND-2024", "PAYPAL"), ("ADMIN-LOGIN", "ADMIN"),
    ("STAFF-ONLY", "STAFF"), ("OFFICIAL", "OFFICIAL"), ("OFFICIAL-DEALS", "OFFICIAL"),
    ("ADM1N", "ADMIN"), ("0FFICIAL", "OFFICIAL"), ("5TAFF", "STAFF"), ("PAY-PA1", "PAYPAL"),
    ("PAYPA1-HELP", "PAYPAL"), ("L0G1N", "LOGIN"), ("VVESTPAC", "WESTPAC"), ("G00GLE-PAY", "GOOGLE"),
    ("SUPP0RT-DESK", "SUPPORT"), ("API", "API"), ("R00T", "ROOT"), ("QUICK-HE1P", "QUICK-HELP"),
    ("MY-REFUND", "REFUND"), ("CENTREL1NK", "CENTRELINK"),
])
def test_reserved_and_look_alike_words_are_found(code, word):
    assert reserved_word(code) == word


@pytest.mark.parametrize("code", ["VAN-JO", "FLYER-22", "K7QX3MZ", "SMITH-PLUMBING", "PARK-ST-2000",
                                  "JO-SPARKY", "HELPFUL-JO", "MEGAN-REFERS", "TESTIMONIAL"])
def test_ordinary_codes_pass(code):
    assert reserved_word(code) is None
    assert custom_code_problem(code) is None


def test_route_words_are_refused_only_as_the_whole_code():
    assert reserved_word("DOCS") == "DOCS"
    assert reserved_word("DOCS-JO") is None  # containing a route word is fine, being one is not


def test_the_programme_words_are_checked_like_the_built_in_ones():
    assert reserved_word("ACME-VIP", ["ACME"]) == "ACME"
    assert reserved_word("4CME-VIP", ["ACME"]) == "ACME"  # look-alikes of the programme's words too
    assert reserved_word("ACME-VIP") is None
    assert (custom_code_problem("ACME-VIP", ["ACME"]) or "").startswith("is a reserved word or contains one: ACME")


def test_the_skeleton_folds_look_alikes_and_drops_hyphens():
    assert skeleton("0ff-1c1al") == skeleton("OFFICIAL") == "OFFICIAI"
    assert skeleton("5-7AFF") == "STAFF"
    # every listed word survives its own skeleton (no word folds to nothing or to a different list entry)
    assert all(skeleton(word) for word in EXACT | CONTAINED)


def test_share_message_mentions_the_code_only_when_public():
    assert "or mention code VAN-JO" in share_message("https://x/r/VAN-JO", "VAN-JO")
    private = share_message("https://x/r/VAN-JO", "VAN-JO", public=False)
    assert "mention" not in private and "https://x/r/VAN-JO." in private


def code(**changes):
    return {"code": "VAN-JO", "referrer_id": "R1", "status": "active", "visibility": "public", **changes}


@pytest.mark.parametrize(("item", "typed"), [
    (code(), True),
    ({"code": "OLD", "referrer_id": "R1", "status": "active"}, True),  # stored before visibility: public
    (code(visibility="private"), False),
    (code(status="disabled"), False),
    (code(expires_at=iso(now() - timedelta(minutes=1))), False),
    (code(max_uses=3, uses=3), False),
    (None, False),
])
def test_only_a_live_public_code_may_be_matched_when_typed(item, typed):
    assert may_match_typed(item, iso()) is typed


def test_visibility_defaults_to_public():
    assert is_public({}) and is_public(code()) and not is_public(code(visibility="private"))


@pytest.mark.parametrize(("item", "postcode", "locked"), [
    (code(zones=["2000"], zone_mode="lock"), "3000", True),
    (code(zones=["2000"], zone_mode="lock"), "2000", False),
    (code(zones=["2000"], zone_mode="lock"), None, True),  # a zoned code needs a postcode
    (code(zones=["2000"], zone_mode="flag"), "3000", False),
    (code(zones=["2000"]), "3000", False),  # stored before modes: flag
    (code(zones=[], zone_mode="lock"), "3000", False),
])
def test_zone_lock(item, postcode, locked):
    assert zone_locked_out(item, postcode) is locked


def test_unknown_zone_modes_read_as_flag():
    assert zone_mode({"zone_mode": "LOCK!"}) == "flag"


def lead(**changes):
    return {"lead_id": "L1", "created_at": iso(), "ref": "VAN-JO", "code": "VAN-JO", "ref_status": "attributed",
            "referrer_id": "R1", **changes}


def test_a_zone_locked_lead_is_attributed_but_not_eligible():
    decision = decide(lead(zone_locked=True), rules=Attribution())
    assert (decision.outcome, decision.reason, decision.referrer_id, decision.code) == (
        Outcome.NOT_ELIGIBLE, "zone_locked", "R1", "VAN-JO")
    assert decide(lead(), rules=Attribution()).outcome is Outcome.ATTRIBUTED


def test_a_zone_locked_lead_bound_to_an_earlier_referral_follows_that_referral():
    from referral_core.services.attribution import PriorReferral

    prior = PriorReferral("L0", "code", "R2", "OTHER", iso(now() - timedelta(days=3)))
    decision = decide(lead(zone_locked=True), rules=Attribution(model="first_touch"), prior=prior)
    assert (decision.outcome, decision.referrer_id) == (Outcome.ATTRIBUTED, "R2")


@pytest.mark.parametrize(("user_agent", "bot"), [
    ("curl/8.5.0", True), ("Python-urllib/3.11", True), ("python-requests/2.32", True),
    ("Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) HeadlessChrome/120.0 Safari/537.36",
     True),
    ("Wget/1.21", True), ("AhrefsBot/7.0", True), ("Mozilla/5.0", False),
    ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Mobile/15E148", False),
])
def test_the_bot_list_docs_links_md_describes(user_agent, bot):
    # docs/links.md and the README: curl counts no click, a browser agent (even curl -A 'Mozilla/5.0') does
    assert is_bot(user_agent) is bot
