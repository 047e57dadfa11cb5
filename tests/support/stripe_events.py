"""Stripe's webhook deliveries for the tests: the samples in events/stripe/ (Stripe's documented
event shapes), signed with the ``stripe`` library's own helper, and the endpoint secret on moto."""

from __future__ import annotations

import json
import time
from typing import Any

import boto3
import stripe

from tests.support.aws import REGION, Stack, template
from tests.support.events import load_event

STRIPE = "StripeWebhookFunction"
ENDPOINT_SECRET = "whsec_test_4eC39HqLyjWDarjtT1zdp7dc"


def configure_stripe_secrets(stack: Stack, *secrets: str, api_key: str | None = None) -> str:
    """The template's StripeWebhookSecret on moto holding ``secrets`` (and a restricted key)."""
    name = template().functions[STRIPE].env["STRIPE_SECRET_ARN"].rsplit(":", 1)[-1]
    value: dict[str, Any] = {"secrets": list(secrets or (ENDPOINT_SECRET,))}
    if api_key:
        value["api_key"] = api_key
    sm = boto3.client("secretsmanager", region_name=REGION)
    try:
        arn = sm.create_secret(Name=name, SecretString=json.dumps(value))["ARN"]
    except sm.exceptions.ResourceExistsException:
        arn = sm.put_secret_value(SecretId=name, SecretString=json.dumps(value))["ARN"]
    stack.env["STRIPE_SECRET_ARN"] = arn
    stack.monkeypatch.setenv("STRIPE_SECRET_ARN", arn)
    return arn


def stripe_body(sample: str, **changes: Any) -> dict[str, Any]:
    """The Stripe event of ``events/stripe/{sample}.json``; ``changes`` replace top-level event
    fields, ``object`` (a dict) is merged into ``data.object``."""
    event: dict[str, Any] = json.loads(load_event(f"stripe/{sample}.json")["body"])
    obj = changes.pop("object", None)
    event.update(changes)
    if obj:
        event["data"]["object"].update(obj)
    return event


def signed(body: dict[str, Any] | str, *, secrets: tuple[str, ...] = (ENDPOINT_SECRET,),
           timestamp: int | None = None, header: str | None = None) -> dict[str, Any]:
    """The sample HTTP API event carrying ``body``, its Stripe-Signature made by the stripe library (one
    ``v1`` per secret, as Stripe sends while an endpoint's secret is rolled)."""
    event = load_event("stripe/invoice.paid.json")
    payload = body if isinstance(body, str) else json.dumps(body, indent=2)
    moment = timestamp or int(time.time())
    if header is None:
        signatures = [stripe.WebhookSignature.generate_signature_header(payload, s, timestamp=moment)
                      for s in secrets]
        header = ",".join([f"t={moment}", *(part for sig in signatures for part in sig.split(",")[1:])])
    event["headers"] = {**event["headers"], "stripe-signature": header}
    if not header:
        event["headers"].pop("stripe-signature")
    event["body"] = payload
    return event


def post_stripe(stack: Stack, body: dict[str, Any] | str, **kwargs: Any) -> dict[str, Any]:
    return stack.invoke(STRIPE, signed(body, **kwargs))
