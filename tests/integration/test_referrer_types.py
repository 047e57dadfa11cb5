"""Referrer types drive the reward rules (issue 19, item 3): ``rules.by_type`` overrides the general tiers,
amounts and caps for one type; the reward engine picks the referrer's type's; staff set a referrer's type
(audited); the dashboard shows each referrer the rules that apply to them.
"""

from __future__ import annotations

import json

import pytest

from referral_core.dal.dynamo import Table
from referral_core.services.rewards import on_staff_accept
from tests.support.events import STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body, load_event
from tests.support.portal import ADMIN, portal, sign_in
from tests.support.rewards import repos, save_rules, seed_job, seed_referral

pytestmark = pytest.mark.integration

PARTNER_TIERS = [
    {"name": "Partner", "min_rewarded": 0, "reward": {"flat_cents": 10_000}},
    {"name": "Partner Plus", "min_rewarded": 2, "reward": {"percent_bp": 1_000, "cap_cents": 7_500}},
]
NOTE = "Runs the cafe next door: partner rates agreed"


def admin(stack, method, path, body=None, claims=STAFF_CLAIMS):
    proxy = path.removeprefix("/admin/")
    route = "/admin/referrers" if path == "/admin/referrers" else "/admin/{proxy+}"
    return stack.invoke(ADMIN, http_event(method, path, body=body, claims=claims, route=route,
                                          path_params=None if route == "/admin/referrers" else {"proxy": proxy}))


def create(stack, email, referrer_type=None):
    body = {"name": "Jo Smith", "email": email, **({"referrer_type": referrer_type} if referrer_type else {})}
    response = admin(stack, "POST", "/admin/referrers", body)
    assert response["statusCode"] == 201, response
    return json_body(response)["referrer_id"]


def credit(stack, referrer_id, n, amount_cents=20_000):
    seed_job(stack, f"job-{referrer_id}-{n}", f"lead-{referrer_id}-{n}", amount_cents=amount_cents)
    seed_referral(stack, f"lead-{referrer_id}-{n}", referrer_id=referrer_id, job_id=f"job-{referrer_id}-{n}")
    assert on_staff_accept(repos(stack), f"lead-{referrer_id}-{n}") == "credited"
    return repos(stack).rewards.get(f"job-{referrer_id}-{n}")


def profile(stack, referrer_id):
    return Table(stack.table_name).get(f"REFERRER#{referrer_id}", "PROFILE")


@pytest.fixture
def typed(portal_stack):
    save_rules(portal_stack, require_review=False, by_type={"local_partner": {"tiers": PARTNER_TIERS}})
    return portal_stack


def test_a_partner_earns_the_partner_amount_and_a_customer_the_general_one(typed):
    partner = create(typed, "cafe@example.com", "local_partner")
    customer = create(typed, "sam@example.com", "customer")
    staff_made = create(typed, "lee@example.com")
    assert profile(typed, partner)["referrer_type"] == "local_partner"

    first = credit(typed, partner, 0)
    assert (first["tier"], first["amount_cents"]) == ("Partner", 10_000)
    # a customer (no override for their type) and a referrer without a type earn the general Bronze 25.00
    general = credit(typed, customer, 0)
    assert (general["tier"], general["amount_cents"]) == ("Bronze", 2_500)
    assert credit(typed, staff_made, 0)["amount_cents"] == 2_500
    entry = next(e for e in repos(typed).ledger.entries(partner) if e["kind"] == "credit_pending")
    assert (entry["amount_cents"], entry["detail"]["tier"]) == (10_000, "Partner")


def test_caps_and_tiers_are_per_type(typed):
    partner = create(typed, "cafe@example.com", "local_partner")
    customer = create(typed, "sam@example.com", "customer")
    credit(typed, partner, 0)
    credit(typed, partner, 1)
    # The partner's third reward is in their "Partner Plus": 10 % of 200,000 capped at 75.00
    third = credit(typed, partner, 2, amount_cents=200_000)
    assert (third["tier"], third["amount_cents"]) == ("Partner Plus", 7_500)
    fourth = credit(typed, partner, 3, amount_cents=30_000)
    assert fourth["amount_cents"] == 3_000
    # The customer's third is still the general Bronze (Silver starts at 3 rewarded)
    for n in range(3):
        last = credit(typed, customer, n, amount_cents=200_000)
    assert (last["tier"], last["amount_cents"]) == ("Bronze", 2_500)
    assert credit(typed, customer, 3)["tier"] == "Silver"


def test_the_dashboard_shows_the_rules_of_the_referrers_type(typed):
    partner = create(typed, "cafe@example.com", "local_partner")
    create(typed, "sam@example.com")
    mine = json_body(portal(typed, "GET", "/me", session=sign_in(typed, "cafe@example.com")))
    assert mine["rules"]["referrer_type"] == "local_partner"
    assert [t["name"] for t in mine["rules"]["tiers"]] == ["Partner", "Partner Plus"]
    assert mine["rules"]["tiers"][1]["reward"] == {"flat_cents": None, "percent_bp": 1_000, "cap_cents": 7_500}
    assert (mine["tier"]["name"], mine["tier"]["next_tier"], mine["tier"]["rewards_to_next_tier"]) == (
        "Partner", "Partner Plus", 2)
    general = json_body(portal(typed, "GET", "/me", session=sign_in(typed, "sam@example.com")))
    assert general["rules"]["referrer_type"] is None
    assert [t["name"] for t in general["rules"]["tiers"]] == ["Bronze", "Silver", "Gold"]
    assert partner


