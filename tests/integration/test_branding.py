"""Branding set once by staff (GET/PUT /admin/branding, admin only), the logo checked and served at
GET /branding/logo, and used by Quick Help with its link-preview tags; "Recommended by Jo S." only when the
referrer switched it on (PUT /me/preferences)."""

from __future__ import annotations

import base64
import html
import re
from urllib.parse import parse_qs, urlsplit

import pytest

from referral_core.services.branding import MAX_LOGO_BYTES, default_logo
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, http_event, json_body
from tests.support.links import redirect
from tests.support.portal import create_referrer, portal, portal_stack, sign_in

pytestmark = pytest.mark.integration
__all__ = ["portal_stack"]

ADMIN = "StaffAdminFunction"
CAPTURE = "CaptureLeadFunction"
PNG = default_logo()
SVG = (b'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 10 10"><rect width="10" height="10" '
       b'fill="#123456"/></svg>')


def branding_body(**changes):
    return {"business_name": "Fixit Computers", "tagline": "Laptop and phone repairs in Sydney",
            "colour": "#AA3300", "contact_line": "02 9999 0000 · fixit.example", "expected_version": 0, **changes}


def put_branding(stack, body, claims=ADMIN_CLAIMS):
    return stack.invoke(ADMIN, http_event("PUT", "/admin/branding", body=body, claims=claims,
                                          route="/admin/{proxy+}", path_params={"proxy": "branding"}))


def get_branding(stack):
    return json_body(stack.invoke(ADMIN, http_event("GET", "/admin/branding", claims=STAFF_CLAIMS,
                                                    route="/admin/{proxy+}", path_params={"proxy": "branding"})))


def logo(data: bytes, content_type: str = "image/png") -> dict:
    return {"content_type": content_type, "data_base64": base64.b64encode(data).decode()}


def get_logo(stack):
    return stack.invoke(CAPTURE, http_event("GET", "/branding/logo"))


def quick_help(stack, query=None):
    response = stack.invoke(CAPTURE, http_event("GET", "/quick-help", query=query))
    assert response["statusCode"] == 200
    return str(response["body"])


def meta(page: str, name: str) -> str:
    match = re.search(rf'<meta (?:property|name)="{re.escape(name)}" content="([^"]*)">', page)
    assert match, name
    return html.unescape(match.group(1))


def test_defaults_before_any_save_and_the_default_logo(stack):
    assert get_branding(stack) | {"updated_at": None} == {
        "business_name": "Quick Help", "tagline": "Ask a real technician for help", "colour": "#0a58ca",
        "contact_line": "", "logo_type": None, "logo_url": "/branding/logo", "version": 0,
        "updated_at": None, "updated_by": None}
    response = get_logo(stack)
    assert response["headers"]["Content-Type"] == "image/png"
    assert base64.b64decode(response["body"]) == PNG


def test_admin_sets_the_branding_once_versioned_and_audited(stack):
    response = put_branding(stack, branding_body(logo=logo(SVG, "image/svg+xml")))
    assert response["statusCode"] == 200, response
    saved = json_body(response)
    assert (saved["version"], saved["colour"], saved["logo_type"]) == (1, "#aa3300", "image/svg+xml")
    assert get_branding(stack)["business_name"] == "Fixit Computers"
    served = get_logo(stack)
    assert served["headers"]["Content-Type"] == "image/svg+xml"
    assert served["headers"]["Content-Security-Policy"].startswith("default-src 'none'")
    assert base64.b64decode(served["body"]) == SVG
    # A stale version is refused; keep_logo keeps the logo when none is sent
    assert put_branding(stack, branding_body(expected_version=0))["statusCode"] == 409
    again = json_body(put_branding(stack, branding_body(expected_version=1, tagline="Repairs")))
    assert (again["version"], again["logo_type"]) == (2, "image/svg+xml")
    removed = json_body(put_branding(stack, branding_body(expected_version=2, keep_logo=False)))
    assert removed["logo_type"] is None
    assert base64.b64decode(get_logo(stack)["body"]) == PNG
    audit = [i for i in stack.items_of_type("audit") if i["action"] == "branding.updated"]
    assert len(audit) == 3 and all("logo_base64" not in i["detail"] for i in audit)


def test_only_an_admin_may_change_the_branding(stack):
    assert put_branding(stack, branding_body(), claims=STAFF_CLAIMS)["statusCode"] == 403


