"""First slice in-process on moto: staff create a referrer -> /r/{code} redirects -> welcome email."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.events import (
    NO_ROLE_CLAIMS,
    STAFF_CLAIMS,
    http_event,
    json_body,
    load_event,
    stream_event,
    stream_record,
)

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"
REDIRECT = "LinkRedirectFunction"
NOTIFY = "notify_status"


def create(stack, body, claims=STAFF_CLAIMS):
    return stack.invoke(ADMIN, http_event("POST", "/admin/referrers", body=body, claims=claims))


def redirect(stack, code, method="GET", **kwargs):
    return stack.invoke(REDIRECT, http_event(method, f"/r/{code}", route="/r/{code}",
                                             path_params={"code": code}, **kwargs))


def test_staff_creates_referrer_with_code_link_balance_and_audit(stack):
    # When staff create a referrer
    response = create(stack, {"name": "Jo Smith", "email": "Jo.Smith@Example.com", "phone": "0412 345 678"})

    # Then the answer carries a readable code and its short link
    assert response["statusCode"] == 201
    body = json_body(response)
    assert body["link"] == f"http://127.0.0.1:3000/r/{body['code']}"
    assert len(body["code"]) == 7 and not set(body["code"]) & set("01OIL")
    # and the profile, code, zero balance, email guard and audit entry were written together
    kinds = sorted(i["type"] for i in stack.items())
    assert kinds == ["audit", "balance", "referrer", "share_code", "unique"]
    profile = stack.items_of_type("referrer")[0]
    assert profile["phone"] == "+61412345678"
    assert stack.items_of_type("audit")[0]["actor"] == "staff:staff@example.com"


def test_same_email_twice_is_a_conflict_and_writes_nothing(stack):
    assert create(stack, {"name": "Jo", "email": "jo@example.com"})["statusCode"] == 201
    before = len(stack.items())
    response = create(stack, {"name": "Jo again", "email": "JO@example.com"})
    assert response["statusCode"] == 409
    assert json_body(response)["error"]["fields"] == {"email": "already registered"}
    assert len(stack.items()) == before


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"email": "a@example.com"}, "name"),
        ({"name": "A"}, "email"),
        ({"name": "A", "email": "not-an-email"}, "email"),
        ({"name": "A", "email": "a@example.com", "phone": "12"}, "phone"),
        ({"name": "", "email": "a@example.com"}, "name"),
        ({"name": "A", "email": "a@example.com", "role": "admin"}, "role"),
    ],
)
def test_bad_body_is_422_naming_the_field(stack, body, field):
    response = create(stack, body)
    assert response["statusCode"] == 422
    assert field in json_body(response)["error"]["fields"]
    assert stack.items() == []


def test_invalid_json_is_400(stack):
    event = http_event("POST", "/admin/referrers", raw_body="{nope", claims=STAFF_CLAIMS,
                       headers={"content-type": "application/json"})
    response = stack.invoke(ADMIN, event)
    assert response["statusCode"] == 400
    assert json_body(response)["error"]["code"] == "malformed_request"


def test_non_staff_token_is_403_and_no_claims_is_401(stack):
    assert create(stack, {"name": "A", "email": "a@example.com"}, claims=NO_ROLE_CLAIMS)["statusCode"] == 403
    event = http_event("POST", "/admin/referrers", body={"name": "A", "email": "a@example.com"})
    assert stack.invoke(ADMIN, event)["statusCode"] == 401
    assert stack.items() == []


def test_redirect_sends_to_landing_with_ref_and_cid_and_counts_once_per_hour(stack):
    code = json_body(create(stack, {"name": "Jo", "email": "jo@example.com"}))["code"]

    first = redirect(stack, code.lower())  # codes are case-insensitive
    assert first["statusCode"] == 302
    location = urlsplit(first["headers"]["Location"])
    assert (location.scheme, location.netloc, location.path) == ("http", "127.0.0.1:3000", "/quick-help")
    query = parse_qs(location.query)
    assert query["ref"] == [code] and len(query["cid"][0]) == 24
    assert first["headers"]["Cache-Control"] == "private, no-store"
    assert "noindex" in first["headers"]["X-Robots-Tag"]

    second = redirect(stack, code)
    assert second["headers"]["Location"] == first["headers"]["Location"]
    clicks = stack.items_of_type("click")
    assert len(clicks) == 1
    assert "203.0.113.7" not in str(clicks[0])  # never the raw IP


def test_head_and_link_previews_redirect_without_counting(stack):
    code = json_body(create(stack, {"name": "Jo", "email": "jo@example.com"}))["code"]
    assert redirect(stack, code, method="HEAD")["statusCode"] == 302
    preview = redirect(stack, code, user_agent="WhatsApp/2.23.20.0 A")
    assert preview["statusCode"] == 302
    assert stack.items_of_type("click") == []


@pytest.mark.parametrize("code", ["NOPE123", "x", "../../etc", "%2F%2Fevil.com"])
def test_unknown_or_malformed_code_is_a_friendly_404(stack, code):
    response = redirect(stack, code)
    assert response["statusCode"] == 404
    assert response["headers"]["Content-Type"].startswith("text/html")
    assert 'href="http://127.0.0.1:3000/quick-help"' in response["body"]
    assert stack.items_of_type("click") == []


def test_referrer_insert_sends_one_welcome_email_even_when_replayed(stack):
    create(stack, {"name": "Jo Smith", "email": "jo@example.com"})
    profile = stack.items_of_type("referrer")[0]
    event = stream_event(stream_record("INSERT", new=profile))

    assert stack.consume(NOTIFY, event) == {"batchItemFailures": []}
    assert stack.consume(NOTIFY, event) == {"batchItemFailures": []}  # replay: no second email

    emails = stack.sent_emails()
    assert len(emails) == 1
    assert emails[0]["to"] == ["jo@example.com"]
    assert profile["link"] in emails[0]["body"]
    assert "not guaranteed" in emails[0]["body"]


def test_a_poison_record_is_reported_alone(stack):
    create(stack, {"name": "Jo", "email": "jo@example.com"})
    good = stack.items_of_type("referrer")[0]
    poison = {**good, "referrer_id": "r2", "pk": "REFERRER#r2"}
    del poison["link"]  # cannot be rendered
    event = stream_event(stream_record("INSERT", new=good, sequence="1"),
                         stream_record("INSERT", new=poison, sequence="2"))
    assert stack.consume(NOTIFY, event) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert len(stack.sent_emails()) == 1


def _with_code(event, code):
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/r/{code}"
    event["pathParameters"] = {"code": code}
    return event


def test_the_sample_events_drive_each_function(stack):
    # The files in events/ are what `sam local invoke -e` uses; they must work as they are.
    created = stack.invoke(ADMIN, load_event("staff_admin/create_referrer.json"))
    assert created["statusCode"] == 201
    code = json_body(created)["code"]

    assert stack.invoke(REDIRECT, _with_code(load_event("link_redirect/get_code.json"), code))["statusCode"] == 302
    scan = stack.invoke(REDIRECT, _with_code(load_event("link_redirect/qr_scan.json"), code))
    assert scan["statusCode"] == 302
    preview = stack.invoke(REDIRECT, _with_code(load_event("link_redirect/head_preview.json"), code))
    assert preview["statusCode"] == 302
    [click] = stack.items_of_type("click")  # same visitor: one click; the HEAD preview is not counted
    assert click["code"] == code

    assert stack.consume(NOTIFY, load_event("notify_status/referrer_inserted.json")) == {"batchItemFailures": []}
    assert stack.sent_emails()[0]["to"] == ["jo@example.com"]

    docs = stack.invoke("ApiDocsFunction", load_event("api_docs/get_openapi.json"))
    assert docs["statusCode"] == 200
    assert "/r/{code}" in json_body(docs)["paths"]
