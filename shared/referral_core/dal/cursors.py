"""The one page-cursor codec: base64url(JSON of a Query's LastEvaluatedKey), checked before DynamoDB sees it.

A cursor is only accepted for the partition it came from, with exactly the key attributes that index
returns and a sort key inside the range the Query reads, so a forged, garbled or foreign cursor is
``InvalidCursor`` (400), never DynamoDB's ValidationException (a 500) or a read of another partition.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from referral_core.errors import InvalidCursor

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


def decode_cursor(cursor: str | None, *, index: str | None, partition: str, sort_prefix: str = "",
                  sort_from: str | None = None, sort_to: str | None = None) -> dict[str, str] | None:
    """The start key a cursor stands for, if it is one of this Query's: partition ``partition`` of
    ``index``, its sort key starting with ``sort_prefix`` and within ``sort_from``..``sort_to`` (the
    Query's key condition; DynamoDB refuses a start key outside it)."""
    if not cursor:
        return None
    if len(cursor) > MAX_CURSOR_CHARS:
        raise InvalidCursor
    try:
        key = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError):
        raise InvalidCursor from None
    if (not isinstance(key, dict) or set(key) != KEY_ATTRIBUTES[index]
            or not all(isinstance(v, str) and v for v in key.values())):
        raise InvalidCursor
    sort = key[f"{index}sk" if index else "sk"]
    if (key[f"{index}pk" if index else "pk"] != partition or not sort.startswith(sort_prefix)
            or (sort_from is not None and sort < sort_from) or (sort_to is not None and sort > sort_to)):
        raise InvalidCursor
    return key
