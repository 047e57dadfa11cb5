"""Opaque page cursors: base64url(JSON of a Query's LastEvaluatedKey), checked before DynamoDB sees them.

A cursor is only accepted for the partition it came from and with exactly the key attributes that index
returns, so a forged or garbled cursor is a 400, never a 500 or a read of someone else's partition.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from referral_core.errors import MalformedRequest

#: The attributes of LastEvaluatedKey for a Query on each index (base table: just pk/sk).
KEY_ATTRIBUTES: dict[str | None, frozenset[str]] = {
    None: frozenset({"pk", "sk"}),
    "gsi1": frozenset({"pk", "sk", "gsi1pk", "gsi1sk"}),
    "gsi2": frozenset({"pk", "sk", "gsi2pk", "gsi2sk"}),
}
MAX_CURSOR_CHARS = 2048


def encode_cursor(last_key: Mapping[str, Any] | None) -> str | None:
    if not last_key:
        return None
    raw = json.dumps(dict(last_key), sort_keys=True, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str | None, *, index: str | None, partition: str) -> dict[str, str] | None:
    """The start key a cursor stands for; MalformedRequest (400, field ``cursor``) if not one of ours."""
    if not cursor:
        return None
    invalid = MalformedRequest("cursor is not valid", fields={"cursor": "not a cursor from this list"})
    if len(cursor) > MAX_CURSOR_CHARS:
        raise invalid
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise invalid from None
    partition_attr = f"{index}pk" if index else "pk"
    if (not isinstance(key, dict) or set(key) != KEY_ATTRIBUTES[index]
            or not all(isinstance(v, str) and v for v in key.values()) or key[partition_attr] != partition):
        raise invalid
    return key
