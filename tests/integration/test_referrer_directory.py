"""GET /admin/referrers (list and search, no Scan) and GET /admin/referrers/{id}, in-process on moto."""

from __future__ import annotations

import pytest

from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, VIEWER_CLAIMS, http_event, json_body

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"


def call(stack, method, path, *, body=None, query=None, claims=STAFF_CLAIMS):
    return stack.invoke(ADMIN, http_event(method, path, body=body, query=query, claims=claims))


def listed(stack, **query) -> dict:
    response = call(stack, "GET", "/admin/referrers", query=query or None)
    assert response["statusCode"] == 200, response["body"]
    return json_body(response)


@pytest.fixture
def people(stack) -> dict[str, dict]:
    made = {}
    for name, email in (("Jo Smith", "jo@example.com"), ("joanna Lee", "joanna@example.com"),
                        ("Bob  Brown", "Bob.Brown@example.com")):
        response = call(stack, "POST", "/admin/referrers", body={"name": name, "email": email})
        assert response["statusCode"] == 201, response["body"]
        made[name] = json_body(response)
    return made


@pytest.fixture
def no_scan(stack):
    from referral_core import deps

    stack.function(ADMIN)
    calls: list[str] = []
    deps.table().client.meta.events.register("before-call.dynamodb.Scan", lambda **_: calls.append("Scan"))
    yield
    assert calls == []


def test_everyone_by_name_a_to_z_with_status(stack, people, no_scan):
    page = listed(stack)
    assert [i["name"] for i in page["items"]] == ["Bob  Brown", "Jo Smith", "joanna Lee"]
    assert {i["status"] for i in page["items"]} == {"active"}
    assert page["items"][1]["personal_code"] == people["Jo Smith"]["code"]
    assert page["matched_by"] == "all" and page["next_cursor"] is None


def test_search_by_name_start_email_code_and_id(stack, people, no_scan):
    assert [i["name"] for i in listed(stack, q="JO")["items"]] == ["Jo Smith", "joanna Lee"]
    assert [i["name"] for i in listed(stack, q="jo  s")["items"]] == ["Jo Smith"]
    assert [i["name"] for i in listed(stack, q="bob brown")["items"]] == ["Bob  Brown"]
    by_email = listed(stack, q="BOB.brown@EXAMPLE.com")
    assert ([i["name"] for i in by_email["items"]], by_email["matched_by"]) == (["Bob  Brown"], "email")
    assert listed(stack, q="nobody@example.com")["items"] == []
    by_code = listed(stack, q=people["joanna Lee"]["code"].lower())
    assert (by_code["items"][0]["name"], by_code["matched_by"]) == ("joanna Lee", "code")
    by_id = listed(stack, q=people["Jo Smith"]["referrer_id"])
    assert (by_id["items"][0]["name"], by_id["matched_by"]) == ("Jo Smith", "id")
    assert listed(stack, q="zz")["items"] == []


def test_pages_follow_the_cursor_and_a_cursor_from_another_search_is_400(stack, people):
    first = listed(stack, limit="2")
    second = listed(stack, limit="2", cursor=first["next_cursor"])
    assert [i["name"] for i in first["items"] + second["items"]] == ["Bob  Brown", "Jo Smith", "joanna Lee"]
    jo = listed(stack, q="jo", limit="1")
    response = call(stack, "GET", "/admin/referrers", query={"q": "bob", "cursor": jo["next_cursor"]})
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["fields"] == {"cursor": "not a cursor from this list"}
    garbled = call(stack, "GET", "/admin/referrers", query={"cursor": "not-a-cursor"})
    assert garbled["statusCode"] == 400


def test_a_referrer_page_has_codes_balance_ledger_referrals_and_withdrawals(stack, people, no_scan):
    jo = people["Jo Smith"]
    response = call(stack, "GET", f"/admin/referrers/{jo['referrer_id']}", claims=VIEWER_CLAIMS)
    assert response["statusCode"] == 200, response["body"]
    body = json_body(response)
    assert body["referrer"] == {"referrer_id": jo["referrer_id"], "name": "Jo Smith", "email": "jo@example.com",
                                "status": "active", "referrer_type": None, "personal_code": jo["code"],
                                "created_at": jo["created_at"]}
    assert [c["code"] for c in body["share_codes"]] == [jo["code"]]
    assert body["balance"]["available_cents"] == 0
    assert (body["ledger"], body["referrals"], body["withdrawals"], body["more_referrals"]) == ([], [], [], False)
    assert "gsi2sk" not in body["profile"] and body["profile"]["link"] == jo["link"]
    unknown = call(stack, "GET", "/admin/referrers/NOPE")
    assert unknown["statusCode"] == 404


