"""Withdrawals (``WITHDRAWAL#{id}``/``WITHDRAWAL``): a referrer's request to be paid, held in
``held_cents`` until staff pay or reject it (or a clawback puts it on hold)."""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import Item, Put, Table, Update


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    ON_HOLD = "on_hold"  # a clawback reached the money it holds: paid only with a staff override
    PAID = "paid"
    REJECTED = "rejected"


#: Withdrawals whose amount is still in ``held_cents`` (waiting for a staff decision).
OPEN_WITHDRAWALS = (WithdrawalStatus.REQUESTED, WithdrawalStatus.ON_HOLD)
#: Why a withdrawal is on hold (the referrer sees this code; staff also see the jobs).
HOLD_REASON_CLAWBACK = "reward_clawed_back"


# -- keys ------------------------------------------------------------------------------------------
def withdrawal_key(withdrawal_id: str) -> dict[str, str]:
    return {"pk": f"WITHDRAWAL#{withdrawal_id}", "sk": "WITHDRAWAL"}


def withdrawals_of_referrer_gsi(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}#WITHDRAWALS"


def withdrawals_by_status_gsi(status: WithdrawalStatus | str) -> str:
    return f"WITHDRAWALS#{status}"


class WithdrawalRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, withdrawal_id: str) -> Item | None:
        key = withdrawal_key(withdrawal_id)
        return self.table.get(key["pk"], key["sk"], consistent=True)

    def new(self, withdrawal: Item) -> Put:
        key = withdrawal_key(withdrawal["withdrawal_id"])
        order = f"{withdrawal['created_at']}#{withdrawal['withdrawal_id']}"
        item = {**key, "type": "withdrawal", **withdrawal,
                "gsi1pk": withdrawals_by_status_gsi(withdrawal["status"]), "gsi1sk": order,
                "gsi2pk": withdrawals_of_referrer_gsi(withdrawal["referrer_id"]), "gsi2sk": order}
        return Put(item, condition="attribute_not_exists(pk)")

    def decide(self, withdrawal: Item, status: WithdrawalStatus, *, actor: str, at: str,
               attributes: dict[str, Any]) -> tuple[Update, Put]:
        """Move an open withdrawal to ``status`` (the once-only guard: only from the status it was read in,
        so a hold or a decision in between makes it fail) and its audit entry."""
        key = withdrawal_key(withdrawal["withdrawal_id"])
        values: dict[str, Any] = {":status": str(status), ":was": str(withdrawal["status"]),
                                  ":queue": withdrawals_by_status_gsi(status), ":at": at, ":by": actor}
        sets = ["#status = :status", "gsi1pk = :queue", "decided_at = :at", "decided_by = :by"]
        for index, (name, value) in enumerate(attributes.items()):
            sets.append(f"{name} = :a{index}")
            values[f":a{index}"] = value
        guard = Update(key=key, expression="SET " + ", ".join(sets), condition="#status = :was",
                       names={"#status": "status"}, values=values)
        detail = {"amount_cents": withdrawal["amount_cents"], "from_status": str(withdrawal["status"]),
                  **attributes}
        if withdrawal.get("hold_jobs"):
            detail |= {"hold_cents": withdrawal.get("hold_cents"), "hold_jobs": withdrawal["hold_jobs"]}
        audit = audit_entry(key["pk"], actor=actor, action=f"withdrawal.{status}", detail=detail, at=at)
        return guard, audit

    def hold(self, withdrawal: Item, *, cents: int, job_id: str, at: str) -> tuple[Update, Put]:
        """Put an open withdrawal on hold for ``cents`` of a clawback of ``job_id`` (a transaction item of
        the clawback, conditional on the withdrawal being as read), and its audit entry."""
        key = withdrawal_key(withdrawal["withdrawal_id"])
        before = int(withdrawal.get("hold_cents") or 0)
        values: dict[str, Any] = {
            ":on_hold": str(WithdrawalStatus.ON_HOLD), ":was": str(withdrawal["status"]),
            ":queue": withdrawals_by_status_gsi(WithdrawalStatus.ON_HOLD), ":at": at,
            ":reason": HOLD_REASON_CLAWBACK, ":cents": before + cents, ":before": before,
            ":job": [job_id], ":none": []}
        expression = ("SET #status = :on_hold, gsi1pk = :queue, held_at = if_not_exists(held_at, :at), "
                      "hold_reason = :reason, hold_cents = :cents, "
                      "hold_jobs = list_append(if_not_exists(hold_jobs, :none), :job)")
        condition = "#status = :was AND (attribute_not_exists(hold_cents) OR hold_cents = :before)"
        update = Update(key=key, expression=expression, condition=condition, names={"#status": "status"},
                        values=values)
        audit = audit_entry(key["pk"], actor="system", action="withdrawal.on_hold", at=at, detail={
            "amount_cents": withdrawal["amount_cents"], "reason": HOLD_REASON_CLAWBACK, "job_id": job_id,
            "hold_cents": before + cents})
        return update, audit

    def open_of_referrer(self, referrer_id: str) -> list[Item]:
        """The referrer's requested and on-hold withdrawals (their amounts make up ``held_cents``), newest
        first."""
        values = {":pk": withdrawals_of_referrer_gsi(referrer_id),
                  **{f":s{i}": str(s) for i, s in enumerate(OPEN_WITHDRAWALS)}}
        statuses = ", ".join(f":s{i}" for i in range(len(OPEN_WITHDRAWALS)))
        return list(self.table.query_all("gsi2pk = :pk", values, index="gsi2", newest_first=True,
                                         names={"#status": "status"},
                                         filter_expression=f"#status IN ({statuses})"))

    def by_status(self, status: WithdrawalStatus, *, limit: int, cursor: str | None
                  ) -> tuple[list[Item], str | None]:
        partition = withdrawals_by_status_gsi(status)
        page = self.table.query("gsi1pk = :pk", {":pk": partition}, index="gsi1", newest_first=True, limit=limit,
                                start_key=decode_cursor(cursor, index="gsi1", partition=partition))
        return page.items, encode_cursor(page.last_key)

    def of_referrer(self, referrer_id: str, *, limit: int = 50) -> list[Item]:
        return self.table.query("gsi2pk = :pk", {":pk": withdrawals_of_referrer_gsi(referrer_id)},
                                index="gsi2", newest_first=True, limit=limit).items
