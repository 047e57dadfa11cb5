"""Disputes (``DISPUTE#{id}``): records with status open -> resolved, listed by status on gsi1."""

from __future__ import annotations

from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.dynamo import ConditionFailed, Item, Page, Put, Table, Update
from referral_core.dal.referrals import lead_pk


class AlreadyResolved(ConditionFailed):
    pass


def dispute_key(dispute_id: str) -> tuple[str, str]:
    return f"DISPUTE#{dispute_id}", "DISPUTE"


def disputes_gsi(status: str) -> str:
    return f"DISPUTES#{status}"


class DisputeRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, dispute_id: str) -> Item | None:
        return self.table.get(*dispute_key(dispute_id), consistent=True)

    def page(self, status: str, *, limit: int, start_key: dict[str, Any] | None) -> Page:
        return self.table.query("gsi1pk = :status", {":status": disputes_gsi(status)}, index="gsi1",
                                newest_first=True, limit=limit, start_key=start_key)

    def open(self, dispute: Item, *, actor: str) -> None:
        """Write the dispute with its audit entry, and note it in the disputed referral's own trail."""
        pk, sk = dispute_key(dispute["dispute_id"])
        item = {**dispute, "pk": pk, "sk": sk, "type": "dispute", "gsi1pk": disputes_gsi(dispute["status"]),
                "gsi1sk": f"{dispute['created_at']}#{dispute['dispute_id']}"}
        detail = {"dispute_id": dispute["dispute_id"], "referral_id": dispute.get("referral_id"),
                  "referrer_id": dispute.get("referrer_id")}
        operations = [Put(item, condition="attribute_not_exists(pk)"),
                      audit_entry(pk, actor=actor, action="dispute.opened", detail=detail,
                                  at=dispute["created_at"])]
        if dispute.get("referral_id"):
            operations.append(audit_entry(lead_pk(dispute["referral_id"]), actor=actor,
                                          action="dispute.opened", detail=detail, at=dispute["created_at"]))
        self.table.transact(operations)

    def resolve(self, dispute_id: str, *, outcome: str, note: dict[str, Any], actor: str, at: str,
                referral_id: str | None) -> None:
        """open -> resolved once (AlreadyResolved otherwise), appending the note, with audit entries."""
        pk, sk = dispute_key(dispute_id)
        detail = {"dispute_id": dispute_id, "outcome": outcome}
        operations: list[Put | Update] = [
            Update(key={"pk": pk, "sk": sk},
                   expression="SET #status = :resolved, outcome = :outcome, resolved_at = :at, "
                              "resolved_by = :by, gsi1pk = :list, notes = list_append(notes, :note)",
                   condition="#status = :open", names={"#status": "status"},
                   values={":resolved": "resolved", ":outcome": outcome, ":at": at, ":by": actor,
                           ":list": disputes_gsi("resolved"), ":note": [note], ":open": "open"}),
            audit_entry(pk, actor=actor, action="dispute.resolved", detail=detail, at=at),
        ]
        if referral_id:
            operations.append(audit_entry(lead_pk(referral_id), actor=actor, action="dispute.resolved",
                                          detail=detail, at=at))
        try:
            self.table.transact(operations)
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                raise AlreadyResolved("the dispute is already resolved", reasons=exc.reasons) from exc
            raise
