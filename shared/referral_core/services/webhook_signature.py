"""Standard Webhooks signatures (https://www.standardwebhooks.com) on the raw body: verifying the job
system's deliveries, and signing the ones we send to subscribers (services/outbound_webhooks.py).

``webhook-signature`` holds space-separated ``v1,<base64 HMAC-SHA256>`` entries over
``"{webhook-id}.{webhook-timestamp}.{raw body}"``; secrets are ``whsec_`` + base64 of the key. Several
secrets may be active while rotating, and any entry matching any secret is enough. Every comparison uses
``hmac.compare_digest``. Nothing about the body is read before the signature holds.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from secrets import token_bytes

from referral_core.errors import ConfigError, Unauthorized

TOLERANCE_S = 300
SECRET_PREFIX = "whsec_"  # noqa: S105 - the format marker, not a secret


@dataclass(frozen=True)
class SignedDelivery:
    webhook_id: str
    timestamp: int
    signatures: tuple[bytes, ...]
    body: bytes


def signing_key(secret: str) -> bytes:
    """The HMAC key inside a ``whsec_`` secret."""
    try:
        return base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)
    except (binascii.Error, ValueError):
        raise ConfigError("a webhook signing secret is not whsec_ + base64") from None


def parse_delivery(headers: Mapping[str, str], body: bytes, *, now: int,
                   tolerance_s: int = TOLERANCE_S) -> SignedDelivery:
    """Read the three headers (names lower-case) and check the timestamp window, both directions."""
    webhook_id = headers.get("webhook-id", "").strip()
    raw_timestamp = headers.get("webhook-timestamp", "").strip()
    raw_signatures = headers.get("webhook-signature", "").strip()
    if not webhook_id or not raw_timestamp or not raw_signatures:
        raise Unauthorized("missing webhook-id, webhook-timestamp or webhook-signature header")
    if not raw_timestamp.isdigit():
        raise Unauthorized("webhook-timestamp is not a unix time")
    timestamp = int(raw_timestamp)
    if abs(now - timestamp) > tolerance_s:
        raise Unauthorized("webhook-timestamp is too far from the current time")
    signatures: list[bytes] = []
    for entry in raw_signatures.split():
        version, _, value = entry.partition(",")
        if version != "v1":
            continue
        try:
            signatures.append(base64.b64decode(value, validate=True))
        except (binascii.Error, ValueError):
            continue
    if not signatures:
        raise Unauthorized("webhook-signature has no v1 signature")
    return SignedDelivery(webhook_id, timestamp, tuple(signatures), body)


def _signed_content(webhook_id: str, timestamp: int, body: bytes) -> bytes:
    return b"%s.%d.%s" % (webhook_id.encode(), timestamp, body)


def new_secret() -> str:
    """A fresh ``whsec_`` secret (32 random bytes), for a subscription to our outbound webhooks."""
    return SECRET_PREFIX + base64.b64encode(token_bytes(32)).decode()


def sign(secrets: Sequence[str], *, webhook_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` header of a delivery we send: one ``v1,`` entry per active secret, so a
    receiver that has either side of a rotation accepts it."""
    signed = _signed_content(webhook_id, timestamp, body)
    return " ".join("v1," + base64.b64encode(hmac.new(signing_key(s), signed, hashlib.sha256).digest()).decode()
                    for s in secrets)


def matches(delivery: SignedDelivery, secrets: Sequence[str]) -> bool:
    signed = _signed_content(delivery.webhook_id, delivery.timestamp, delivery.body)
    found = False
    for secret in secrets:
        expected = hmac.new(signing_key(secret), signed, hashlib.sha256).digest()
        for candidate in delivery.signatures:
            # No early exit: the time taken does not tell which secret or entry matched.
            found |= hmac.compare_digest(expected, candidate)
    return found


def verify(headers: Mapping[str, str], body: bytes, *, now: int, secrets: Sequence[str],
           refreshed: Callable[[], Sequence[str] | None] = lambda: None) -> SignedDelivery:
    """The authenticated delivery, or :class:`Unauthorized`.

    ``refreshed`` is asked for freshly read secrets only when none of ``secrets`` matches (a rotation
    the container has not seen yet); it returns None when it may not refresh now.
    """
    delivery = parse_delivery(headers, body, now=now)
    if matches(delivery, secrets):
        return delivery
    fresh = refreshed()
    if fresh is not None and matches(delivery, fresh):
        return delivery
    raise Unauthorized("webhook signature does not match")
