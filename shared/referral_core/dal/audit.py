"""Append-only audit entries, written in the same transaction as the change they describe."""

from __future__ import annotations

from typing import Any

from referral_core.clock import iso
from referral_core.dal.dynamo import Put
from referral_core.ids import new_id


def audit_entry(entity_pk: str, *, actor: str, action: str, detail: dict[str, Any] | None = None,
                at: str | None = None) -> Put:
    """An audit item in the entity's own partition (sk ``AUDIT#<time-ordered id>``), never overwritten.

    gsi2 (``AUDIT#<yyyy-mm>``, time) lists every action of a month for staff.
    """
    at = at or iso()
    entry_id = new_id()
    item = {
        "pk": entity_pk, "sk": f"AUDIT#{entry_id}", "type": "audit", "entry_id": entry_id,
        "actor": actor, "action": action, "detail": detail or {}, "at": at,
        "gsi2pk": f"AUDIT#{at[:7]}", "gsi2sk": f"{at}#{entry_id}",
    }
    return Put(item, condition="attribute_not_exists(pk)")
