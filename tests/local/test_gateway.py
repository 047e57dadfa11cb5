"""HTTP API emulation: route matching, the v2.0 event, result mapping, the JWT authorizer."""

from __future__ import annotations

import base64
import json
import time
from pathlib import Path
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from werkzeug.test import EnvironBuilder
from werkzeug.wrappers import Request

from local.gateway import JwtVerifier, Router, Unauthorized, build_event, map_result, stringify_claim
from local.template import HttpRoute, JwtAuthorizer

pytestmark = pytest.mark.unit


def route(method: str, path: str, function: str = "Fn", authorizer: str | None = None) -> HttpRoute:
    return HttpRoute(function, f"{method}{path}", method, path, authorizer)


ROUTER = Router(
    [
        route("GET", "/r/{code}", "Redirect"),
        route("HEAD", "/r/{code}", "Redirect"),
        route("GET", "/r/special", "Special"),
        route("ANY", "/admin/{proxy+}", "Admin"),
        route("GET", "/admin/reviews", "Reviews"),
        route("POST", "/admin/{proxy+}", "AdminPost"),
        route("GET", "/me/share-codes/{code}/qr.png", "Qr"),
        route("GET", "/", "Root"),
    ]
)


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/r/abc", "Redirect", {"code": "abc"}),
        ("HEAD", "/r/abc", "Redirect", {"code": "abc"}),
        ("GET", "/r/special", "Special", {}),  # a literal segment beats a parameter
        ("GET", "/admin/reviews", "Reviews", {}),  # exact beats greedy
        ("GET", "/admin/referrals/1/decisions", "Admin", {"proxy": "referrals/1/decisions"}),
        ("POST", "/admin/referrers", "AdminPost", {"proxy": "referrers"}),  # a method beats ANY
        ("DELETE", "/admin/x", "Admin", {"proxy": "x"}),
        ("GET", "/me/share-codes/X1/qr.png", "Qr", {"code": "X1"}),
        ("GET", "/", "Root", {}),
    ],
)
def test_most_specific_route_wins(method: str, path: str, function: str, params: dict[str, str]) -> None:
    found = ROUTER.match(method, path)
    assert found is not None
    assert (found[0].function_id, found[1]) == (function, params)


@pytest.mark.parametrize(("method", "path"), [("POST", "/r/abc"), ("GET", "/r"), ("GET", "/r/a/b"), ("GET", "/x")])
def test_no_route(method: str, path: str) -> None:
    assert ROUTER.match(method, path) is None


def make_request(method: str, url: str, **kwargs: Any) -> Request:
    return Request(EnvironBuilder(method=method, path=url, base_url="http://127.0.0.1:3000", **kwargs).get_environ())


def test_v2_event_shape() -> None:
    request = make_request(
        "POST",
        "/r/abc?src=qr&p=van&p=door",
        headers={"User-Agent": "pytest", "Cookie": "a=1; b=2", "X-Custom": "v"},
        data=json.dumps({"x": 1}),
        content_type="application/json",
    )
    event = build_event(request, route("POST", "/r/{code}"), {"code": "abc"}, request_id="rid")
    assert event["version"] == "2.0"
    assert event["routeKey"] == "POST /r/{code}"
    assert event["rawPath"] == "/r/abc"
    assert event["rawQueryString"] == "src=qr&p=van&p=door"
    assert event["queryStringParameters"] == {"src": "qr", "p": "van,door"}
    assert event["pathParameters"] == {"code": "abc"}
    assert event["cookies"] == ["a=1", "b=2"]
    assert "cookie" not in event["headers"]
    assert event["headers"]["x-custom"] == "v"
    assert event["headers"]["user-agent"] == "pytest"
    assert event["body"] == '{"x": 1}'
    assert event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["http"] == {
        "method": "POST",
        "path": "/r/abc",
        "protocol": "HTTP/1.1",
        "sourceIp": "127.0.0.1",
        "userAgent": "pytest",
    }
    assert ctx["requestId"] == "rid"
    assert ctx["routeKey"] == "POST /r/{code}"
    assert ctx["stage"] == "$default"
    assert ctx["domainName"] == "127.0.0.1"
    assert abs(ctx["timeEpoch"] - time.time() * 1000) < 5000
    assert "authorizer" not in ctx


