"""The funnel report: clicks -> leads -> jobs -> paid -> rewarded, per code and placement."""

from __future__ import annotations

import itertools
from typing import Any

from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.reports import ALL_STATS_GSI, StatsRepository
from referral_core.ids import normalise_code
from referral_core.models.reports import FunnelCounts, FunnelReport, FunnelRow

COUNTERS = ("clicks_link", "clicks_qr", "leads", "jobs", "paid", "rewarded")


def funnel_row(stats: dict[str, Any]) -> FunnelRow:
    """Counters of one code/placement (absent counters are 0) with total clicks and step conversions."""
    counts = {name: int(stats.get(name, 0)) for name in COUNTERS}
    clicks = counts["clicks_link"] + counts["clicks_qr"]
    steps = [("clicks", clicks), ("leads", counts["leads"]), ("jobs", counts["jobs"]),
             ("paid", counts["paid"]), ("rewarded", counts["rewarded"])]
    conversion = {f"{a}_to_{b}": round(nb / na, 4) if na else None
                  for (a, na), (b, nb) in itertools.pairwise(steps)}
    return FunnelRow.model_validate({"code": stats["code"], "placement": stats.get("placement") or None,
                                     "clicks": clicks, **counts, "conversion": conversion})


def _totals(rows: list[FunnelRow]) -> FunnelCounts:
    return FunnelCounts.model_validate({name: sum(getattr(row, name) for row in rows)
                                        for name in ("clicks", *COUNTERS)})


def funnel(repo: StatsRepository, *, code: str | None, limit: int, cursor: str | None) -> FunnelReport:
    """One code's placements (with totals), or a page of every code and placement."""
    if code:
        rows = [funnel_row(s) for s in repo.of_code(normalise_code(code))]
        return FunnelReport(code=normalise_code(code), rows=rows, totals=_totals(rows), next_cursor=None)
    page = repo.all_codes(limit=limit, start_key=decode_cursor(cursor, index="gsi1", partition=ALL_STATS_GSI))
    rows = [funnel_row(s) for s in page.items]
    return FunnelReport(code=None, rows=rows, totals=_totals(rows), next_cursor=encode_cursor(page.last_key))
