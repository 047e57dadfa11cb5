"""Share codes through the staff API on moto: create, validate, disable/enable, QR images, usage review."""

from __future__ import annotations

import base64
import threading
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from referral_core.dal.dynamo import Table
from referral_core.dal.links import LinkRepository
from referral_core.errors import Conflict
from referral_core.models.program import ShareCodeRules
from referral_core.models.share_codes import CreateShareCodeRequest
from referral_core.services.share_codes import create_share_code
from tests.support.events import json_body, load_event
from tests.support.links import ADMIN, admin, create_code, new_referrer, redirect

pytestmark = pytest.mark.integration

ALLOWED = "www.example.com,shop.example.com:8443"


@pytest.fixture
def links(stack):
    # These tests change codes between redirects: the redirect must not serve them from its cache.
    for name, value in {"ALLOWED_REDIRECT_HOSTS": ALLOWED, "CODE_CACHE_SECONDS": "0"}.items():
        stack.env[name] = value
        stack.monkeypatch.setenv(name, value)
    return stack


def test_staff_create_a_custom_code_with_link_qr_and_honest_share_message(links):
    referrer_id = new_referrer(links)

    response = create_code(links, referrer_id)  # events/staff_admin/post_share_code.json: "van-jo"

    assert response["statusCode"] == 201
    body = json_body(response)
    assert body["code"] == "VAN-JO"  # stored upper-case
    assert body["url"] == "http://127.0.0.1:3000/r/VAN-JO"
    assert body["qr"] == {"png": "http://127.0.0.1:3000/admin/share-codes/VAN-JO/qr.png",
                          "svg": "http://127.0.0.1:3000/admin/share-codes/VAN-JO/qr.svg"}
    assert body["qr_target"] == "http://127.0.0.1:3000/r/VAN-JO?src=qr&p=van"
    assert body["url"] in body["share_message"]
    assert "not guaranteed" in body["share_message"]
    assert (body["zones"], body["max_uses"], body["placement"], body["status"]) == (
        ["2000", "21*", "2200-2234"], 500, "van", "active")
    stored = next(i for i in links.items_of_type("share_code") if i["code"] == "VAN-JO")
    assert stored["gsi1pk"] == f"REFERRER#{referrer_id}#CODES"
    assert stored["created_by"] == "staff:staff@example.com"
    assert any(a["action"] == "share_code.created" for a in links.items_of_type("audit"))


def test_generated_code_is_readable(links):
    body = json_body(create_code(links, new_referrer(links), code=None, placement=None, zones=[]))
    assert len(body["code"]) == 7
    assert not set(body["code"]) & set("01OILU")
    assert body["qr_target"].endswith(f"/r/{body['code']}?src=qr")


def test_a_taken_code_is_409_in_any_case(links):
    referrer_id = new_referrer(links)
    assert create_code(links, referrer_id, code="Flyer-22")["statusCode"] == 201
    response = create_code(links, referrer_id, code="FLYER-22")
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["fields"] == {"code": "already taken"}


def test_custom_code_race_one_wins_one_conflicts(links):
    # Given two requests for the same new code arriving together (no read-then-write: one conditional put)
    referrer_id = new_referrer(links)
    request = CreateShareCodeRequest(code="RACE-1", visibility="public")
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def attempt() -> None:
        repo = LinkRepository(Table(links.table_name))
        barrier.wait()
        try:
            create_share_code(repo, referrer_id, request, origin="https://refer.example.com", actor="t",
                              allowed_hosts=(), qr_prefix="/admin/share-codes", rules=ShareCodeRules())
            outcomes.append("201")
        except Conflict:
            outcomes.append("409")

    threads = [threading.Thread(target=attempt) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["201", "409"]
    assert [i["code"] for i in links.items_of_type("share_code")].count("RACE-1") == 1


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "ab"}, "code"),
        ({"code": "a" * 21}, "code"),
        ({"code": "no spaces"}, "code"),
        ({"code": "-edge"}, "code"),
        ({"code": "émoji"}, "code"),
        ({"code": "admin"}, "code"),
        ({"code": "Quick-Help"}, "code"),
        ({"visibility": "secret"}, "visibility"),
        ({"zones": ["not a zone!"]}, "zones"),
        ({"zones": ["2999-2000"]}, "zones"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "expires_at"),
        ({"expires_at": "2030-01-01T00:00:00"}, "expires_at"),  # no time zone
        ({"max_uses": 0}, "max_uses"),
        ({"placement": "moon"}, "placement"),
        ({"role": "admin"}, "role"),
    ],
)
def test_bad_fields_are_422_naming_the_field(links, overrides, field):
    response = create_code(links, new_referrer(links), **overrides)
    assert response["statusCode"] == 422, response
    assert field in json_body(response)["error"]["fields"]
    assert [i for i in links.items_of_type("share_code") if not i.get("personal")] == []


def test_unknown_referrer_is_404(links):
    response = create_code(links, "NOSUCHREFERRER")
    assert response["statusCode"] == 404
    assert [i for i in links.items_of_type("share_code")] == []


