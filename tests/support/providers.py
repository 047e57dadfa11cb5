"""Helpers for the job-system adapters' tests: their secrets on moto, and deliveries signed as each
provider signs them (Square: notification URL + body; Xero: the body)."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

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


def signed_provider_event(function: str, raw: str) -> dict[str, Any] | None:
    """A delivery of ``raw`` signed for the provider route ``function`` serves (None: not a provider)."""
    if function == SQUARE:
        return square_event(raw)
    return None