def test_v2_event_without_query_body_or_params() -> None:
    event = build_event(make_request("GET", "/"), route("GET", "/"), {})
    assert "queryStringParameters" not in event
    assert "pathParameters" not in event
    assert "cookies" not in event
    assert "body" not in event
    assert event["isBase64Encoded"] is False


def test_binary_body_is_base64() -> None:
    request = make_request("POST", "/up", data=b"\x89PNG\x00", content_type="image/png")
    event = build_event(request, route("POST", "/up"), {})
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == b"\x89PNG\x00"


def test_result_mapping() -> None:
    response = map_result(
        {
            "statusCode": 302,
            "headers": {"Location": "/x"},
            "cookies": ["a=1", "b=2"],
            "body": "",
        }
    )
    assert response.status_code == 302
    assert response.headers["location"] == "/x"
    assert response.headers.getlist("set-cookie") == ["a=1", "b=2"]
    binary = map_result({"statusCode": 200, "isBase64Encoded": True, "body": base64.b64encode(b"\x00\x01").decode()})
    assert binary.get_data() == b"\x00\x01"


@pytest.mark.parametrize(
    ("result", "body"),
    [({"hello": "world"}, b'{"hello": "world"}'), ("plain", b"plain"), (None, b"null")],
)
def test_bare_results_are_200_json(result: Any, body: bytes) -> None:
    response = map_result(result)
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.get_data() == body


def test_claims_are_stringified_like_api_gateway() -> None:
    assert stringify_claim(["staff", "other"]) == "[staff other]"
    assert stringify_claim(1700000000) == "1700000000"
    assert stringify_claim(True) == "true"
    assert stringify_claim("x") == "x"


# ------------------------------------------------------------------ JWT verifier (own key pair, JWKS file)

ISSUER = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_test"


@pytest.fixture(scope="module")
def signing_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


@pytest.fixture
def verifier(signing_key: rsa.RSAPrivateKey, tmp_path: Path) -> JwtVerifier:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(signing_key.public_key()))
    jwks = tmp_path / "jwks.json"
    jwks.write_text(json.dumps({"keys": [{**jwk, "kid": "k1", "alg": "RS256", "use": "sig"}]}))
    authorizer = JwtAuthorizer("Jwt", ISSUER, ("client-1",))
    return JwtVerifier(authorizer, jwks.as_uri())


def token(key: rsa.RSAPrivateKey, kid: str = "k1", **overrides: Any) -> str:
    claims = {"iss": ISSUER, "aud": "client-1", "exp": int(time.time()) + 300, "cognito:groups": ["staff"]}
    claims.update(overrides)
    return jwt.encode({k: v for k, v in claims.items() if v is not None}, key, algorithm="RS256", headers={"kid": kid})


def test_valid_token(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    claims = verifier.verify(token(signing_key))
    assert claims["cognito:groups"] == ["staff"]
    access = token(signing_key, aud=None, client_id="client-1", token_use="access")
    assert verifier.verify(access)["client_id"] == "client-1"


@pytest.mark.parametrize(
    ("overrides", "reason"),
    [
        ({"exp": int(time.time()) - 10}, "expired"),
        ({"aud": "other-client"}, "audience"),
        ({"iss": "https://cognito-idp.us-east-1.amazonaws.com/other"}, "issuer"),
        ({"exp": None}, "exp"),
    ],
)
def test_rejected_tokens(
    verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey, overrides: dict[str, Any], reason: str
) -> None:
    with pytest.raises(Unauthorized, match=reason):
        verifier.verify(token(signing_key, **overrides))


def test_bad_signature_and_unknown_key(verifier: JwtVerifier, signing_key: rsa.RSAPrivateKey) -> None:
    other = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(Unauthorized, match="Signature"):
        verifier.verify(token(other))
    with pytest.raises(Unauthorized, match="unknown signing key"):
        verifier.verify(token(signing_key, kid="nope"))
    with pytest.raises(Unauthorized):
        verifier.verify("not.a.jwt")


def test_token_from_header(verifier: JwtVerifier) -> None:
    assert verifier.token_from({"authorization": "Bearer abc"}) == "abc"
    assert verifier.token_from({"authorization": "abc"}) == "abc"
    with pytest.raises(Unauthorized):
        verifier.token_from({})
