"""GET /admin and /admin/assets/{name}: the staff console as static files, served without a token or data."""

from __future__ import annotations

import copy
import json
import re
from pathlib import Path

import pytest

from local.template import load_template
from tests.support.events import load_event

pytestmark = pytest.mark.integration

STATIC = Path(__file__).resolve().parents[2] / "functions" / "staff_page" / "static"


def asset_event(name: str, **headers: str) -> dict:
    event = copy.deepcopy(load_event("staff_page/get_page.json"))
    event["routeKey"] = "GET /admin/assets/{name}"
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/admin/assets/{name}"
    event["pathParameters"] = {"name": name}
    event["headers"].update(headers)
    return event


def test_staff_page_is_static_html_without_data(stack):
    seeded = {"pk": "LEAD#L-SECRET", "sk": "REFERRAL", "type": "referral", "masked_name": "Jo C."}
    stack.dynamodb.put_item(TableName=stack.table_name, Item={k: {"S": v} for k, v in seeded.items()})

    response = stack.invoke("StaffPageFunction", load_event("staff_page/get_page.json"))

    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert headers["Cache-Control"] == "no-store"
    page = response["body"]
    assert page == (STATIC / "index.html").read_text()
    assert page.startswith("<!doctype html>")
    assert '<script type="module" src="/admin/assets/app.js"></script>' in page
    assert "L-SECRET" not in page and "Jo C." not in page  # nothing from the table


def test_csp_allows_no_inline_script_and_only_this_origin_and_cognito(stack):
    headers = stack.invoke("StaffPageFunction", load_event("staff_page/get_page.json"))["headers"]
    csp = headers["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";"))
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'"  # no 'unsafe-inline', no hash of an inline script
    assert directives["style-src"] == "'self'"
    # The local stack's Cognito proxy is on the page's own origin (template parameter StaffAuthEndpoint).
    assert directives["connect-src"] == "'self' http://127.0.0.1:3000"
    assert directives["frame-ancestors"] == "'none'"
    assert directives["require-trusted-types-for"] == "'script'"
    page = (STATIC / "index.html").read_text()
    assert not re.search(r"<script(?![^>]*\bsrc=)", page), "an inline <script> would be blocked by the CSP"
    assert not re.search(r"\son[a-z]+=", page), "inline event handlers are inline script"
    assert "style=" not in page


def test_the_csp_names_aws_cognito_when_deployed():
    """On AWS the page signs in at the region's Cognito endpoint (the template's default)."""
    function = load_template(parameter_overrides={"StaffAuthEndpoint": ""}).functions["StaffPageFunction"]
    assert function.env["STAFF_AUTH_ENDPOINT"] == "https://cognito-idp.us-east-1.amazonaws.com/"
    assert function.env["STAFF_CLIENT_ID"]


def test_config_names_the_cognito_endpoint_client_and_idle_time_out(stack):
    response = stack.invoke("StaffPageFunction", asset_event("config.json"))
    assert response["statusCode"] == 200
    assert response["headers"]["Content-Type"] == "application/json"
    config = json.loads(response["body"])
    function = load_template().functions["StaffPageFunction"]
    assert config == {"auth_endpoint": "http://127.0.0.1:3000/_local/cognito-idp/",
                      "client_id": function.env["STAFF_CLIENT_ID"], "idle_minutes": 15, "currency": "AUD"}


@pytest.mark.parametrize("name", sorted(p.name for p in STATIC.iterdir() if p.suffix in {".js", ".css"}))
def test_every_file_is_served_with_its_type_and_an_etag(stack, name: str):
    response = stack.invoke("StaffPageFunction", asset_event(name))
    assert response["statusCode"] == 200
    assert response["body"] == (STATIC / name).read_text()
    expected = "text/javascript" if name.endswith(".js") else "text/css"
    assert response["headers"]["Content-Type"].startswith(expected)
    assert response["headers"]["X-Content-Type-Options"] == "nosniff"
    etag = response["headers"]["ETag"]
    again = stack.invoke("StaffPageFunction", asset_event(name, **{"if-none-match": etag}))
    assert (again["statusCode"], again["body"]) == (304, "")


@pytest.mark.parametrize("name", ["index.html", "..%2Fstaff_page.py", "staff_page.py", "nope.js"])
def test_anything_else_is_404(stack, name: str):
    assert stack.invoke("StaffPageFunction", asset_event(name))["statusCode"] == 404


def test_scripts_insert_data_as_text_and_log_nothing():
    for path in STATIC.glob("*.js"):
        source = path.read_text()
        assert "innerHTML" not in source and "insertAdjacentHTML" not in source, path.name
        assert "console." not in source, path.name
        assert "localStorage" not in source, path.name  # tokens: this tab only (sessionStorage)


def test_no_bearer_token_field_remains():
    page = (STATIC / "index.html").read_text()
    assert "token" not in page.lower().replace("one-time-code", "")


def test_staff_page_routes_have_no_authorizer():
    routes = load_template().functions["StaffPageFunction"].routes
    assert {(r.method, r.path, r.authorizer) for r in routes} == {
        ("GET", "/admin", None), ("GET", "/admin/assets/{name}", None)}
