"""API Gateway HTTP API emulation: routes from the template's HttpApi events, payload format 2.0.

Requests are matched like HTTP APIs do (exact paths before `{param}` paths before `{proxy+}`; a method
route before ANY), turned into a v2.0 event, checked by the route's JWT authorizer
(Cognito on moto, RS256 against the pool's JWKS) and handed to the function; the result is mapped back
to HTTP. `/_local/*` routes expose the local tools (outbox, tick, streams, health, info, iam) and Cognito's
public sign-in API (`POST /_local/cognito-idp`, what the staff page calls instead of cognito-idp.<region>).
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import logging
import re
import secrets
import threading
import time
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import jwt
from werkzeug.datastructures import Headers
from werkzeug.serving import BaseWSGIServer, make_server
from werkzeug.wrappers import Request, Response

from local.runtime import InvokeResult
from local.template import ACCOUNT_ID, COGNITO_PROXY_PATH, HttpApi, HttpRoute, JwtAuthorizer

log = logging.getLogger("local.gateway")

MAX_BODY_BYTES = 10 * 1024 * 1024
TEXT_TYPES = re.compile(
    r"^(text/.*|application/(json|.*\+json|xml|.*\+xml|javascript|x-www-form-urlencoded|graphql|yaml))$"
)


# --------------------------------------------------------------------------------------------- routing


@dataclass(frozen=True)
class CompiledRoute:
    route: HttpRoute
    regex: re.Pattern[str]
    params: tuple[str, ...]
    rank: tuple[int, ...]


def _compile(route: HttpRoute) -> CompiledRoute:
    pattern, params, rank = "", [], []
    for segment in route.path.strip("/").split("/"):
        if segment.startswith("{") and segment.endswith("+}"):
            params.append(segment[1:-2])
            pattern += f"/(?P<p{len(params) - 1}>.+)"
            rank.append(2)
        elif segment.startswith("{") and segment.endswith("}"):
            params.append(segment[1:-1])
            pattern += f"/(?P<p{len(params) - 1}>[^/]+)"
            rank.append(1)
        else:
            pattern += "/" + re.escape(segment) if segment else "/"
            rank.append(0)
    return CompiledRoute(route, re.compile("^" + (pattern or "/") + "/?$"), tuple(params), tuple(rank))


class Router:
    """Finds the route for a method and path; the most specific one wins."""

    def __init__(self, routes: Iterable[HttpRoute]) -> None:
        self.routes = [_compile(r) for r in routes]

    def match(self, method: str, path: str) -> tuple[HttpRoute, dict[str, str]] | None:
        candidates = []
        for compiled in self.routes:
            route = compiled.route
            if route.method not in (method, "ANY"):
                continue
            found = compiled.regex.match(path)
            if found is None:
                continue
            params = {name: found.group(f"p{i}") for i, name in enumerate(compiled.params)}
            candidates.append((compiled.rank, route.method == "ANY", route, params))
        if not candidates:
            return None
        candidates.sort(key=lambda c: (c[0], c[1]))
        _, _, route, params = candidates[0]
        return route, params


# --------------------------------------------------------------------------------------------- JWT


class Unauthorized(Exception):
    """The JWT authorizer rejected the request (401 without invoking the function)."""


def stringify_claim(value: Any) -> str:
    """API Gateway passes every JWT claim as a string: lists as `[a b]`, booleans lower-case."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return "[" + " ".join(stringify_claim(v) for v in value) + "]"
    return str(value)


