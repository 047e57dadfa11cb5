"""Processes the id-only providers' queued webhook events (ProviderEventQueue): reads each record through
the provider's API with the account's OAuth token, translates it, and records it once
(services.providers: jobber, oauth_api, ingest).

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
from referral_core.config import BaseSettings, read_settings
from referral_core.dal import outbound_http
from referral_core.dal.provider_secrets import ProviderSecret, text
from referral_core.observability import logger, tracer
from referral_core.services.providers import jobber
from referral_core.services.providers.ingest import ProviderIngest
from referral_core.services.providers.oauth_api import OAuthApi, OAuthClient, ProviderRecordGone


@dataclasses.dataclass(frozen=True, kw_only=True)
class ConsumerSettings(BaseSettings):
    default_phone_region: str
    jobber_secret_arn: str
    jobber_token_prefix: str
    jobber_api_url: str = "https://api.getjobber.com/api/graphql"
    jobber_token_url: str = "https://api.getjobber.com/api/oauth/token"  # noqa: S105 (a URL, not a secret)
    provider_api_timeout_s: int = 5
    provider_api_backoff_ms: int = 500
    #: Only the tests' fake API on 127.0.0.1 needs this (the providers' APIs are public addresses).
    provider_api_allow_private: bool = False


@cache
def settings() -> ConsumerSettings:
    return read_settings(ConsumerSettings)


def send(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> outbound_http.Answer:
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


def jobber_api(account_id: str) -> OAuthApi:
    config = settings()
    value = app_secret(config.jobber_secret_arn).current()
    client = OAuthClient(config.jobber_token_url, text(value, "client_id", config.jobber_secret_arn),
                         text(value, "client_secret", config.jobber_secret_arn))
    return OAuthApi("jobber", client, account_tokens(config.jobber_token_prefix, account_id), send,
                    backoff_s=config.provider_api_backoff_ms / 1000)


def process_jobber(message: dict[str, Any], context: Any) -> None:
    config = settings()
    try:
        fetched = jobber.fetch(message, jobber_api(str(message["account_id"])), graphql_url=config.jobber_api_url,
                               currency=config.currency)
    except ProviderRecordGone:
        fetched = jobber.Fetched(None)
    answer = ingest("jobber").record(str(message["event_id"]), str(message["topic"]), fetched.event,
                                     refs=fetched.refs, context=context)
    logger.info("provider event processed", extra={"provider": "jobber", "provider_event_id": message["event_id"],
                                                   "job_id": answer.job_id, "applied": answer.applied,
                                                   "ignored": answer.ignored})


PROCESSORS = {"jobber": process_jobber}

# A batch that fails whole is reported like any other (each message then retried alone, then redriven).
processor = BatchProcessor(event_type=EventType.SQS, raise_on_entire_batch_failure=False)
_context: dict[str, Any] = {}


def record_handler(record: SQSRecord) -> None:
    message = json.loads(record.body)
    try:
        PROCESSORS[str(message["provider"])](message, _context.get("context"))
    except Exception as exc:  # the message fails alone; its type is logged, never its content
        logger.warning("provider event failed", extra={"provider": message.get("provider"),
                                                       "provider_event_id": message.get("event_id"),
                                                       "error": type(exc).__name__, "reason": str(exc)[:200]})
        raise


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    _context["context"] = context
    return process_partial_response(event=event, record_handler=record_handler, processor=processor,
                                    context=context)


init_complete()
