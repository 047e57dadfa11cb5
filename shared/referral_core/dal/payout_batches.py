"""Payout batches (``PAYOUT_BATCH#{id}``/``BATCH``) and the marker that puts a withdrawal in one batch only
(``WITHDRAWAL#{id}``/``PAYOUT_BATCH``), docs/data-model.md.

A batch is created in one transaction: the batch item, its audit entry, and for each withdrawal a condition
that it is still ``requested`` and the marker put only if none exists. Two staff members batching the same
withdrawal at once: one transaction wins, the other fails whole (nothing half-saved).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionCheck, ConditionFailed, Item, Put, Table, Update
from referral_core.dal.withdrawals import WithdrawalStatus, withdrawal_key
from referral_core.errors import Conflict

BATCHES_GSI = "PAYOUT_BATCHES"
MARKER_SK = "PAYOUT_BATCH"


def batch_key(batch_id: str) -> dict[str, str]:
    return {"pk": f"PAYOUT_BATCH#{batch_id}", "sk": "BATCH"}


def marker_key(withdrawal_id: str) -> dict[str, str]:
    return {"pk": withdrawal_key(withdrawal_id)["pk"], "sk": MARKER_SK}


class PayoutBatchRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, batch_id: str) -> Item | None:
        key = batch_key(batch_id)
        return self.table.get(key["pk"], key["sk"], consistent=True)

    def create(self, batch: Item, *, actor: str) -> None:
        """Write ``batch`` (its ``items`` name the withdrawals) if every withdrawal is still requested and in
        no other batch; 409 naming the first withdrawal that is not (``withdrawal_ids.{i}``)."""
        key = batch_key(batch["batch_id"])
        item = {**key, "type": "payout_batch", **batch, "gsi1pk": BATCHES_GSI,
                "gsi1sk": f"{batch['created_at']}#{batch['batch_id']}"}
        ops: list[Put | ConditionCheck] = [
            Put(item, condition="attribute_not_exists(pk)"),
            audit_entry(key["pk"], actor=actor, action="payout_batch.created", at=batch["created_at"], detail={
                "withdrawal_ids": [i["withdrawal_id"] for i in batch["items"]],
                "total_cents": batch["total_cents"]}),
        ]
        for entry in batch["items"]:
            ops.append(ConditionCheck(key=withdrawal_key(entry["withdrawal_id"]), condition="#status = :requested",
                                      names={"#status": "status"},
                                      values={":requested": str(WithdrawalStatus.REQUESTED)}))
            ops.append(Put({**marker_key(entry["withdrawal_id"]), "type": "payout_batch_marker",
                            "batch_id": batch["batch_id"], "at": batch["created_at"]},
                           condition="attribute_not_exists(pk)"))
        try:
            self.table.transact(ops)
        except ConditionFailed as exc:
            index = exc.failed_index()
            if index is None or index < 2:
                raise Conflict("the batch could not be saved; try again") from exc
            position = (index - 2) // 2
            why = "no longer requested (decided or put on hold)" if (index - 2) % 2 == 0 else "already in a batch"
            raise Conflict(f"withdrawal {batch['items'][position]['withdrawal_id']} is {why}",
                           fields={f"withdrawal_ids.{position}": why}) from exc

    def marker(self, withdrawal_id: str) -> Item | None:
        key = marker_key(withdrawal_id)
        return self.table.get(key["pk"], key["sk"], consistent=True)

    def withdrawals(self, withdrawal_ids: Sequence[str]) -> dict[str, Item]:
        """The withdrawals by id (one batch read)."""
        keys = [(withdrawal_key(i)["pk"], withdrawal_key(i)["sk"]) for i in withdrawal_ids]
        return {str(i["withdrawal_id"]): i for i in self.table.batch_get(keys)}

    def record_download(self, batch_id: str, *, actor: str, at: str, detail: Mapping[str, Any]) -> None:
        """The audit entry of one download of the batch's file (written before the details leave)."""
        put = audit_entry(batch_key(batch_id)["pk"], actor=actor, action="payout_batch.file_downloaded",
                          detail=dict(detail), at=at)
        self.table.put(put.item, condition=put.condition)

    def mark_paid(self, batch_id: str, *, reference: str, actor: str, at: str) -> None:
        """open -> paid with the bank's reference, and its audit entry (once: a second call is 409)."""
        key = batch_key(batch_id)
        self.table.transact([
            Update(key=key, expression="SET #status = :paid, paid_at = :at, paid_by = :by, payout_reference = :ref",
                   condition="#status = :open", names={"#status": "status"},
                   values={":paid": "paid", ":open": "open", ":at": at, ":by": actor, ":ref": reference}),
            audit_entry(key["pk"], actor=actor, action="payout_batch.paid", at=at,
                        detail={"payout_reference": reference}),
        ])

    def page(self, *, limit: int, cursor: str | None) -> tuple[list[Item], str | None]:
        page = self.table.query("gsi1pk = :pk", {":pk": BATCHES_GSI}, index="gsi1", newest_first=True, limit=limit,
                                start_key=decode_cursor(cursor, index="gsi1", partition=BATCHES_GSI))
        return page.items, encode_cursor(page.last_key)

    def audit(self, batch_id: str) -> list[Item]:
        return self.table.partition(batch_key(batch_id)["pk"], sk_prefix="AUDIT#", consistent=True)
