"""Security headers on every answer of every route (issue 16, item 12): one place sets them
(referral_core.security_headers), and this walks every route of the template and the OpenAPI document."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from referral_core.security_headers import DEFAULT_CSP, merge_csp, secure
from tests.support.admin import staff_pool
from tests.support.aws import Stack
from tests.support.events import json_body
from tests.support.jobs import configure_webhook_secrets
from tests.support.portal import create_referrer, sign_in
from tests.support.providers import configure_providers
from tests.support.routes import Caller, all_routes
from tests.support.stripe_events import configure_stripe_secrets

pytestmark = pytest.mark.integration

ROUTES = all_routes()


def headers_of(response: dict[str, Any]) -> dict[str, str]:
    return {name.lower(): str(value) for name, value in (response.get("headers") or {}).items()}


def assert_secure(response: dict[str, Any], what: str) -> None:
    headers = headers_of(response)
    assert headers.get("strict-transport-security", "").startswith("max-age="), what
    assert int(headers["strict-transport-security"].split("=")[1].split(";")[0]) >= 31_536_000, what
    assert headers.get("x-content-type-options") == "nosniff", what
    assert headers.get("x-frame-options") == "DENY", what
    assert headers.get("referrer-policy"), what
    csp = headers.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (what, csp)
    assert "default-src 'none'" in csp, (what, csp)
    if not headers.get("content-type", "").startswith("text/html"):
        # Only pages (and /docs, which loads its own files) relax anything beyond the default
        assert csp == DEFAULT_CSP or what.startswith("GET /docs"), (what, csp)


@pytest.fixture
def api(portal_stack: Stack) -> Caller:
    configure_webhook_secrets(portal_stack)
    configure_providers(portal_stack)  # the job-system adapters read their secrets before anything else
    configure_stripe_secrets(portal_stack)
    staff_pool(portal_stack)  # /admin/staff* reads the staff pool
    referrer = create_referrer(portal_stack)
    session = sign_in(portal_stack, referrer["email"])
    return Caller(portal_stack, session, path_values={
        "code": referrer["code"], "referrer_id": referrer["referrer_id"], "asset": "docs.js",
        "kind": "referrals", "name": "app.js"})


def test_every_route_answers_with_the_security_headers_whatever_it_answers(api):
    kinds: set[str] = set()
    for method, path in ROUTES:
        body = "{}" if method in ("POST", "PUT", "PATCH") else None
        response = api.send(method, path, body)
        what = f"{method} {path} -> {response['statusCode']}"
        assert_secure(response, what)
        kinds.add(headers_of(response).get("content-type", "none").split(";")[0])
    # Every kind of answer was among them: pages, JSON, images, CSV, Swagger UI's script
    assert {"text/html", "application/json", "image/png", "image/svg+xml", "text/csv",
            "text/javascript"} <= kinds, kinds


def test_redirects_errors_and_every_page_carry_them_and_pages_keep_their_own_csp(api):
    code = api.path_values["code"]
    answers = {
        "redirect": api.send("GET", "/r/{code}"),
        "unknown code page": api.send("GET", "/r/NOSUCHCODE"),
        "HEAD redirect": api.send("HEAD", "/r/{code}"),
        "Quick Help": api.send("GET", "/quick-help"),
        "form post thank-you page": api.send("POST", "/leads", "name=Sam&postcode=2000",
                                             headers={"content-type": "application/x-www-form-urlencoded"}),
        "policy page": api.send("GET", "/policy", headers={"accept": "text/html"}),
        "dashboard": api.send("GET", "/dashboard"),
        "staff page": api.send("GET", "/admin"),
        "docs": api.send("GET", "/docs"),
        "unsigned webhook": api.send("POST", "/webhooks/jobs", "{}", headers={"webhook-signature": "v1,x"}),
        "staff without a token": api.stack.invoke("StaffAdminFunction", _unauthenticated_staff_event()),
        "unknown staff route": api.send("GET", "/admin/no-such-thing"),
    }
    assert answers["redirect"]["statusCode"] == 302 and code
    assert answers["unknown code page"]["statusCode"] == 404
    for what, response in answers.items():
        assert_secure(response, what)
    # Pages keep their stricter policy (script hashes) with the defaults merged in, not replaced by them
    dashboard = headers_of(answers["dashboard"])["content-security-policy"]
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", dashboard)
    assert headers_of(answers["staff page"])["content-security-policy"].count("script-src") == 1
    # The redirect keeps the Referrer-Policy it chose
    assert headers_of(answers["redirect"])["referrer-policy"] == "strict-origin-when-cross-origin"


def _unauthenticated_staff_event() -> dict[str, Any]:
    from tests.support.events import http_event

    return http_event("GET", "/admin/reviews", route="/admin/{proxy+}")


def test_docs_loads_nothing_from_another_host_and_has_a_strict_csp(api):
    page = api.send("GET", "/docs")
    assert page["statusCode"] == 200
    html = page["body"]
    csp = headers_of(page)["content-security-policy"]
    # No inline script, and every script, style and link is a relative URL on this origin
    assert re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", html) == []
    references = re.findall(r'\b(?:src|href)="([^"]*)"', html)
    assert references and all(not re.match(r"^(?:[a-z]+:)?//", ref, re.I) for ref in references), references
    directives = {part.split()[0]: part.split()[1:] for part in csp.split("; ")}
    assert "http" not in csp and "'unsafe-eval'" not in csp
    assert directives["script-src"] == directives["style-src"] == ["'self'"]  # nothing inline, no other host
    assert directives["default-src"] == ["'none'"] and directives["connect-src"] == ["'self'"]
    # Each file it references is served by the same function, from the package (not a CDN)
    for ref in references:
        if ref.startswith("docs/"):
            asset = api.stack.invoke("ApiDocsFunction", _asset_event(ref.removeprefix("docs/")))
            assert asset["statusCode"] == 200, ref
            assert_secure(asset, ref)
            assert "://" not in asset["body"] or ref != "docs/docs.js"
    assert api.stack.invoke("ApiDocsFunction", _asset_event("../openapi.json"))["statusCode"] == 404
    bundle = api.stack.invoke("ApiDocsFunction", _asset_event("swagger-ui-bundle.js"))
    assert "SwaggerUIBundle" in bundle["body"]
    assert json_body(api.send("GET", "/openapi.json"))["openapi"].startswith("3.")


def _asset_event(name: str) -> dict[str, Any]:
    from tests.support.events import http_event

    return http_event("GET", f"/docs/{name}", route="/docs/{asset}", path_params={"asset": name})


def test_the_default_csp_is_merged_into_a_page_policy_not_over_it():
    assert merge_csp(None) == DEFAULT_CSP
    assert merge_csp("script-src 'self'") == "script-src 'self'; default-src 'none'; frame-ancestors 'none'"
    own = "default-src 'self'; frame-ancestors 'self'"
    assert merge_csp(own) == own
    answer = secure({"statusCode": 200, "headers": {"content-security-policy": "img-src 'self'",
                                                    "Referrer-Policy": "origin"}})
    assert answer["headers"]["content-security-policy"].startswith("img-src 'self'; default-src 'none'")
    assert "Content-Security-Policy" not in answer["headers"]  # one header, whatever its spelling
    assert answer["headers"]["Referrer-Policy"] == "origin"
    assert json.dumps(secure({"not": "a proxy result"})) == '{"not": "a proxy result"}'
