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
    configure_jobber(stack)


def signed_provider_event(function: str, raw: str) -> dict[str, Any] | None:
    """A delivery of ``raw`` signed for the provider route ``function`` serves (None: not a provider)."""
    if function == SQUARE:
        return square_event(raw)
    if function == JOBBER:
        return jobber_event(raw)
    return None


# ---------------------------------------------------------------- Jobber (id-only: webhook, queue, API)
JOBBER = "JobberWebhookFunction"
PROVIDER_EVENTS = "ProcessProviderEventsFunction"
JOBBER_CLIENT_ID = "jobber-client-id"
JOBBER_CLIENT_SECRET = "jobber-client-secret-0123456789"
#: gid://Jobber/Account/12345, as the samples in events/jobber/ carry it.
JOBBER_ACCOUNT = "Z2lkOi8vSm9iYmVyL0FjY291bnQvMTIzNDU="


def configure_jobber(stack: Stack, *, secret: str = JOBBER_CLIENT_SECRET) -> str:
    return put_secret(stack, JOBBER, "JOBBER_SECRET_ARN", {"client_id": JOBBER_CLIENT_ID, "client_secret": secret})


def jobber_tokens_name(account: str = JOBBER_ACCOUNT) -> str:
    return f"{template().functions[PROVIDER_EVENTS].env['JOBBER_TOKEN_PREFIX']}/{account}"


def put_jobber_tokens(access: str, refresh: str, account: str = JOBBER_ACCOUNT) -> None:
    sm = boto3.client("secretsmanager", region_name=REGION)
    value = json.dumps({"access_token": access, "refresh_token": refresh})
    try:
        sm.create_secret(Name=jobber_tokens_name(account), SecretString=value)
    except sm.exceptions.ResourceExistsException:
        sm.put_secret_value(SecretId=jobber_tokens_name(account), SecretString=value)


def jobber_tokens(account: str = JOBBER_ACCOUNT) -> dict[str, Any]:
    sm = boto3.client("secretsmanager", region_name=REGION)
    return dict(json.loads(sm.get_secret_value(SecretId=jobber_tokens_name(account))["SecretString"]))


def jobber_signature(body: bytes, *, secret: str = JOBBER_CLIENT_SECRET) -> str:
    """Jobber's documented signature, written out here independently of the adapter's code."""
    return base64.b64encode(hmac.new(secret.encode(), body, hashlib.sha256).digest()).decode()


def jobber_body(name: str, **changes: Any) -> dict[str, Any]:
    """The body of the sample events/jobber/<name>.json, with fields of its webHookEvent replaced."""
    body: dict[str, Any] = json.loads(load_event(f"jobber/{name}.json")["body"])
    body["data"]["webHookEvent"].update(changes)
    return body


def jobber_event(body: dict[str, Any] | str | bytes, *, secret: str = JOBBER_CLIENT_SECRET,
                 signature: str | None = None) -> dict[str, Any]:
    raw = body if isinstance(body, bytes) else (body if isinstance(body, str) else json.dumps(body)).encode()
    headers = {"content-type": "application/json", "x-jobber-hmac-sha256":
               signature if signature is not None else jobber_signature(raw, secret=secret)}
    return http_event("POST", "/webhooks/jobber", raw_body=raw.decode(), headers=headers, user_agent="Jobber-Webhooks")


def queued_messages(stack: Stack) -> list[str]:
    """The provider event queue's visible messages' bodies, removed from it (as the event source mapping does)."""
    sqs = boto3.client("sqs", region_name=REGION)
    url = stack.env["PROVIDER_QUEUE_URL"]
    out = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
    for message in out:
        sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
    return [m["Body"] for m in out]


def sqs_event(*bodies: str) -> dict[str, Any]:
    return {"Records": [{"messageId": f"m-{i}", "receiptHandle": f"r-{i}", "body": body, "attributes": {},
                         "messageAttributes": {}, "eventSource": "aws:sqs",
                         "eventSourceARN": "arn:aws:sqs:us-east-1:123456789012:provider-events"}
                        for i, body in enumerate(bodies)]}
