"""Stream consumer: turns click items into per-(code, placement) counters, a batch at a time.

Each record is read alone (a poison record fails alone); then ``after_batch`` aggregates the batch in
memory and writes one transaction per (code, placement): click markers + one ``ADD`` on ``STATS#{CODE}`` +
the code's ``uses``. A failed write fails exactly the records of its group. Replays never double count
(markers; docs/links.md).
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import cache

from referral_core.config import BaseSettings, read_settings
from referral_core.dal.dynamo import Table
from referral_core.dal.links import LinkRepository
from referral_core.observability import logger
from referral_core.services.click_counts import ClickEvent, click_event, group_by_stats_key
from referral_core.streams import Change


@cache
def _repo() -> LinkRepository:
    return LinkRepository(Table(read_settings(BaseSettings).table_name))


def record_handler(change: Change) -> ClickEvent | None:
    return click_event(change.event_name, change.new, change.old)


def after_batch(entries: list[tuple[ClickEvent | None, Change]]) -> Iterator[Change]:
    """Write the batch's counters per group; yields the changes of the groups that could not be written."""
    readable = [(event, change) for event, change in entries if event]
    for (code, placement), group in group_by_stats_key(readable).items():
        try:
            counted = _repo().count_clicks(code, placement, [event.click for event, _ in group])
        except Exception as exc:
            logger.warning("click counters not written", extra={"code": code, "placement": placement,
                                                                "error": type(exc).__name__})
            yield from (change for _, change in group)
            continue
        logger.info("clicks counted", extra={"code": code, "placement": placement, "records": len(group),
                                             "counted": counted})
