"""Processes the id-only providers' queued webhook events (ProviderEventQueue): reads each record through
the provider's API with the account's OAuth token, translates it, and records it once
(services.providers: jobber, servicem8, oauth_api, ingest).

A message whose API call keeps failing (5xx, 429 beyond the waits, a refused token refresh) or whose
record cannot be stored fails alone (partial batch response); SQS delivers it again after the visibility
timeout, and after the queue's maxReceiveCount it waits in ProviderEventDeadLetterQueue (docs/operations.md).
"""

from __future__ import annotations

from referral_core.init_phase import init_complete

import dataclasses
import json
from functools import cache
from typing import Any

from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from referral_core import deps
from referral_core.clock import iso
from referral_core.config import BaseSettings, read_settings
from referral_core.dal import outbound_http
from referral_core.dal.provider_secrets import ProviderSecret, text
from referral_core.observability import logger, publishes_metrics, tracer
from referral_core.services.providers import jobber, servicem8
from referral_core.services.providers.ingest import ProviderIngest
from referral_core.services.providers.oauth_api import OAuthApi, OAuthClient, ProviderRecordGone


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsumerSettings(BaseSettings):
    default_phone_region: str
    jobber_secret_arn: str
    jobber_token_prefix: str
    jobber_api_url: str = "https://api.getjobber.com/api/graphql"
    jobber_token_url: str = "https://api.getjobber.com/api/oauth/token"  # noqa: S105 (a URL, not a secret)
    servicem8_secret_arn: str
    servicem8_token_prefix: str
    servicem8_api_url: str = "https://api.servicem8.com/api_1.0"
    servicem8_token_url: str = "https://go.servicem8.com/oauth/access_token"  # noqa: S105 (a URL, not a secret)
    provider_api_timeout_s: int = 5
    provider_api_backoff_ms: int = 500
    #: Only the tests' fake API on 127.0.0.1 needs this (the providers' APIs are public addresses).
    provider_api_allow_private: bool = False


@cache
def settings() -> ConsumerSettings:
    return read_settings(ConsumerSettings)


def send(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> outbound_http.Reply:
    config = settings()
    return outbound_http.request(method, url, body, headers, timeout_s=config.provider_api_timeout_s,
                                 allow_private=config.provider_api_allow_private)


@cache
def app_secret(secret_id: str) -> ProviderSecret:
    return ProviderSecret(secret_id)


@cache
def account_tokens(prefix: str, account_id: str) -> ProviderSecret:
    """The account's token pair: the secret ``{prefix}/{account id}`` (docs/integrations/<provider>.md)."""
    return ProviderSecret(f"{prefix}/{account_id}")


@cache
def ingest(provider: str) -> ProviderIngest:
    return ProviderIngest(provider=provider, table=deps.table(), pepper=deps.pepper,
                          phone_region=settings().default_phone_region)


def oauth_api(provider: str, secret_arn: str, token_url: str, token_prefix: str, account_id: str) -> OAuthApi:
    value = app_secret(secret_arn).current()
    client = OAuthClient(token_url, text(value, "client_id", secret_arn), text(value, "client_secret", secret_arn))
    return OAuthApi(provider, client, account_tokens(token_prefix, account_id), send,
                    backoff_s=settings().provider_api_backoff_ms / 1000)


def fetch_jobber(message: dict[str, Any]) -> jobber.Fetched:
    config = settings()
    api = oauth_api("jobber", config.jobber_secret_arn, config.jobber_token_url, config.jobber_token_prefix,
                    str(message["account_id"]))
    return jobber.fetch(message, api, graphql_url=config.jobber_api_url, currency=config.currency)


def fetch_servicem8(message: dict[str, Any]) -> jobber.Fetched:
    config = settings()
    api = oauth_api("servicem8", config.servicem8_secret_arn, config.servicem8_token_url,
                    config.servicem8_token_prefix, str(message["account_id"]))
    return servicem8.fetch(message, api, api_url=config.servicem8_api_url, currency=config.currency, now=iso())


FETCHERS = {"jobber": fetch_jobber, "servicem8": fetch_servicem8}


def process(message: dict[str, Any], context: Any) -> None:
    provider = str(message["provider"])
    try:
        fetched = FETCHERS[provider](message)
    except ProviderRecordGone:
        fetched = jobber.Fetched(None)
    answer = ingest(provider).record(str(message["event_id"]), str(message["topic"]), fetched.event,
                                     refs=fetched.refs, context=context)
    logger.info("provider event processed", extra={"provider": provider, "provider_event_id": message["event_id"],
                                                   "job_id": answer.job_id, "applied": answer.applied,
                                                   "ignored": answer.ignored})

# A batch that fails whole is reported like any other (each message then retried alone, then redriven).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_context: dict[str, Any] = {}


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    try:
        process(message, _context.get("context"))
    except Exception as exc:  # the message fails alone; its type is logged, never its content
        logger.warning("provider event failed", extra={"provider": message.get("provider"),
                                                       "provider_event_id": message.get("event_id"),
                                                       "error": type(exc).__name__, "reason": str(exc)[:200]})
        raise


@publishes_metrics
@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _context["context"] = context
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