class JwtVerifier:
    """Verifies bearer tokens for one JWT authorizer against the issuer's JWKS (fetched from moto)."""

    def __init__(self, authorizer: JwtAuthorizer, jwks_url: str) -> None:
        self.authorizer = authorizer
        self.jwks_url = jwks_url
        self._keys: dict[str, Any] = {}
        self._lock = threading.Lock()

    def _key(self, kid: str | None) -> Any:
        """The JWKS key with this id; the JWKS is fetched again once for an unknown id (rotation)."""
        with self._lock:
            if kid not in self._keys:
                with urllib.request.urlopen(self.jwks_url, timeout=5) as resp:  # noqa: S310 - local moto URL
                    jwks = jwt.PyJWKSet.from_dict(json.load(resp))
                self._keys = {k.key_id: k for k in jwks.keys if k.key_id}
            if kid not in self._keys:
                raise Unauthorized("unknown signing key")
            return self._keys[kid]

    def token_from(self, headers: Mapping[str, str]) -> str:
        value = headers.get("authorization", "").strip()  # the template's IdentitySource
        if not value:
            raise Unauthorized("missing token")
        if value.lower().startswith("bearer "):
            value = value[7:].strip()
        return value

    def verify(self, token: str) -> dict[str, Any]:
        try:
            header = jwt.get_unverified_header(token)
            claims: dict[str, Any] = jwt.decode(
                token,
                self._key(header.get("kid")),
                algorithms=["RS256"],
                options={"verify_aud": False, "require": ["exp", "iss"]},
            )
        except jwt.PyJWTError as exc:
            raise Unauthorized(str(exc)) from exc
        if claims.get("iss") != self.authorizer.issuer:
            raise Unauthorized("issuer mismatch")
        audiences = claims.get("aud") or claims.get("client_id")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        if not set(audiences) & set(self.authorizer.audience):
            raise Unauthorized("audience mismatch")
        return claims


# --------------------------------------------------------------------------------------------- events


def _request_id() -> str:
    return base64.b64encode(secrets.token_bytes(10)).decode().rstrip("=") + "="


def _headers(request: Request) -> dict[str, str]:
    """Lower-case names, repeated headers joined with commas, and the X-Forwarded-* API Gateway adds."""
    headers: dict[str, str] = {}
    for key, value in request.headers.items():
        key = key.lower()
        headers[key] = f"{headers[key]},{value}" if key in headers else value
    host = headers.get("host", "127.0.0.1")
    headers.setdefault("x-forwarded-for", request.remote_addr or "127.0.0.1")
    headers.setdefault("x-forwarded-proto", request.scheme)
    headers.setdefault("x-forwarded-port", host.rsplit(":", 1)[1] if ":" in host else "80")
    return headers


def _body(request: Request) -> dict[str, Any]:
    """`body` and `isBase64Encoded`: text types as text, anything else (or invalid UTF-8) base64."""
    body = request.get_data(cache=True)
    if not body:
        return {"isBase64Encoded": False}
    if TEXT_TYPES.match((request.mimetype or "").lower()):
        try:
            return {"body": body.decode("utf-8"), "isBase64Encoded": False}
        except UnicodeDecodeError:
            pass
    return {"body": base64.b64encode(body).decode(), "isBase64Encoded": True}


def build_event(
    request: Request,
    route: HttpRoute,
    path_params: Mapping[str, str],
    *,
    authorizer: Mapping[str, Any] | None = None,
    request_id: str | None = None,
) -> dict[str, Any]:
    """The API Gateway HTTP API payload format 2.0 event for a request."""
    now = time.time()
    headers = _headers(request)
    cookies = [c.strip() for c in headers.pop("cookie", "").split(";") if c.strip()]
    host = headers.get("host", "127.0.0.1")
    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route.route_key,
        "rawPath": request.path,
        "rawQueryString": request.query_string.decode("latin-1"),
        "headers": headers,
    }
    if cookies:
        event["cookies"] = cookies
    if request.args:
        event["queryStringParameters"] = {k: ",".join(request.args.getlist(k)) for k in request.args}
    if path_params:
        event["pathParameters"] = dict(path_params)
    event["requestContext"] = {
        "accountId": ACCOUNT_ID,
        "apiId": "local",
        "domainName": host.split(":", 1)[0],
        "domainPrefix": host.split(".", 1)[0].split(":", 1)[0],
        "http": {
            "method": request.method,
            "path": request.path,
            "protocol": request.environ.get("SERVER_PROTOCOL", "HTTP/1.1"),
            "sourceIp": request.remote_addr or "127.0.0.1",
            "userAgent": headers.get("user-agent", ""),
        },
        "requestId": request_id or _request_id(),
        "routeKey": route.route_key,
        "stage": "$default",
        "time": dt.datetime.fromtimestamp(now, dt.UTC).strftime("%d/%b/%Y:%H:%M:%S +0000"),
        "timeEpoch": int(now * 1000),
    }
    if authorizer is not None:
        event["requestContext"]["authorizer"] = dict(authorizer)
    return {**event, **_body(request)}


