"""Share codes and clicks as stored. Lean on purpose: the redirect imports this on its cold path."""

from __future__ import annotations

from typing import Any

from referral_core import keys
from referral_core.dal.dynamo import ConditionFailed, Table


class LinkRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get_code(self, code: str) -> dict[str, Any] | None:
        return self.table.get(*keys.code(code))

    def record_click(self, click: dict[str, Any], *, dedup_before_epoch: int) -> bool:
        """Write the click unless the same visitor clicked this code since ``dedup_before_epoch``.

        One conditional PutItem: the click id is derived from (code, visitor), so a repeat within the
        window fails the condition and is not counted. Returns whether the click counted.
        """
        pk, sk = keys.click(click["click_id"])
        try:
            self.table.put(
                {"pk": pk, "sk": sk, "type": "click", **click},
                condition="attribute_not_exists(pk) OR clicked_epoch < :cutoff",
                values={":cutoff": dedup_before_epoch},
            )
        except ConditionFailed:
            return False
        return True
