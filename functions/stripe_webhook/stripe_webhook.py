"""POST /webhooks/stripe: Stripe's events (docs/integrations/stripe.md), as job events.

Order matters: the ``Stripe-Signature`` header is checked on the raw body with the official library
(``stripe.WebhookSignature.verify_header``: ``t=…,v1=…``, HMAC-SHA256 over ``"{t}.{body}"``, 300 s
tolerance, any of several ``v1`` entries, any of the configured endpoint secrets) before anything parses it
(401, nothing written). Then the adapter (``referral_core.services.providers.stripe_events``) translates
the event and ``ProviderIngest`` records it once per Stripe event id.

A raw handler, like ``POST /webhooks/jobs``: the signature covers the body's bytes. The ``stripe`` library
is this function's own requirement (its requirements.txt), imported here and nowhere else.
"""

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import base64
import dataclasses
import json
from functools import cache
from typing import Any

import stripe
from aws_lambda_powertools.logging import correlation_paths

from referral_core import deps
from referral_core.bodies import loads, request_headers
from referral_core.config import BaseSettings, read_settings
from referral_core.dal.secrets import read_secret_string
from referral_core.dal.signing_secrets import SigningSecrets
from referral_core.errors import Unauthorized
from referral_core.http_errors import json_payload, raw_routes
from referral_core.observability import count, count_webhook_rejection, logger, publishes_metrics, tracer
from referral_core.security_headers import secured
from referral_core.services.providers.ingest import ProviderIngest
from referral_core.services.providers.stripe_events import PROVIDER, translate

#: Stripe's own default, and its libraries': a signed timestamp older than this is refused.
TOLERANCE_S = 300


@dataclasses.dataclass(frozen=True, kw_only=True)
class StripeWebhookSettings(BaseSettings):
    stripe_secret_arn: str
    default_phone_region: str
    #: Stripe's API (the template's StripeApiUrl; the e2e tests point it at an emulator on 127.0.0.1).
    stripe_api_url: str


@cache
def settings() -> StripeWebhookSettings:
    return read_settings(StripeWebhookSettings)


@cache
def signing_secrets() -> SigningSecrets:
    return SigningSecrets(settings().stripe_secret_arn)


@cache
def ingest() -> ProviderIngest:
    return ProviderIngest(provider=PROVIDER, table=deps.table(), pepper=deps.pepper,
                          phone_region=settings().default_phone_region)


def verified(body: bytes, header: str | None) -> None:
    """The body is Stripe's, signed by one of the endpoint's secrets (re-read once when none matches, so
    a rotation is picked up without a restart); 401 otherwise."""
    if not header:
        raise Unauthorized("missing Stripe-Signature header")
    secrets = signing_secrets()
    for candidates in (secrets.current(), secrets.refreshed()):
        for secret in candidates or ():
            try:
                stripe.WebhookSignature.verify_header(body.decode("utf-8", errors="replace"), header, secret,
                                                      tolerance=TOLERANCE_S)
            except stripe.SignatureVerificationError:
                continue
            return
    raise Unauthorized("the Stripe-Signature header does not match")


@cache
def api_key() -> str | None:
    """A restricted key (read access to promotion codes and customers) kept beside the signing secrets, if
    staff set one."""
    raw = json.loads(read_secret_string(settings().stripe_secret_arn))
    key = raw.get("api_key") if isinstance(raw, dict) else None
    return key if isinstance(key, str) and key else None


@cache
def stripe_client() -> "stripe.StripeClient | None":  # quoted: naming the class would load the API client at init
    """Stripe's API with the restricted key; None when staff set no key."""
    key = api_key()
    if key is None:
        return None
    return stripe.StripeClient(key, base_addresses={"api": settings().stripe_api_url}, max_network_retries=1)


def promotion_code(promotion_code_id: str) -> str | None:
    """The text of a promotion code (``promo_…``) through Stripe's API; None without a key or on failure."""
    client = stripe_client()
    if client is None:
        return None
    try:
        return str(client.v1.promotion_codes.retrieve(promotion_code_id).code)
    except stripe.StripeError as exc:
        logger.warning("promotion code not read", extra={"promotion_code_id": promotion_code_id,
                                                         "error": type(exc).__name__})
        return None


def customer(customer_id: str) -> dict[str, Any] | None:
    """A Stripe customer (``cus_…``: email, phone, address) through Stripe's API, for an invoice that names
    no email; None without a key or on failure (logged without the customer's details)."""
    client = stripe_client()
    if client is None:
        return None
    try:
        return client.v1.customers.retrieve(customer_id).to_dict()
    except stripe.StripeError as exc:
        logger.warning("customer not read", extra={"customer_id": customer_id, "error": type(exc).__name__})
        return None


@tracer.capture_method
def post_stripe_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    verified(body, request_headers(event).get("stripe-signature"))
    read = translate(loads(body), promotion_code=promotion_code, customer=customer)
    logger.append_keys(stripe_event_id=read.event_id)
    answer = ingest().record(read.event_id, read.type, read.event, also=read.also, refs=read.refs,
                             job_id_given=read.job_id_given, context=context)
    count("StripeEventsReceived")
    return json_payload(200, answer.model_dump(mode="json"))


@secured
@publishes_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@raw_routes(on_error=count_webhook_rejection)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return post_stripe_event(event, context)


init_complete()
