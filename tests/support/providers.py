"""Helpers for the job-system adapters' tests: their secrets on moto, deliveries signed as each provider
signs them (Square: notification URL + body; Xero: the body), and a fake of Xero's API."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs

import boto3

from tests.support.aws import REGION, Stack, template
from tests.support.events import http_event, load_event

SQUARE = "SquareWebhookFunction"
SQUARE_URL = "https://referrals.example.com/webhooks/square"
SQUARE_KEY = "qfjakbt2uWB8DKAMECF-EA"


def put_secret(stack: Stack, function: str, variable: str, value: dict[str, Any]) -> str:
    """Create (or overwrite) the template's secret that ``function``'s ``variable`` names; point it there."""
    name = template().functions[function].env[variable].rsplit(":", 1)[-1]
    sm = boto3.client("secretsmanager", region_name=REGION)
    try:
        arn = sm.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    except sm.exceptions.ResourceExistsException:
        arn = sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))["ARN"]
    stack.env[variable] = arn
    stack.monkeypatch.setenv(variable, arn)
    return arn


def configure_square(stack: Stack, *keys: str, url: str = SQUARE_URL) -> str:
    return put_secret(stack, SQUARE, "SQUARE_SECRET_ARN",
                      {"notification_url": url, "signature_keys": list(keys or (SQUARE_KEY,))})


def square_signature(body: bytes, *, key: str = SQUARE_KEY, url: str = SQUARE_URL) -> str:
    """Square's documented signature, written out here independently of the adapter's code."""
    return base64.b64encode(hmac.new(key.encode(), url.encode() + body, hashlib.sha256).digest()).decode()


def square_body(name: str, **changes: Any) -> dict[str, Any]:
    """The body of the sample events/square/<name>.json, with top-level fields replaced."""
    body: dict[str, Any] = json.loads(load_event(f"square/{name}.json")["body"])
    return {**body, **changes}


def square_event(body: dict[str, Any] | str | bytes, *, key: str = SQUARE_KEY, url: str = SQUARE_URL,
                 signature: str | None = None, base64_body: bool = False) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
    headers = {"content-type": "application/json", "x-square-hmacsha256-signature":
               signature if signature is not None else square_signature(raw, key=key, url=url)}
    return http_event("POST", "/webhooks/square", raw_body=raw if base64_body else raw.decode(), headers=headers,
                      user_agent="Square Connect v2")


def configure_providers(stack: Stack) -> None:
    """Every adapter's credentials, so that a signed delivery reaches its body."""
    configure_square(stack)
    configure_xero(stack)


def signed_provider_event(function: str, raw: str) -> dict[str, Any] | None:
    """A delivery of ``raw`` signed for the provider route ``function`` serves (None: not a provider)."""
    if function == SQUARE:
        return square_event(raw)
    if function == XERO:
        return xero_event(raw)
    return None


# -- Xero -------------------------------------------------------------------------------------------------
XERO = "XeroWebhookFunction"
XERO_KEY = "OSd0eLlVIY9ZhViEqlDUh4+6n6M+Lo+eDaEJheJ6OCCgWwIz2D3JIAU6jPMipHRbgKTLz2uJ+xiACXGDBLrgdA=="
XERO_TENANT = "c2cc9b6e-9458-4c7d-93cc-f02b81b0594f"
XERO_INVOICE = "717f2bfc-c6d4-41fd-b238-3f2f0c0cf777"
XERO_NOTE = "aea95d78-ea48-456b-9b08-6bc012600072"


def xero_tokens_name(tenant: str = XERO_TENANT) -> str:
    return f"{template().functions[XERO].env['XERO_TOKEN_PREFIX']}/{tenant}"


def configure_xero(stack: Stack, *keys: str, api_url: str = "http://127.0.0.1:9/",
                   tokens: dict[str, str] | None = None) -> None:
    """The app secret (webhook keys, OAuth client), the tenant's token pair, and the API's address."""
    put_secret(stack, XERO, "XERO_SECRET_ARN", {"webhook_keys": list(keys or (XERO_KEY,)),
                                                 "client_id": "client-id", "client_secret": "client-secret"})
    sm = boto3.client("secretsmanager", region_name=REGION)
    value = json.dumps(tokens or {"access_token": "access-1", "refresh_token": "refresh-1"})
    try:
        sm.create_secret(Name=xero_tokens_name(), SecretString=value)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=xero_tokens_name(), SecretString=value)
    base = api_url.rstrip("/")
    for variable, value in (("XERO_API_URL", base), ("XERO_TOKEN_URL", f"{base}/connect/token"),
                            ("XERO_ALLOW_PRIVATE_TARGETS", "true")):
        stack.env[variable] = value
        stack.monkeypatch.setenv(variable, value)


