"""Which stream records are countable clicks, and the batch aggregation of them (pure functions).

A click item is written once per visitor per hour (services.redirect): an INSERT is a first visit, and a
MODIFY whose ``clicked_epoch`` changed is the same visitor back after the hour. Moto and DynamoDB emit
other MODIFY records too (no-op writes), which compare equal and are skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from referral_core.dal.links import CountedClick

T = TypeVar("T")


class UnreadableClick(ValueError):
    """A click record without the fields a count needs (a poison record: reported alone)."""


@dataclass(frozen=True)
class ClickEvent:
    code: str
    placement: str
    click: CountedClick


def click_event(event_name: str, new: Mapping[str, Any], old: Mapping[str, Any] | None) -> ClickEvent | None:
    """The countable click a stream record carries, or None when it carries none."""
    if new.get("type") != "click" or event_name not in ("INSERT", "MODIFY"):
        return None
    if event_name == "MODIFY" and old and old.get("clicked_epoch") == new.get("clicked_epoch"):
        return None
    code, click_id, clicked_epoch = new.get("code"), new.get("click_id"), new.get("clicked_epoch")
    src, placement = new.get("src"), new.get("placement", "")
    if not (isinstance(code, str) and code and isinstance(click_id, str) and click_id
            and isinstance(clicked_epoch, int) and src in ("qr", "link") and isinstance(placement, str)):
        raise UnreadableClick(f"click record without code/click_id/clicked_epoch/src: {sorted(new)}")
    return ClickEvent(code=code, placement=placement,
                      click=CountedClick(click_id=click_id, clicked_epoch=clicked_epoch, src=src))


def group_by_stats_key(
    events: Iterable[tuple[ClickEvent, T]],
) -> dict[tuple[str, str], list[tuple[ClickEvent, T]]]:
    """The batch's clicks per (code, placement), each with what it came from: one counter write each."""
    groups: dict[tuple[str, str], list[tuple[ClickEvent, T]]] = defaultdict(list)
    for event, origin in events:
        groups[(event.code, event.placement)].append((event, origin))
    return dict(groups)
