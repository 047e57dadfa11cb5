"""Stored leads and the contact index beside them (docs/data-model.md); counters in ``dal.rates``.

A lead is written with its ``CONTACT#{hash}`` index items (and, when needed, the share code's use and the
code's rate counter) in ONE TransactWriteItems, so the index never disagrees with the leads it points at.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from referral_core.dal import keys
from referral_core.dal.contacts import contact_pk
from referral_core.dal.dynamo import ConditionFailed, Item, Put, Table, Update
from referral_core.dal.rates import Window, count_hit
from referral_core.dal.referrals import lead_pk

LEAD_SK = "LEAD"


@dataclass(frozen=True)
class ContactRef:
    """A contact index entry: ``kind`` is email, phone or address; only the hash is stored."""

    kind: str
    hash: str


class CodeUsedUp(ConditionFailed):
    """The share code reached ``max_uses`` (or stopped being active) since it was read."""


class CodeRateExceeded(ConditionFailed):
    """The share code's per-window lead limit is reached."""


class LeadRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- capture ---------------------------------------------------------------------------------
    def get_code(self, code: str) -> Item | None:
        return self.table.get(*keys.code(code))

    def count_hit(self, window: Window) -> int:
        """Add one to the window's counter (one UpdateItem) and return the new count."""
        return count_hit(self.table, window)

    def create(self, lead: Item, contacts: Sequence[ContactRef], *, use_code_of: Item | None = None,
               code_window: Window | None = None, code_limit: int = 0) -> None:
        """Write the lead and its contact index items, all or nothing.

        ``use_code_of``: the share code item whose ``uses`` goes up by one, only while it is active and
        below ``max_uses`` (else :class:`CodeUsedUp`). ``code_window``: the code's lead counter, only
        while below ``code_limit`` (else :class:`CodeRateExceeded`).
        """
        lead_id = lead["lead_id"]
        operations: list[Put | Update] = [
            Put({"pk": lead_pk(lead_id), "sk": LEAD_SK, "type": "lead", **lead},
                condition="attribute_not_exists(pk)"),
        ]
        for contact in contacts:
            operations.append(Put({
                "pk": contact_pk(contact.hash), "sk": lead_pk(lead_id), "type": "contact",
                "kind": contact.kind, "lead_id": lead_id, "created_at": lead["created_at"],
            }))
        code_index = window_index = None
        if use_code_of is not None:
            code_index = len(operations)
            pk, sk = keys.code(use_code_of["code"])
            operations.append(Update(
                key={"pk": pk, "sk": sk}, expression="SET uses = if_not_exists(uses, :zero) + :one",
                condition="#status = :active AND (attribute_not_exists(uses) OR uses < max_uses)",
                names={"#status": "status"}, values={":zero": 0, ":one": 1, ":active": "active"}))
        if code_window is not None:
            window_index = len(operations)
            pk, sk = code_window.item_key
            operations.append(Update(
                key={"pk": pk, "sk": sk}, expression="ADD hits :one SET #type = :type, expiration = :exp",
                condition="attribute_not_exists(hits) OR hits < :limit",
                names={"#type": "type"},
                values={":one": 1, ":type": "rate", ":exp": code_window.expires_epoch,
                        ":limit": code_limit}))
        try:
            self.table.transact(operations)
        except ConditionFailed as exc:
            failed = exc.failed_index()
            if failed is not None and failed == code_index:
                raise CodeUsedUp("the share code is used up", reasons=exc.reasons) from exc
            if failed is not None and failed == window_index:
                raise CodeRateExceeded("too many requests for this code", reasons=exc.reasons) from exc
            raise

    # -- checks ----------------------------------------------------------------------------------
    def contacts(self, contact_hash: str) -> list[Item]:
        """Everything indexed under one contact hash: leads, jobs and referrers (access pattern 8)."""
        return self.table.partition(contact_pk(contact_hash))

    def related(self, *, code: str | None, referrer_id: str | None, click_id: str | None) -> dict[str, Item]:
        """The lead's share code, referrer profile and click, in one BatchGetItem, keyed by ``type``."""
        wanted = [k for k in (keys.code(code) if code else None,
                              keys.referrer(referrer_id) if referrer_id else None,
                              keys.click(click_id) if click_id else None) if k]
        if not wanted:
            return {}
        return {str(item["type"]): item for item in self.table.batch_get(wanted)}

    def add_to_window(self, window: Window, member: str) -> int:
        """Add ``member`` to the window's set (idempotent under replay) and return the set's size."""
        pk, sk = window.item_key
        new = self.table.update(
            pk, sk, "ADD members :member SET #type = :type, expiration = :exp",
            names={"#type": "type"},
            values={":member": {member}, ":type": "rate", ":exp": window.expires_epoch},
            return_new=True)
        return len((new or {}).get("members", ()))


class LookAlikeBackfill:
    """Adds look-alike hashes to leads and referrer profiles stored before they existed (docs/leads.md,
    "Exact and look-alike keys"): one transaction per item, conditional, so a second run changes nothing.
    Which items need it is found by the backfill script (a maintenance Scan, never in a request path)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def add(self, item: Item, hashes: dict[str, str], contacts: Sequence[ContactRef]) -> bool:
        """Set ``hashes`` on ``item`` (only while it still has its exact hashes and none of these) and put
        its look-alike index entries. False when another run did it, or the item was erased meanwhile."""
        names = {f"#h{i}": name for i, name in enumerate(hashes)}
        values: dict[str, Any] = {f":h{i}": value for i, value in enumerate(hashes.values())}
        exact = [f"attribute_exists({name.removesuffix('_match_hash')}_hash)" for name in hashes]
        missing = [f"attribute_not_exists(#h{i})" for i in range(len(hashes))]
        operations: list[Put | Update] = [Update(
            key={"pk": item["pk"], "sk": item["sk"]},
            expression="SET " + ", ".join(f"#h{i} = :h{i}" for i in range(len(hashes))),
            condition=" AND ".join([*exact, *missing]), names=names, values=values)]
        for contact in contacts:
            operations.append(Put({
                "pk": contact_pk(contact.hash), "sk": lead_pk(item["lead_id"]), "type": "contact",
                "kind": contact.kind, "lead_id": item["lead_id"], "created_at": item["created_at"],
            }))
        try:
            self.table.transact(operations)
        except ConditionFailed:
            return False
        return True
