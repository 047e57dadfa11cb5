"""Month-keyed reads for the accountant's CSV exports (no Scan).

Referrals and rewards carry no month key of their own (their GSIs are per referrer and per queue), so
their writers also put a small pointer item ``EXPORT#{kind}#{yyyy-mm}`` / ``{at}#{id}`` naming the
record; an export reads a month's pointers in order, then batch-gets the records for their current
state. Payouts are paid withdrawals, already listed by gsi1 ``WITHDRAWALS#paid`` / ``{created_at}#{id}``.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

from referral_core.dal.dynamo import Item, Put, Table
from referral_core.dal.withdrawals import WithdrawalStatus, withdrawals_by_status_gsi

PAGE_SIZE = 100  # BatchGetItem's limit


class ExportKind(StrEnum):
    REFERRALS = "referrals"
    REWARDS = "rewards"


def export_pointer(kind: ExportKind, *, at: str, record_id: str, target: dict[str, str]) -> Put:
    """The pointer to ``target`` (its key) in the month of ``at``. Deterministic, so a replayed write
    puts the same item again instead of a second row."""
    item = {"pk": f"EXPORT#{kind}#{at[:7]}", "sk": f"{at}#{record_id}", "type": "export_pointer",
            "target_pk": target["pk"], "target_sk": target["sk"]}
    return Put(item)


class ExportRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def records(self, kind: ExportKind, month: str) -> Iterator[list[Item]]:
        """The month's records in time order, a page (≤ 100) at a time."""
        pointers = self.table.query_all("pk = :pk", {":pk": f"EXPORT#{kind}#{month}"}, limit=PAGE_SIZE)
        for page in _pages(pointers):
            keys = [(pointer["target_pk"], pointer["target_sk"]) for pointer in page]
            found = {(item["pk"], item["sk"]): item for item in self.table.batch_get(keys)}
            yield [found[key] for key in keys if key in found]

    def payouts(self, month: str) -> Iterator[list[Item]]:
        """Paid withdrawals requested in ``month``, oldest first, a page at a time."""
        values = {":pk": withdrawals_by_status_gsi(WithdrawalStatus.PAID), ":from": month,
                  ":to": f"{month}\uffff"}
        yield from _pages(self.table.query_all("gsi1pk = :pk AND gsi1sk BETWEEN :from AND :to", values,
                                               index="gsi1", limit=PAGE_SIZE))


def _pages(items: Iterator[Item]) -> Iterator[list[Item]]:
    page: list[Item] = []
    for item in items:
        page.append(item)
        if len(page) == PAGE_SIZE:
            yield page
            page = []
    if page:
        yield page
