"""Outgoing email through SES (the local stack reads moto's SES outbox)."""

from __future__ import annotations

from dataclasses import dataclass

from referral_core.dal.aws import client
from referral_core.dal.dynamo import translate


@dataclass(frozen=True)
class Email:
    to: str
    subject: str
    text: str
    html: str


def send_email(sender: str, email: Email, *, configuration_set: str) -> str:
    """Send one email through the stack's configuration set (SES suppresses bounced and complaining
    addresses there); returns the SES message id."""
    try:
        out = client("ses").send_email(
            Source=sender,
            ConfigurationSetName=configuration_set,
            Destination={"ToAddresses": [email.to]},
            Message={
                "Subject": {"Data": email.subject, "Charset": "UTF-8"},
                "Body": {"Text": {"Data": email.text, "Charset": "UTF-8"},
                         "Html": {"Data": email.html, "Charset": "UTF-8"}},
            },
        )
    except Exception as exc:
        raise translate(exc) from exc
    return str(out["MessageId"])
