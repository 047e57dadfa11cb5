"""Funnel counters (``code_stats``: ``STATS#{CODE}`` / ``PLACEMENT#{placement}``, gsi1 ``STATS``)."""

from __future__ import annotations

from typing import Any

from referral_core.dal import keys
from referral_core.dal.dynamo import Page, Table

ALL_STATS_GSI = "STATS"


class StatsRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def of_code(self, code: str) -> list[dict[str, Any]]:
        """One row per placement of one code (its own small partition)."""
        pk, _ = keys.code_stats(code, "")
        return self.table.partition(pk, sk_prefix="PLACEMENT#")

    def all_codes(self, *, limit: int, start_key: dict[str, Any] | None) -> Page:
        """Every code and placement, in code order, a page at a time (gsi1 ``STATS``)."""
        return self.table.query("gsi1pk = :stats", {":stats": ALL_STATS_GSI}, index="gsi1", limit=limit,
                                start_key=start_key)
