"""The business's branding: ``PROGRAM``/``BRANDING``, beside the programme rules (one item, versioned by a
conditional write, audited in the ``PROGRAM`` partition like the rules). The logo is stored in the item
(base64, at most 40 KiB decoded: well inside DynamoDB's 400 KB item)."""

from __future__ import annotations

from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.dynamo import ConditionFailed, Put, Table
from referral_core.dal.program import PROGRAM_PK
from referral_core.errors import Conflict

BRANDING_SK = "BRANDING"


class BrandingRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def current(self) -> dict[str, Any] | None:
        return self.table.get(PROGRAM_PK, BRANDING_SK)

    def save(self, branding: dict[str, Any], *, expected_version: int, actor: str, at: str) -> int:
        """Write version ``expected_version + 1``; :class:`Conflict` when someone saved since."""
        version = expected_version + 1
        item = {"pk": PROGRAM_PK, "sk": BRANDING_SK, "type": "branding", **branding, "version": version,
                "updated_at": at, "updated_by": actor}
        put = Put(item, condition="attribute_not_exists(version)" if expected_version == 0 else "version = :expected",
                  values=None if expected_version == 0 else {":expected": expected_version})
        detail = {k: v for k, v in branding.items() if k != "logo_base64"}
        audit = audit_entry(PROGRAM_PK, actor=actor, action="branding.updated",
                            detail={"version": version, **detail}, at=at)
        try:
            self.table.transact([put, audit])
        except ConditionFailed as exc:
            raise Conflict("the branding changed since you read it; reload and try again",
                           fields={"expected_version": "stale"}) from exc
        return version