@pytest.mark.parametrize(
    "landing",
    [
        "//evil.example/x",
        "https://evil.example/",
        "https://www.example.com@evil.example/",
        "https://www.example.com%40evil.example/",
        "https://evil.example\\@www.example.com/",
        "https://evil.example#@www.example.com",
        "https://www.example.com.evil.example/",
        "javascript:alert(1)//https://www.example.com",
        "%68ttps://evil.example",
        "https:%2F%2Fevil.example",
        "https:/\\evil.example",
        "https:///evil.example",
        "data:text/html,<script>alert(1)</script>",
        "http://www.example.com/",  # https only
        "https://www.example.com:8443/",  # non-default port not listed for this host
        "https://shop.example.com/",  # ... and this host is listed only with its port
        "https://www.example.com:99999/",
        "https://www.exa mple.com/",
        "https://xn--www.example.com/",
        "https://wWw.example.com\t.evil.example/",
    ],
)
def test_landing_outside_the_allowed_hosts_is_422(links, landing):
    response = create_code(links, new_referrer(links), landing_url=landing)
    assert response["statusCode"] == 422, landing
    assert "landing_url" in json_body(response)["error"]["fields"]


@pytest.mark.parametrize(
    "landing",
    ["https://www.example.com/welcome?utm_source=referral", "https://WWW.example.com:443/x",
     "https://shop.example.com:8443/deal", "http://127.0.0.1:3000/quick-help"],
)
def test_allowed_landing_is_where_the_link_goes(links, landing):
    body = json_body(create_code(links, new_referrer(links), landing_url=landing))
    location = redirect(links, body["code"])["headers"]["Location"]
    target, sent = urlsplit(landing), urlsplit(location)
    assert (sent.scheme, sent.netloc, sent.path) == (target.scheme, target.netloc, target.path)
    query = parse_qs(sent.query)
    assert query["ref"] == [body["code"]]
    assert len(query["cid"][0]) == 24


def test_disable_and_enable(links):
    code = json_body(create_code(links, new_referrer(links)))["code"]

    disabled = admin(links, "POST", f"/admin/share-codes/{code.lower()}/disable")
    assert disabled["statusCode"] == 200
    assert json_body(disabled)["status"] == "disabled"
    assert redirect(links, code)["statusCode"] == 404

    enabled = admin(links, "POST", f"/admin/share-codes/{code}/enable")
    assert json_body(enabled)["status"] == "active"
    assert redirect(links, code)["statusCode"] == 302
    actions = sorted(a["action"] for a in links.items_of_type("audit") if a["pk"] == f"CODE#{code}")
    assert actions == ["share_code.active", "share_code.created", "share_code.disabled"]
    assert admin(links, "POST", "/admin/share-codes/NOPE99/disable")["statusCode"] == 404


def test_qr_png_is_a_base64_png_with_cache_headers(links):
    create_code(links, new_referrer(links))
    response = links.invoke(ADMIN, load_event("staff_admin/get_share_code_qr_png.json"))

    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "image/png"
    assert response["headers"]["Cache-Control"] == "private, max-age=86400"
    assert response["isBase64Encoded"] is True
    png = base64.b64decode(response["body"])
    assert png[:8] == b"\x89PNG\r\n\x1a\n"


def test_qr_svg_and_bounds(links):
    code = json_body(create_code(links, new_referrer(links)))["code"]
    svg = admin(links, "GET", f"/admin/share-codes/{code}/qr.svg", query={"size": "4", "placement": "flyer"})
    assert svg["statusCode"] == 200
    assert svg["headers"]["Content-Type"] == "image/svg+xml"
    assert svg["body"].lstrip().startswith(("<?xml", "<svg"))
    assert svg["isBase64Encoded"] is False

    for query, field in [({"size": "41"}, "size"), ({"border": "0"}, "border"), ({"placement": "moon"},
                                                                                 "placement")]:
        response = admin(links, "GET", f"/admin/share-codes/{code}/qr.png", query=query)
        assert response["statusCode"] == 422
        assert field in json_body(response)["error"]["fields"]
    assert admin(links, "GET", "/admin/share-codes/NOPE99/qr.png")["statusCode"] == 404


def test_expired_and_used_up_codes_are_404(links):
    referrer_id = new_referrer(links)
    soon = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    expiring = json_body(create_code(links, referrer_id, code="SOON-1", expires_at=soon))["code"]
    limited = json_body(create_code(links, referrer_id, code="LIMIT-1", max_uses=2))["code"]
    assert redirect(links, expiring)["statusCode"] == 302

    table = Table(links.table_name)
    table.update(f"CODE#{expiring}", "CODE", "SET expires_at = :past",
                 values={":past": "2026-01-01T00:00:00Z"})
    table.update(f"CODE#{limited}", "CODE", "SET uses = :n", values={":n": 2})

    for code in (expiring, limited):
        response = redirect(links, code)
        assert response["statusCode"] == 404
        assert "Quick Help" in response["body"]
        assert response["headers"]["Cache-Control"] == "private, no-store"


def test_usage_review_per_placement_from_counters(links):
    code = json_body(create_code(links, new_referrer(links)))["code"]
    repo = LinkRepository(Table(links.table_name))
    repo.increment_stats(code, "van", clicks_qr=3, clicks_link=1, leads=2, jobs=1)
    repo.increment_stats(code, "flyer", clicks_qr=5, rewarded=1)
    repo.increment_stats(code, "van", leads=1)

    response = admin(links, "GET", f"/admin/share-codes/{code.lower()}")

    assert response["statusCode"] == 200
    review = json_body(response)
    by_placement = {p["placement"]: p for p in review["placements"]}
    assert by_placement["van"] == {"placement": "van", "clicks_link": 1, "clicks_qr": 3, "leads": 3,
                                   "jobs": 1, "paid": 0, "rewarded": 0}
    assert review["totals"]["clicks_qr"] == 8
    assert review["totals"]["rewarded"] == 1
    assert review["share_code"]["code"] == code
    assert admin(links, "GET", "/admin/share-codes/NOPE99")["statusCode"] == 404
