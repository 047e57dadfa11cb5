"""Where a share code is shown. A closed vocabulary, so usage reports group cleanly and a visitor cannot
invent new stats rows with ``?p=anything`` (the redirect ignores unknown values).

Lean on purpose (no pydantic): the redirect imports it on its cold path.
"""

from __future__ import annotations

from enum import StrEnum


class Placement(StrEnum):
    VAN = "van"
    YARD_SIGN = "yard_sign"
    INVOICE = "invoice"
    FLYER = "flyer"
    BUSINESS_CARD = "business_card"
    SOCIAL = "social"
    EMAIL = "email"
    SMS = "sms"
    WEBSITE = "website"
    EVENT = "event"
    OTHER = "other"


PLACEMENTS = frozenset(p.value for p in Placement)


def known_placement(value: str | None) -> str | None:
    """``value`` lower-cased if it is a known placement, else None."""
    if not value:
        return None
    lowered = value.strip().lower()
    return lowered if lowered in PLACEMENTS else None
