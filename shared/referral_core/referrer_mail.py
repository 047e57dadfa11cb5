"""Email to referrers, wired once for every function that sends it (the portal, the stage notifications, the
digest): from ``SENDER_EMAIL``, through the SES configuration set ``SES_CONFIGURATION_SET`` (SES suppresses
addresses that bounced or complained there), with opt-out links signed by the ``SESSION_SECRET_ARN`` key.
The settings are read once per container, on the first email. Every email ends with the business's name and
contact line (``PUT /admin/branding``; the defaults when none is saved or the table is busy)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import replace
from functools import cache
from typing import Any

from referral_core.config import read_settings
from referral_core.dal.mail import Email, send_email
from referral_core.dal.secrets import secret_string


@dataclasses.dataclass(frozen=True, kw_only=True)
class MailSettings:
    sender_email: str
    ses_configuration_set: str
    session_secret_arn: str


@cache
def mail_settings() -> MailSettings:
    return read_settings(MailSettings)


def send(email: Email) -> str:
    """Send ``email``, signed with the business's name; returns the SES message id."""
    settings = mail_settings()
    return send_email(settings.sender_email, branded(email), configuration_set=settings.ses_configuration_set)


def branded(email: Email) -> Email:
    from referral_core import deps
    from referral_core.dal.branding import BrandingRepository
    from referral_core.services.branding import current_or_default, signed_by

    text, html_body = signed_by(current_or_default(BrandingRepository(deps.table())), email.text, email.html)
    return replace(email, text=text, html=html_body)


def opt_out_url(referrer: Mapping[str, Any]) -> str:
    """The signed one-click link that stops the referrer's stage emails."""
    from referral_core.services.notifications import opt_out_link  # senders of stage emails only

    return opt_out_link(referrer, signing_key=secret_string(mail_settings().session_secret_arn))