def test_staff_set_a_referrers_type_audited_and_the_next_reward_follows_it(typed):
    referrer = create(typed, "cafe@example.com")
    assert credit(typed, referrer, 0)["amount_cents"] == 2_500
    changed = admin(typed, "PATCH", f"/admin/referrers/{referrer}", {"referrer_type": "local_partner",
                                                                      "note": NOTE})
    assert changed["statusCode"] == 200, changed
    assert json_body(changed) == {**json_body(changed), "referrer_id": referrer, "referrer_type": "local_partner",
                                  "previous_type": None, "changed_by": "staff:staff@example.com"}
    assert credit(typed, referrer, 1)["amount_cents"] == 10_000  # rewarded_count 1: still "Partner"
    detail = json_body(admin(typed, "GET", f"/admin/referrers/{referrer}"))
    assert detail["referrer"]["referrer_type"] == "local_partner"

    cleared = admin(typed, "PATCH", f"/admin/referrers/{referrer}", {"referrer_type": None, "note": "back"})
    assert json_body(cleared)["previous_type"] == "local_partner"
    assert "referrer_type" not in profile(typed, referrer)
    audits = [i for i in typed.items() if i["pk"] == f"REFERRER#{referrer}" and i["type"] == "audit"
              and i["action"] == "referrer.type_changed"]
    assert sorted((a["detail"]["from"], a["detail"]["to"]) for a in audits) == [
        ("local_partner", "none"), ("none", "local_partner")]
    assert {a["actor"] for a in audits} == {"staff:staff@example.com"}
    assert NOTE in {a["detail"]["note"] for a in audits}


@pytest.mark.parametrize(("body", "field"), [
    ({"referrer_type": "partner", "note": NOTE}, "referrer_type"),
    ({"referrer_type": "customer"}, "note"),
    ({"referrer_type": "customer", "note": NOTE, "status": "active"}, "status"),
])
def test_setting_a_type_refuses_bad_bodies_with_422_naming_the_field(portal_stack, body, field):
    referrer = create(portal_stack, "cafe@example.com")
    response = admin(portal_stack, "PATCH", f"/admin/referrers/{referrer}", body)
    assert response["statusCode"] == 422, response
    assert field in json_body(response)["error"]["fields"]
    assert "referrer_type" not in profile(portal_stack, referrer) or not profile(portal_stack,
                                                                                 referrer)["referrer_type"]


def test_type_changes_404_for_unknown_and_are_staff_only(portal_stack):
    missing = admin(portal_stack, "PATCH", "/admin/referrers/NO-SUCH", {"referrer_type": "customer", "note": NOTE})
    assert missing["statusCode"] == 404
    referrer = create(portal_stack, "cafe@example.com")
    viewer = admin(portal_stack, "PATCH", f"/admin/referrers/{referrer}",
                   {"referrer_type": "customer", "note": NOTE}, claims=VIEWER_CLAIMS)
    assert viewer["statusCode"] == 403


def test_creating_a_referrer_with_an_unknown_type_is_422(portal_stack):
    response = admin(portal_stack, "POST", "/admin/referrers", {"name": "Jo", "email": "jo@example.com",
                                                                "referrer_type": "vip"})
    assert response["statusCode"] == 422
    assert "referrer_type" in json_body(response)["error"]["fields"]


def put_program(stack, **changes):
    event = load_event("staff_admin/put_program.json")
    return stack.invoke(ADMIN, {**event, "body": json.dumps({**json_body(event), **changes})})


@pytest.mark.parametrize(("by_type", "field"), [
    ({"partner": {"tiers": PARTNER_TIERS}}, "by_type.partner"),
    ({"local_partner": {"tiers": []}}, "by_type.local_partner.tiers"),
    ({"local_partner": {"tiers": [{"name": "A", "min_rewarded": 1, "reward": {"flat_cents": 1}}]}},
     "by_type.local_partner.tiers"),
    ({"local_partner": {"tiers": PARTNER_TIERS, "bonus": 1}}, "by_type.local_partner.bonus"),
    ({"ambassador": {"tiers": [{"name": "A", "min_rewarded": 0, "reward": {"flat_cents": -1}}]}},
     "by_type.ambassador.tiers.0.reward.flat_cents"),
])
def test_invalid_type_rules_are_422_naming_the_field(stack, by_type, field):
    response = put_program(stack, by_type=by_type)
    assert response["statusCode"] == 422, response["body"]
    assert any(f.startswith(field) for f in json_body(response)["error"]["fields"]), json_body(response)
    assert stack.items() == []


def test_type_rules_are_saved_and_read_back(stack):
    saved = put_program(stack, by_type={"campus_helper": {"tiers": PARTNER_TIERS[:1]}})
    assert saved["statusCode"] == 200, saved["body"]
    current = json_body(admin(stack, "GET", "/admin/program"))
    assert current["rules"]["by_type"] == {"campus_helper": {"tiers": [
        {"name": "Partner", "min_rewarded": 0, "reward": {"flat_cents": 10_000, "percent_bp": None,
                                                          "cap_cents": None}}]}}
