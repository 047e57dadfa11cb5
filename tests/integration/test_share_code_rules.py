"""Share-code rules of issue 16 on moto: the per-referrer cap (staff and portal, concurrency), reserved and
look-alike words, what visibility changes, and zone_mode lock through capture, checks and attribution."""

from __future__ import annotations

import threading
from datetime import timedelta

import pytest

from referral_core.clock import iso, now
from referral_core.dal.dynamo import Table
from referral_core.dal.links import LinkRepository
from referral_core.errors import Conflict, LimitReached
from referral_core.models.program import ShareCodeRules, default_rules
from referral_core.models.share_codes import CreateShareCodeRequest
from referral_core.services.share_codes import create_share_code
from tests.support.events import json_body
from tests.support.jobs import lead_inserted, referral
from tests.support.leads import flags_of, lead_body, lead_items, post_lead, run_checks, update_code
from tests.support.links import admin, create_code, new_referrer, redirect
from tests.support.portal import portal, sign_in

pytestmark = pytest.mark.integration


def save_share_code_rules(stack, **share_codes) -> None:
    """A saved programme (as PUT /admin/program stores it) with these ``share_codes`` rules."""
    rules = default_rules().model_dump(mode="json")
    rules["share_codes"] = {**rules["share_codes"], **share_codes}
    Table(stack.table_name).put({"pk": "PROGRAM", "sk": "CURRENT", "type": "program", "rules": rules,
                                 "version": 1})


def generated(stack, referrer_id, **overrides):
    return create_code(stack, referrer_id, code=None, placement=None, zones=[], max_uses=None, **overrides)


# -- the cap -----------------------------------------------------------------------------------------
def test_the_default_cap_is_ten_active_codes_besides_the_personal_one(stack):
    referrer_id = new_referrer(stack)

    created = [generated(stack, referrer_id)["statusCode"] for _ in range(10)]
    refused = generated(stack, referrer_id)

    assert created == [201] * 10
    assert refused["statusCode"] == 409
    error = json_body(refused)["error"]
    assert error["code"] == "limit_reached"
    assert "10" in error["message"]
    codes = [i for i in stack.items_of_type("share_code") if i["referrer_id"] == referrer_id]
    assert len(codes) == 11  # the personal code + 10; the refused one wrote nothing
    # a custom code is refused the same way (the cap is checked after the word rules)
    assert create_code(stack, referrer_id, code="ANOTHER-ONE")["statusCode"] == 409


def test_disabling_or_expiry_frees_a_slot_and_the_programme_sets_the_cap(stack):
    save_share_code_rules(stack, max_active_per_referrer=2)
    referrer_id = new_referrer(stack)
    first, second = (json_body(generated(stack, referrer_id))["code"] for _ in range(2))
    assert json_body(generated(stack, referrer_id))["error"]["code"] == "limit_reached"

    assert admin(stack, "POST", f"/admin/share-codes/{first}/disable")["statusCode"] == 200
    third = generated(stack, referrer_id)
    assert third["statusCode"] == 201
    assert generated(stack, referrer_id)["statusCode"] == 409

    update_code(stack, second, expires_at=iso(now() - timedelta(minutes=1)))
    assert generated(stack, referrer_id)["statusCode"] == 201
    # staff may enable the disabled code again above the cap; new codes then wait until it is below
    assert admin(stack, "POST", f"/admin/share-codes/{first}/enable")["statusCode"] == 200
    assert generated(stack, referrer_id)["statusCode"] == 409


def test_codes_from_before_the_cap_are_counted(stack):
    # Given a referrer with codes created before the cap existed (no code_quota item yet)
    save_share_code_rules(stack, max_active_per_referrer=3)
    referrer_id = new_referrer(stack)
    table = Table(stack.table_name)
    for index in range(3):
        table.put({"pk": f"CODE#OLD-{index}", "sk": "CODE", "type": "share_code", "code": f"OLD-{index}",
                   "referrer_id": referrer_id, "personal": False, "visibility": "public", "status": "active",
                   "uses": 0, "created_at": iso(), "gsi1pk": f"REFERRER#{referrer_id}#CODES",
                   "gsi1sk": f"CODE#{iso()}"})

    assert generated(stack, referrer_id)["statusCode"] == 409