def stored_xero_tokens() -> dict[str, str]:
    sm = boto3.client("secretsmanager", region_name=REGION)
    return dict(json.loads(sm.get_secret_value(SecretId=xero_tokens_name())["SecretString"]))


def xero_signature(body: bytes, *, key: str = XERO_KEY) -> str:
    """Xero's documented signature, written out here independently of the adapter's code."""
    return base64.b64encode(hmac.new(key.encode(), body, hashlib.sha256).digest()).decode()


def xero_body(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads(load_event(f"xero/{name}.json")["body"])
    return body


def xero_event(body: dict[str, Any] | str | bytes, *, key: str = XERO_KEY,
               signature: str | None = None) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
    headers = {"content-type": "application/json; charset=utf-8",
               "x-xero-signature": signature if signature is not None else xero_signature(raw, key=key)}
    return http_event("POST", "/webhooks/xero", raw_body=raw.decode(), headers=headers, user_agent="Xero Webhooks")


@dataclass
class Scripted:
    status: int
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)


@dataclass
class FakeXero:
    """A small fake of Xero's Accounting API and token endpoint (standard-library HTTP server on 127.0.0.1).

    It serves the answers of events/xero/api/ for the invoice and credit note, checks the bearer token
    (401 for any other), issues a new token pair for the current refresh token (refresh tokens are
    single-use, as Xero's), and plays ``script[path]`` answers first (a 429, a 500...)."""

    resources: dict[str, Any] = field(default_factory=dict)
    access_token: str = "access-1"
    refresh_token: str = "refresh-1"
    script: dict[str, list[Scripted]] = field(default_factory=dict)
    requests: list[tuple[str, str, float]] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def start(self) -> FakeXero:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def answer(self, scripted: Scripted) -> None:
                payload = b"" if scripted.body is None else json.dumps(scripted.body).encode()
                self.send_response(scripted.status)
                for name, value in {"Content-Type": "application/json", **scripted.headers}.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def do_GET(self) -> None:
                fake.requests.append(("GET", self.path, time.monotonic()))
                queued = fake.script.get(self.path)
                if queued:
                    return self.answer(queued.pop(0))
                if self.headers.get("Authorization") != f"Bearer {fake.access_token}":
                    return self.answer(Scripted(401, {"Type": None, "Title": "Unauthorized", "Status": 401}))
                if self.headers.get("xero-tenant-id") != XERO_TENANT or self.path not in fake.resources:
                    return self.answer(Scripted(404, {"Title": "Not Found"}))
                return self.answer(Scripted(200, fake.resources[self.path]))

            def do_POST(self) -> None:
                fake.requests.append(("POST", self.path, time.monotonic()))
                length = int(self.headers.get("Content-Length") or 0)
                form = parse_qs(self.rfile.read(length).decode())
                queued = fake.script.get(self.path)
                if queued:
                    return self.answer(queued.pop(0))
                basic = base64.b64encode(b"client-id:client-secret").decode()
                if (self.path != "/connect/token" or self.headers.get("Authorization") != f"Basic {basic}"
                        or form.get("grant_type") != ["refresh_token"]
                        or form.get("refresh_token") != [fake.refresh_token]):
                    return self.answer(Scripted(400, {"error": "invalid_grant"}))
                number = int(fake.refresh_token.rsplit("-", 1)[-1]) + 1
                fake.access_token, fake.refresh_token = f"access-{number}", f"refresh-{number}"
                return self.answer(Scripted(200, {"access_token": fake.access_token, "expires_in": 1800,
                                                  "token_type": "Bearer", "refresh_token": fake.refresh_token,
                                                  "scope": "accounting.transactions offline_access"}))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()

    def gets(self, path: str) -> int:
        return sum(1 for method, p, _ in self.requests if method == "GET" and p == path)


def xero_resources() -> dict[str, Any]:
    return {f"/api.xro/2.0/Invoices/{XERO_INVOICE}": load_event("xero/api/invoice.paid.json"),
            f"/api.xro/2.0/CreditNotes/{XERO_NOTE}": load_event("xero/api/creditnote.allocated.json")}
