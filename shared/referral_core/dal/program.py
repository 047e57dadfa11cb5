"""Programme rules: ``PROGRAM``/``CURRENT`` plus an immutable ``PROGRAM``/``VERSION#{n:06d}`` per change."""

from __future__ import annotations

from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionFailed, Put, Table
from referral_core.errors import Conflict

PROGRAM_PK = "PROGRAM"
CURRENT_SK = "CURRENT"


def version_sk(version: int) -> str:
    return f"VERSION#{version:06d}"


class ProgramRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def current(self) -> dict[str, Any] | None:
        """The stored ``CURRENT`` item (``rules``, ``version``, ``updated_at``, ``updated_by``), if any."""
        return self.table.get(PROGRAM_PK, CURRENT_SK, consistent=True)

    def versions(self, *, limit: int, cursor: str | None) -> tuple[list[dict[str, Any]], str | None]:
        """Saved versions, newest first: Query ``PROGRAM`` / ``begins_with(sk, VERSION#)`` descending;
        ``cursor`` one this method returned. Returns the items and the next cursor."""
        start_key = decode_cursor(cursor, index=None, partition=PROGRAM_PK, sort_prefix="VERSION#")
        page = self.table.query("pk = :pk AND begins_with(sk, :prefix)", {":pk": PROGRAM_PK, ":prefix": "VERSION#"},
                                newest_first=True, limit=limit, start_key=start_key)
        return page.items, encode_cursor(page.last_key)

    def save(self, rules: dict[str, Any], *, expected_version: int, actor: str, at: str) -> int:
        """Write version ``expected_version + 1`` and its history and audit entries, atomically.

        Raises :class:`~referral_core.errors.Conflict` when someone saved since ``expected_version``.
        """
        version = expected_version + 1
        record = {"rules": rules, "version": version, "updated_at": at, "updated_by": actor}
        current = Put({"pk": PROGRAM_PK, "sk": CURRENT_SK, "type": "program", **record},
                      # version 0: nothing saved yet, or an item written before the API (no version)
                      condition=("attribute_not_exists(version)" if expected_version == 0
                                 else "version = :expected"),
                      values=None if expected_version == 0 else {":expected": expected_version})
        history = Put({"pk": PROGRAM_PK, "sk": version_sk(version), "type": "program", **record},
                      condition="attribute_not_exists(pk)")
        audit = audit_entry(PROGRAM_PK, actor=actor, action="program.updated",
                            detail={"version": version, "rules": rules}, at=at)
        try:
            self.table.transact([current, history, audit])
        except ConditionFailed as exc:
            raise Conflict("the programme changed since you read it; reload and try again",
                           fields={"expected_version": "stale"}) from exc
        return version