def test_a_referrer_obeys_the_cap_in_the_portal_too(portal_stack):
    save_share_code_rules(portal_stack, max_active_per_referrer=1)
    new_referrer(portal_stack, email="ana@example.com")
    session = sign_in(portal_stack, "ana@example.com")

    first = portal(portal_stack, "POST", "/me/share-codes", session=session, body={"visibility": "public"})
    second = portal(portal_stack, "POST", "/me/share-codes", session=session, body={"visibility": "public"})

    assert first["statusCode"] == 201
    assert (second["statusCode"], json_body(second)["error"]["code"]) == (409, "limit_reached")


def test_parallel_creates_never_pass_the_cap(stack):
    # Given room for 2 codes and 25 creates at the same moment (each reads the count before any writes)
    referrer_id = new_referrer(stack)
    rules = ShareCodeRules(max_active_per_referrer=2)
    barrier = threading.Barrier(25)
    outcomes: list[str] = []

    def attempt() -> None:
        repo = LinkRepository(Table(stack.table_name))
        barrier.wait()
        try:
            create_share_code(repo, referrer_id, CreateShareCodeRequest(visibility="public"),
                              origin="https://refer.example.com", actor="t", allowed_hosts=(),
                              qr_prefix="/admin/share-codes", rules=rules)
            outcomes.append("201")
        except LimitReached:
            outcomes.append("limit")
        except Conflict:
            outcomes.append("retry")

    threads = [threading.Thread(target=attempt) for _ in range(25)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert outcomes.count("201") == 2
    created = [i for i in stack.items_of_type("share_code") if i["referrer_id"] == referrer_id
               and not i.get("personal")]
    assert len(created) == 2
    quota = Table(stack.table_name).get(f"REFERRER#{referrer_id}", "CODES", consistent=True)
    assert quota is not None and sorted(quota["codes"]) == sorted(i["code"] for i in created)


# -- reserved and look-alike words ---------------------------------------------------------------------
@pytest.mark.parametrize("code", ["PAYPAL-REFUND", "paypal-refund-now", "ADMIN-LOGIN", "STAFF-ONLY",
                                  "OFFICIAL", "OFFICIAL-OFFER", "ADM1N-HELP", "0FFICIAL", "5TAFF-0NLY",
                                  "PAY-PA1", "MYGOV-REBATE", "L0GIN-NOW", "QUICK-HELP"])
def test_reserved_and_look_alike_codes_are_422_naming_the_code(stack, code):
    response = create_code(stack, new_referrer(stack), code=code)

    assert response["statusCode"] == 422, response
    fields = json_body(response)["error"]["fields"]
    assert list(fields) == ["code"]
    assert fields["code"].startswith("is a reserved word")
    assert not [i for i in stack.items_of_type("share_code") if i["code"] == code.upper()]


def test_the_programme_adds_its_own_reserved_words(stack):
    save_share_code_rules(stack, reserved_words=["acme-plumbing"])
    referrer_id = new_referrer(stack)

    refused = create_code(stack, referrer_id, code="ACMEP1UMBING-VIP")
    fine = create_code(stack, referrer_id, code="VAN-JO")

    assert refused["statusCode"] == 422
    assert "ACME-PLUMBING" in json_body(refused)["error"]["fields"]["code"]
    assert fine["statusCode"] == 201


# -- visibility ----------------------------------------------------------------------------------------
def test_a_private_code_is_a_link_only_and_says_so(portal_stack):
    stack = portal_stack
    referrer_id = new_referrer(stack, email="ana@example.com")
    public = json_body(create_code(stack, referrer_id, code="PARK-ST", visibility="public"))
    private = json_body(create_code(stack, referrer_id, code="VIP-LIST", visibility="private"))

    assert "or mention code PARK-ST" in public["share_message"]
    assert private["visibility"] == "private"
    assert "mention" not in private["share_message"]
    assert private["url"] in private["share_message"]
    # the link itself works for both
    assert redirect(stack, "VIP-LIST")["statusCode"] == 302
    # the owner still sees it, marked private
    me = json_body(portal(stack, "GET", "/me", session=sign_in(stack, "ana@example.com")))
    shown = {c["code"]: c for c in me["share_codes"]}
    assert (shown["VIP-LIST"]["visibility"], shown["PARK-ST"]["visibility"]) == ("private", "public")
    assert "mention" not in shown["VIP-LIST"]["share_message"]


# -- zone modes ------------------------------------------------------------------------------------------
def lead_through(stack, code, postcode, email, source_ip):
    before = {lead["lead_id"] for lead in lead_items(stack)}
    body = lead_body(cid=None, ref=code, postcode=postcode, email=email, phone=None)
    assert post_lead(stack, body, source_ip=source_ip)["statusCode"] == 201
    return next(lead for lead in lead_items(stack) if lead["lead_id"] not in before)


def test_a_zone_locked_code_keeps_the_lead_but_gives_no_reward_eligible_attribution(stack):
    referrer_id = new_referrer(stack)
    created = create_code(stack, referrer_id, code="NORTH-ONLY", zones=["2000", "21*"], zone_mode="lock")
    assert json_body(created)["zone_mode"] == "lock"

    outside = lead_through(stack, "NORTH-ONLY", "3000", "far@example.com", "198.51.100.10")
    inside = lead_through(stack, "NORTH-ONLY", "2150", "near@example.com", "198.51.100.11")

    # the lead is kept and still names the code and its referrer
    assert (outside["code"], outside["referrer_id"], outside["zone_locked"]) == ("NORTH-ONLY", referrer_id, True)
    assert "zone_locked" not in inside
    run_checks(stack, outside, inside)
    flag = flags_of(stack, outside["lead_id"])["zone_mismatch"]
    assert flag["evidence"]["zone_mode"] == "lock"
    assert "zone_mismatch" not in flags_of(stack, inside["lead_id"])

    assert lead_inserted(stack, outside) == {"batchItemFailures": []}
    assert lead_inserted(stack, inside) == {"batchItemFailures": []}

    refused = referral(stack, outside["lead_id"])
    assert refused is not None
    assert (refused["stage"], refused["not_eligible_reason"]) == ("not_eligible", "zone_locked")
    assert (refused["attribution"]["outcome"], refused["attribution"]["reason"]) == ("not_eligible", "zone_locked")
    assert (refused["referrer_id"], refused["code"]) == (referrer_id, "NORTH-ONLY")  # staff see whose, and why
    accepted = referral(stack, inside["lead_id"])
    assert accepted is not None
    assert (accepted["stage"], accepted["attribution"]["outcome"]) == ("received", "attributed")


def test_a_flag_only_code_still_attributes_outside_its_zones(stack):
    referrer_id = new_referrer(stack)
    assert json_body(create_code(stack, referrer_id, code="NORTH-FLAG", zones=["2000"]))["zone_mode"] == "flag"

    outside = lead_through(stack, "NORTH-FLAG", "3000", "far@example.com", "198.51.100.12")
    run_checks(stack, outside)
    lead_inserted(stack, outside)

    assert "zone_locked" not in outside
    assert flags_of(stack, outside["lead_id"])["zone_mismatch"]["evidence"]["zone_mode"] == "flag"
    stored = referral(stack, outside["lead_id"])
    assert stored is not None
    assert (stored["attribution"]["outcome"], stored["referrer_id"]) == ("attributed", referrer_id)


def test_lock_needs_zones(stack):
    response = create_code(stack, new_referrer(stack), code="NOWHERE", zones=[], zone_mode="lock")
    assert response["statusCode"] == 422
    assert list(json_body(response)["error"]["fields"]) == ["zone_mode"]