class _Response(Response):
    default_mimetype = None  # no content-type unless the function sets one, like API Gateway


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    response = Response(json.dumps(payload), status=status, mimetype="application/json")
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def map_result(result: Any) -> Response:
    """A function's payload-2.0 result -> HTTP, with API Gateway's rules for bare values."""
    if not (isinstance(result, dict) and "statusCode" in result):
        body = result if isinstance(result, str) else json.dumps(result)
        return _Response(body, status=200, headers={"content-type": "application/json"})
    headers = Headers()
    for key, value in (result.get("headers") or {}).items():
        headers.add(key, str(value))
    for cookie in result.get("cookies") or []:
        headers.add("set-cookie", cookie)
    raw_body = result.get("body")
    payload: bytes | str = ""
    if raw_body is not None:
        text = raw_body if isinstance(raw_body, str) else json.dumps(raw_body)
        payload = base64.b64decode(text) if result.get("isBase64Encoded") else text
    return _Response(payload, status=int(result["statusCode"]), headers=headers)


# --------------------------------------------------------------------------------------------- gateway


class LocalTools(Protocol):
    """What the `/_local/*` routes need from the running stack."""

    def is_ready(self) -> bool: ...
    def outbox(self) -> list[dict[str, Any]]: ...
    def tick(self) -> list[dict[str, Any]]: ...
    def streams_status(self) -> list[dict[str, Any]]: ...
    def drain(self, timeout_s: float) -> bool: ...
    def info(self) -> dict[str, Any]: ...
    def cognito(self, target: str, body: bytes) -> tuple[int, bytes]: ...
    def iam_report(self) -> dict[str, Any]: ...


