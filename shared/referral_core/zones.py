"""Zone locks of share codes: which postcodes a code serves, and what happens outside them (docs/links.md).

A code's ``zone_mode`` says what a lead from outside its zones gets: ``flag`` (the default) keeps the
attribution and raises a low ``zone_mismatch`` flag for staff; ``lock`` also makes the attribution not
eligible for a reward (reason ``zone_locked``). The lead is kept in both modes.

Pure rules without pydantic: capture, the duplicate checks and attribution apply them to every lead.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Literal

ZoneMode = Literal["flag", "lock"]
DEFAULT_ZONE_MODE: ZoneMode = "flag"

_ZONE = re.compile(
    r"^(?P<exact>[A-Z0-9]{2,10})$"  # a postcode
    r"|^(?P<prefix>[A-Z0-9]{1,9})\*$"  # postcodes starting with...
    r"|^(?P<low>\d{3,10})-(?P<high>\d{3,10})$"  # a numeric range
)


def _zone_matches(zone: str, postcode: str) -> bool:
    match = _ZONE.match(zone)
    if match is None:
        return False
    if match["exact"]:
        return postcode == zone
    if match["prefix"]:
        return postcode.startswith(match["prefix"])
    return postcode.isdigit() and len(postcode) == len(match["low"]) and \
        int(match["low"]) <= int(postcode) <= int(match["high"])


def zone_allows(code_item: Mapping[str, Any], postcode: str | None) -> bool:
    """Whether a lead from ``postcode`` is eligible through this code.

    A code without zones allows everyone. A zoned code allows a postcode equal to a zone, starting with a
    ``prefix*`` zone, or inside a ``low-high`` range; a missing postcode is outside every zone. Callers
    record a refusal as a flag (the lead is kept), never drop it.
    """
    zones = code_item.get("zones") or []
    if not zones:
        return True
    normal = (postcode or "").strip().upper().replace(" ", "")
    return bool(normal) and any(_zone_matches(str(zone).strip().upper(), normal) for zone in zones)


def zone_mode(code_item: Mapping[str, Any]) -> ZoneMode:
    """The code's zone mode; codes stored before modes existed are ``flag``."""
    return "lock" if code_item.get("zone_mode") == "lock" else DEFAULT_ZONE_MODE


def zone_locked_out(code_item: Mapping[str, Any], postcode: str | None) -> bool:
    """A lead from ``postcode`` through this code earns no reward: the code is locked to zones it is outside."""
    return zone_mode(code_item) == "lock" and not zone_allows(code_item, postcode)


def zone_is_valid(zone: str) -> bool:
    match = _ZONE.match(zone)
    if match is None:
        return False
    low, high = match["low"], match["high"]
    return low is None or (len(low) == len(high) and int(low) <= int(high))
