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
    WHATSAPP = "whatsapp"
    COPY = "copy"  # a link copied from the dashboard (or its share sheet) and pasted anywhere


PLACEMENTS = frozenset(p.value for p in Placement)
#: The dashboard's share buttons. A share link carries its channel as ``src`` (``/r/{code}?src=sms``); the
#: redirect counts it as a link click under the placement of the same name, so the funnel and the usage
#: review show clicks and leads per channel with no counter of their own.
SHARE_CHANNELS: tuple[str, ...] = (Placement.SMS, Placement.WHATSAPP, Placement.EMAIL, Placement.COPY)


def known_placement(value: str | None) -> str | None:
    """``value`` lower-cased if it is a known placement, else None."""
    if not value:
        return None
    lowered = value.strip().lower()
    return lowered if lowered in PLACEMENTS else None


def share_channel(src: str | None) -> str | None:
    """``src`` if it names a share button's channel (exactly, as the dashboard writes it), else None."""
    return src if src in SHARE_CHANNELS else None