@pytest.mark.parametrize(("upload", "problem"), [
    (logo(b"GIF89a...", "image/png"), "not image/png"),
    (logo(PNG, "image/jpeg"), "not image/jpeg"),
    (logo(b"\x89PNG\r\n\x1a\n" + b"0" * (MAX_LOGO_BYTES + 1)), "at most"),
    ({"content_type": "image/png", "data_base64": "not base64!!"}, "base64"),
    (logo(b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', "image/svg+xml"), "script"),
    (logo(b'<svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)"/>', "image/svg+xml"), "event handler"),
    (logo(b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/1999/xlink">'
          b'<image x:href="https://evil.example/x.png"/></svg>', "image/svg+xml"), "inside the file"),
    (logo(b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "b">]><svg xmlns="http://www.w3.org/2000/svg"/>',
          "image/svg+xml"), "DTD"),
    (logo(b'<html xmlns="http://www.w3.org/1999/xhtml"/>', "image/svg+xml"), "root element"),
])
def test_a_logo_is_type_and_size_checked(stack, upload, problem):
    response = put_branding(stack, branding_body(logo=upload))
    assert response["statusCode"] == 422
    assert problem in json_body(response)["error"]["fields"]["logo.data_base64"]


@pytest.mark.parametrize("body", [branding_body(colour="red"), branding_body(business_name=""),
                                  branding_body(logo={"content_type": "image/gif", "data_base64": "AAAA"})])
def test_bad_branding_fields_are_422(stack, body):
    assert put_branding(stack, body)["statusCode"] == 422


def test_quick_help_carries_the_branding_and_link_preview_tags(stack):
    put_branding(stack, branding_body())
    page = quick_help(stack)
    assert meta(page, "og:title") == meta(page, "twitter:title") == "Fixit Computers"
    assert meta(page, "og:description") == "Laptop and phone repairs in Sydney"
    assert meta(page, "og:image") == meta(page, "twitter:image") == "http://127.0.0.1:3000/branding/logo"
    assert meta(page, "twitter:card") == "summary_large_image"
    assert meta(page, "theme-color") == "#aa3300"
    assert '<img src="/branding/logo"' in page and "Fixit Computers</p>" in page


def test_recommended_by_only_when_the_referrer_switched_it_on(portal_stack):
    stack = portal_stack
    jo = create_referrer(stack, name="Joanne Smith")
    location = redirect(stack, jo["code"])["headers"]["Location"]
    query = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    # Off by default
    assert "Recommended by" not in quick_help(stack, query)
    # When Jo switches it on in the dashboard
    session = sign_in(stack, "jo@example.com")
    response = portal(stack, "PUT", "/me/preferences", session=session, body={"show_name_on_landing": True})
    assert response["statusCode"] == 200 and json_body(response) == {"show_name_on_landing": True}
    me = json_body(portal(stack, "GET", "/me", session=session))
    assert me["referrer"]["show_name_on_landing"] is True
    page = quick_help(stack, query)
    assert '<p class="recommended" id="recommended-by">Recommended by Joanne S.</p>' in page
    assert meta(page, "og:description").startswith("Recommended by Joanne S.")
    assert "Smith" not in page
    # Another code (or none) names nobody
    assert "Recommended by" not in quick_help(stack, {"ref": "NOPE123"})
    # And switched off again
    portal(stack, "PUT", "/me/preferences", session=session, body={"show_name_on_landing": False})
    assert "Recommended by" not in quick_help(stack, query)


def test_preferences_need_a_session_and_a_boolean(portal_stack):
    stack = portal_stack
    create_referrer(stack)
    assert portal(stack, "PUT", "/me/preferences", body={"show_name_on_landing": True})["statusCode"] == 401
    session = sign_in(stack, "jo@example.com")
    response = portal(stack, "PUT", "/me/preferences", session=session, body={"show_name_on_landing": "yes"})
    assert response["statusCode"] == 422


def test_the_signature_ends_the_text_and_the_html():
    from referral_core.models.branding import BrandingData
    from referral_core.services.branding import signed_by

    text, html_body = signed_by(BrandingData(business_name="Fixit & Co", contact_line="02 9999 0000"),
                                "Hello\n", "<html><body><p>Hello</p></body></html>")
    assert text == "Hello\n\n-- \nFixit & Co\n02 9999 0000\n"
    assert html_body.endswith("Fixit &amp; Co<br>02 9999 0000</p></body></html>")


def test_referrer_emails_are_signed_with_the_business_name_and_contact_line(portal_stack):
    stack = portal_stack
    put_branding(stack, branding_body())
    create_referrer(stack)
    portal(stack, "POST", "/auth/magic-link", body={"email": "jo@example.com"})
    [email] = [m for m in stack.sent_emails() if m["subject"] == "Your sign-in link"]
    assert "Fixit Computers<br>02 9999 0000 · fixit.example</p>" in email["body"]  # moto keeps the HTML part