def test_an_erased_referrer_leaves_no_name_in_the_directory_key(stack, people):
    erased = call(stack, "POST", "/admin/people/erase", claims=ADMIN_CLAIMS,
                  body={"email": "jo@example.com", "note": "Request #9"})
    assert erased["statusCode"] == 200, erased["body"]
    profile = next(i for i in stack.items() if i.get("referrer_id") == people["Jo Smith"]["referrer_id"]
                   and i["sk"] == "PROFILE")
    assert profile["gsi2sk"] == f"[erased]#{people['Jo Smith']['referrer_id']}"
    assert [i["status"] for i in listed(stack)["items"]] == ["erased", "active", "active"]
    assert [i["name"] for i in listed(stack, q="jo")["items"]] == ["joanna Lee"]


def test_a_manual_adjustment_is_a_ledger_entry_with_its_reason_and_never_overdraws(stack, people):
    jo = people["Jo Smith"]["referrer_id"]
    path = f"/admin/referrers/{jo}/adjustments"

    # A bonus: one ledger entry, the balance, and the audit entry with the reason
    bonus = call(stack, "POST", path, body={"amount_cents": 1_500, "reason": "Thank-you bonus for 10 referrals"})
    assert bonus["statusCode"] == 201, bonus["body"]
    assert json_body(bonus)["available_cents"] == 1_500
    # A correction larger than what is available is refused and writes nothing
    before = stack.items()
    too_much = call(stack, "POST", path, body={"amount_cents": -2_000, "reason": "Duplicate bonus"})
    assert too_much["statusCode"] == 409
    assert json_body(too_much)["error"]["fields"] == {"amount_cents": "more than the available balance"}
    assert stack.items() == before
    fixed_body = {"amount_cents": -500, "reason": "Part of the bonus was a mistake", "adjustment_id": "fix-0001-abcd"}
    assert json_body(call(stack, "POST", path, body=fixed_body))["available_cents"] == 1_000
    before = stack.items()
    again = call(stack, "POST", path, body=fixed_body)  # the same adjustment sent again: nothing more
    assert again["statusCode"] == 409
    assert json_body(again)["error"]["fields"] == {"adjustment_id": "already posted"}
    assert stack.items() == before

    page = json_body(call(stack, "GET", f"/admin/referrers/{jo}"))
    assert page["balance"]["available_cents"] == 1_000
    assert sorted(e["amount_cents"] for e in page["ledger"]) == [-500, 1_500]
    assert {e["kind"] for e in page["ledger"]} == {"adjustment"}
    assert {e["detail"]["reason"] for e in page["ledger"]} == {"Thank-you bonus for 10 referrals",
                                                               "Part of the bonus was a mistake"}
    audits = [i for i in stack.items() if i["pk"] == f"REFERRER#{jo}" and i.get("action") == "ledger.adjusted"]
    assert len(audits) == 2 and {a["actor"] for a in audits} == {"staff:staff@example.com"}


@pytest.mark.parametrize(("body", "field"), [({"amount_cents": 0, "reason": "None at all"}, "amount_cents"),
                                             ({"amount_cents": 100}, "reason"),
                                             ({"amount_cents": 100, "reason": ""}, "reason"),
                                             ({"amount_cents": "ten", "reason": "Bonus"}, "amount_cents")])
def test_an_adjustment_needs_an_amount_and_a_reason(stack, people, body, field):
    before = stack.items()
    response = call(stack, "POST", f"/admin/referrers/{people['Jo Smith']['referrer_id']}/adjustments", body=body)
    assert response["statusCode"] == 422
    assert field in json_body(response)["error"]["fields"]
    assert stack.items() == before


def test_adjustments_are_staff_work_and_need_a_known_referrer(stack, people):
    path = f"/admin/referrers/{people['Jo Smith']['referrer_id']}/adjustments"
    assert call(stack, "POST", path, body={"amount_cents": 100, "reason": "Bonus"},
                claims=VIEWER_CLAIMS)["statusCode"] == 403
    assert call(stack, "POST", "/admin/referrers/NOPE/adjustments",
                body={"amount_cents": 100, "reason": "Bonus"})["statusCode"] == 404
