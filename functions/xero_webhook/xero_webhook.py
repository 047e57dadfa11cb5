"""POST /webhooks/xero: Xero's id-only events, fetched over its API and recorded as job events
(docs/integrations/xero.md).

The signature is checked on the raw body first (401 without a body, nothing written, nothing fetched). A delivery with
no events is Xero's intent-to-receive check and is answered 200 with an empty body, as every accepted
delivery is. Each event is fetched with its organisation's OAuth token (services.providers.xero) and
recorded once; when Xero's API does not answer in time the delivery is 503 and Xero delivers it again.
"""

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import base64
import dataclasses
import functools
from functools import cache, partial
from typing import Any

from aws_lambda_powertools.logging import correlation_paths

from referral_core import deps
from referral_core.bodies import request_headers
from referral_core.config import BaseSettings, read_settings
from referral_core.dal import outbound_http
from referral_core.dal.provider_secrets import ProviderSecret, TenantTokens, strings, text, to_verify
from referral_core.http_errors import raw_routes
from referral_core.observability import count, count_webhook_rejection, logger, publishes_metrics, tracer
from referral_core.security_headers import secured
from referral_core.services.providers import xero
from referral_core.services.providers.ingest import ProviderIngest


@dataclasses.dataclass(frozen=True, kw_only=True)
class XeroSettings(BaseSettings):
    xero_secret_arn: str
    xero_token_prefix: str
    xero_api_url: str
    xero_token_url: str
    xero_allow_private_targets: bool
    default_phone_region: str


@cache
def settings() -> XeroSettings:
    return read_settings(XeroSettings)


@cache
def app_secret() -> ProviderSecret:
    return ProviderSecret(settings().xero_secret_arn)


@cache
def tenant_tokens() -> TenantTokens:
    return TenantTokens(settings().xero_token_prefix)


def webhook_keys(value: dict[str, Any]) -> tuple[str, ...]:
    return to_verify(strings, value, "webhook_keys", settings().xero_secret_arn)


def fresh_keys() -> tuple[str, ...] | None:
    value = app_secret().refreshed()
    return None if value is None else webhook_keys(value)


def api() -> xero.XeroApi:
    """A client for one delivery (its time budget is the delivery's)."""
    value, secret_id = app_secret().current(), settings().xero_secret_arn
    http = partial(_request, allow_private=settings().xero_allow_private_targets)
    return xero.XeroApi(api_url=settings().xero_api_url, token_url=settings().xero_token_url,
                        client_id=text(value, "client_id", secret_id),
                        client_secret=text(value, "client_secret", secret_id), tokens=tenant_tokens(), http=http)


def _request(method: str, url: str, body: bytes | None, headers: dict[str, str], *,
             allow_private: bool) -> outbound_http.Reply:
    return outbound_http.request(method, url, body, headers, timeout_s=2.0, allow_private=allow_private)


@cache
def ingest() -> ProviderIngest:
    return ProviderIngest("xero", deps.table(), deps.pepper, settings().default_phone_region)


def received() -> dict[str, Any]:
    """Xero wants a 2xx with an empty body (and the intent-to-receive check a 200)."""
    return {"statusCode": 200, "headers": {"Cache-Control": "no-store"}, "body": ""}


def without_body_on_401(handler: Any) -> Any:
    """Xero's intent-to-receive check wants the wrong signature's 401 without a body, like its 200s; the
    other errors (a malformed delivery, Xero's API out of reach) keep the API's error body."""
    @functools.wraps(handler)
    def answered(event: dict[str, Any], context: Any) -> dict[str, Any]:
        answer: dict[str, Any] = handler(event, context)
        if answer.get("statusCode") == 401:
            headers = {k: v for k, v in (answer.get("headers") or {}).items() if k.lower() != "content-type"}
            return {**answer, "headers": headers, "body": ""}
        return answer
    return answered


@tracer.capture_method
def post_xero_event(event: dict[str, Any], context: Any) -> dict[str, Any]:
    raw = event.get("body") or ""
    body = base64.b64decode(raw) if event.get("isBase64Encoded") else raw.encode()
    xero.verify(request_headers(event), body, keys=webhook_keys(app_secret().current()), refreshed=fresh_keys)
    delivery = xero.parse(body)
    if not delivery.events:
        count("XeroIntentToReceive")
        return received()
    client = api()
    for item in delivery.events:
        translated = xero.translate(item, client)
        if translated.ignored:
            logger.info("xero event ignored", extra={"event_id": translated.event_id, "because": translated.ignored})
        ingest().record(translated.event_id, f"{item.eventCategory}.{item.eventType}", translated.event,
                        context=context)
    return received()


@secured
@publishes_metrics
@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_HTTP, clear_state=True)
@tracer.capture_lambda_handler
@without_body_on_401
@raw_routes(on_error=count_webhook_rejection)
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    return post_xero_event(event, context)


init_complete()
