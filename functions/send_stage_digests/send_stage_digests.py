"""Scheduled: sends each referrer the digest of stage changes held back by the hourly email limit
(docs/portal.md, "Stage email digest"), once its hour has ended (gsi2 ``DIGEST#DUE``)."""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

import dataclasses
from collections.abc import Mapping
from functools import cache
from typing import Any

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.mail import Email, send_email
from referral_core.dal.notifications import DigestQueue
from referral_core.dal.referrers import ReferrerRepository
from referral_core.dal.secrets import secret_string
from referral_core.observability import logger, tracer
from referral_core.services.notifications import opt_out_link, send_due_digests


@dataclasses.dataclass(frozen=True, kw_only=True)
class DigestSettings(BaseSettings):
    sender_email: str
    ses_configuration_set: str
    session_secret_arn: str


@cache
def settings() -> DigestSettings:
    return read_settings(DigestSettings)


@cache
def _table() -> Table:
    return Table(settings().table_name)


def _send(email: Email) -> str:
    return send_email(settings().sender_email, email, configuration_set=settings().ses_configuration_set)


def _opt_out_url(referrer: Mapping[str, Any]) -> str:
    return opt_out_link(referrer, signing_key=secret_string(settings().session_secret_arn))


@logger.inject_lambda_context(clear_state=True)
@tracer.capture_lambda_handler
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    counts = send_due_digests(DigestQueue(_table()), ReferrerRepository(_table()), _send, opt_out_url=_opt_out_url)
    logger.info("stage digests", extra=counts)
    return counts


init_complete()