class Gateway:
    """The WSGI app plus its threaded werkzeug server."""

    def __init__(self, tools: LocalTools) -> None:
        self.tools = tools
        self.router = Router([])
        self.apis: dict[str, HttpApi] = {}
        self.verifiers: dict[str, JwtVerifier] = {}  # by authorizer name
        self.invoke: Callable[[str, Any], InvokeResult] | None = None
        self._server: BaseWSGIServer | None = None
        self._thread: threading.Thread | None = None

    def configure(
        self,
        routes: Iterable[HttpRoute],
        apis: Mapping[str, HttpApi],
        invoke: Callable[[str, Any], InvokeResult],
        verifiers: Mapping[str, JwtVerifier],
    ) -> None:
        """Install the template's routes; until then every non-local request gets 503."""
        self.router = Router(routes)
        self.apis = dict(apis)
        self.verifiers = dict(verifiers)
        self.invoke = invoke

    # ------------------------------------------------------------------ server

    def serve(self, host: str = "127.0.0.1", port: int = 0) -> int:
        """Start serving in a background thread; returns the bound port."""
        self._server = make_server(host, port, self, threaded=True)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True, name="gateway")
        self._thread.start()
        return int(self._server.server_port)

    def shutdown(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        request = Request(environ)
        try:
            response = self.handle(request)
        except Exception:
            log.exception("gateway error on %s %s", request.method, request.path)
            response = json_response(500, {"message": "Internal Server Error"})
        return response(environ, start_response)

    # ------------------------------------------------------------------ request handling

    def handle(self, request: Request) -> Response:
        if request.path.startswith("/_local/"):
            return self._local(request)
        if request.content_length is not None and request.content_length > MAX_BODY_BYTES:
            return json_response(413, {"message": "Request Entity Too Large"})
        if self.invoke is None:
            return json_response(503, {"message": "Service Unavailable"})
        cors = self._cors()
        if request.method == "OPTIONS" and cors and "access-control-request-method" in request.headers:
            return self._preflight(request, cors)
        found = self.router.match(request.method, request.path)
        if found is None:
            return json_response(404, {"message": "Not Found"})
        route, params = found
        authorizer_context = None
        if route.authorizer is not None:
            verifier = self.verifiers.get(route.authorizer)
            if verifier is None:
                log.error("route %s uses authorizer %s which is not emulated", route.route_key, route.authorizer)
                return json_response(500, {"message": "Internal Server Error"})
            try:
                claims = verifier.verify(verifier.token_from({k.lower(): v for k, v in request.headers.items()}))
            except Unauthorized as exc:
                log.info("401 on %s: %s", route.route_key, exc)
                return json_response(
                    401,
                    {"message": "Unauthorized"},
                    {"www-authenticate": f'Bearer scope="" error="invalid_token" error_description="{exc}"'},
                )
            authorizer_context = {"jwt": {"claims": {k: stringify_claim(v) for k, v in claims.items()}, "scopes": None}}
        if len(request.get_data(cache=True)) > MAX_BODY_BYTES:
            return json_response(413, {"message": "Request Entity Too Large"})
        event = build_event(request, route, params, authorizer=authorizer_context)
        result = self.invoke(route.function_id, event)
        if not result.ok:
            if result.timed_out:
                return json_response(503, {"message": "Service Unavailable"})
            return json_response(500, {"message": "Internal Server Error"})
        response = map_result(result.payload)
        response.headers["apigw-requestid"] = event["requestContext"]["requestId"]
        if cors and "origin" in request.headers:
            self._cors_headers(response, request, cors)
        return response

    def _cors(self) -> dict[str, Any] | None:
        for api in self.apis.values():
            if api.cors:
                return api.cors
        return None

    @staticmethod
    def _cors_headers(response: Response, request: Request, cors: Mapping[str, Any]) -> None:
        """The template's CORS settings: allowed origins (`*` or a list), methods, headers."""
        origins = cors.get("AllowOrigins") or []
        origin = request.headers.get("origin", "")
        if "*" in origins:
            response.headers["access-control-allow-origin"] = "*"
        elif origin in origins:
            response.headers["access-control-allow-origin"] = origin
            response.headers["vary"] = "origin"

    def _preflight(self, request: Request, cors: Mapping[str, Any]) -> Response:
        response = _Response(b"", status=204)
        self._cors_headers(response, request, cors)
        response.headers["access-control-allow-methods"] = ",".join(cors.get("AllowMethods") or ["*"])
        response.headers["access-control-allow-headers"] = ",".join(cors.get("AllowHeaders") or ["*"])
        return response

    def _local(self, request: Request) -> Response:
        tools = self.tools
        key = (request.method, request.path.rstrip("/"))
        if key == ("GET", "/_local/health"):
            ready = tools.is_ready()
            return json_response(200 if ready else 503, {"ok": ready})
        if key == ("GET", "/_local/outbox"):
            return json_response(200, tools.outbox())
        if key == ("POST", "/_local/tick"):
            return json_response(200, {"ran": tools.tick()})
        if key == ("GET", "/_local/streams"):
            return json_response(200, {"consumers": tools.streams_status()})
        if key == ("POST", "/_local/streams/drain"):
            timeout = float(request.args.get("timeout", "30"))
            drained = tools.drain(timeout)
            return json_response(200 if drained else 504, {"drained": drained, "consumers": tools.streams_status()})
        if key == ("GET", "/_local/info"):
            return json_response(200, tools.info())
        if key == ("POST", COGNITO_PROXY_PATH):
            status, payload = tools.cognito(request.headers.get("x-amz-target", ""), request.get_data())
            return _Response(payload, status=status, headers={"content-type": "application/x-amz-json-1.1",
                                                              "cache-control": "no-store"})
        if key == ("GET", "/_local/iam"):
            return json_response(200, tools.iam_report())
        return json_response(404, {"message": "Not Found"})
