"""Finding and erasing a person's data: contact hashes lead to lead, job, referrer and application partitions.

Changes are UpdateItem SET/REMOVE on named attributes (never a whole-item Put, so concurrent writers of the
referral keep commuting), each partition in its own transaction together with its audit entry.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from referral_core.dal import keys
from referral_core.dal.applications import application_contact_pk
from referral_core.dal.audit import audit_entry
from referral_core.dal.contacts import contact_pk
from referral_core.dal.dynamo import Delete, Item, Put, Table, Update

MAX_TRANSACTION = 100


@dataclass(frozen=True)
class ItemChange:
    """New values for some attributes of one item and the attributes to drop."""

    pk: str
    sk: str
    sets: dict[str, Any] = field(default_factory=dict)
    removes: tuple[str, ...] = ()


class PrivacyRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def contacts(self, value_hash: str) -> list[Item]:
        """Who has this hashed email/phone: items with sk ``LEAD#id`` / ``JOB#id`` / ``REFERRER#id``."""
        return self.table.partition(contact_pk(value_hash))

    def application_contacts(self, value_hash: str) -> list[Item]:
        """Applications with this hashed email/phone: sk ``APPLICATION#id``, ``role`` applicant or guardian."""
        return self.table.partition(application_contact_pk(value_hash))

    def referrers_by_email(self, email_hash: str) -> list[Item]:
        gsi = keys.referrer_by_email_gsi(email_hash)
        return list(self.table.query_all("gsi1pk = :email", {":email": gsi}, index="gsi1"))

    def partition(self, pk: str) -> list[Item]:
        return self.table.partition(pk, consistent=True)

    def apply(self, pk: str, changes: Sequence[ItemChange], *, actor: str, action: str, at: str,
              detail: dict[str, Any]) -> None:
        """Write the changes of one partition with an audit entry in each transaction."""
        updates = [_update(change) for change in changes]
        self._in_transactions(pk, updates, actor=actor, action=action, at=at, detail=detail)

    def delete(self, audit_pk: str, item_keys: Iterable[tuple[str, str]], *, actor: str, action: str,
               at: str, detail: dict[str, Any]) -> None:
        deletes = [Delete(key={"pk": pk, "sk": sk}) for pk, sk in dict.fromkeys(item_keys)]
        self._in_transactions(audit_pk, deletes, actor=actor, action=action, at=at, detail=detail)

    def mark_referrer_erased(self, profile: Item, *, actor: str, at: str, detail: dict[str, Any]) -> None:
        """Status ``erased`` on the profile and on every share code of the referrer, sessions revoked
        (``ReferrerRepository.set_status``), so their codes stop attributing at once."""
        from referral_core.dal.referrers import ReferrerRepository

        ReferrerRepository(self.table).set_status(
            str(profile["referrer_id"]), "erased", expected=str(profile.get("status") or "active"), actor=actor,
            action="referrer.erased", at=at, detail=detail, revoke_sessions=True)

    def record(self, audit_pk: str, *, actor: str, action: str, at: str, detail: dict[str, Any]) -> None:
        self.table.transact([audit_entry(audit_pk, actor=actor, action=action, at=at, detail=detail)])

    def _in_transactions(self, audit_pk: str, operations: Sequence[Update | Delete], *, actor: str,
                         action: str, at: str, detail: dict[str, Any]) -> None:
        step = MAX_TRANSACTION - 1
        for start in range(0, len(operations), step):
            audit: Put = audit_entry(audit_pk, actor=actor, action=action, at=at,
                                     detail={**detail, "items": len(operations[start:start + step])})
            self.table.transact([*operations[start:start + step], audit])


def _update(change: ItemChange) -> Update:
    names: dict[str, str] = {}
    values: dict[str, Any] = {}
    sets: list[str] = []
    for index, (name, value) in enumerate(change.sets.items()):
        names[f"#s{index}"] = name
        values[f":s{index}"] = value
        sets.append(f"#s{index} = :s{index}")
    removes = []
    for index, name in enumerate(change.removes):
        names[f"#r{index}"] = name
        removes.append(f"#r{index}")
    expression = " ".join(part for part in (
        "SET " + ", ".join(sets) if sets else "", "REMOVE " + ", ".join(removes) if removes else "") if part)
    return Update(key={"pk": change.pk, "sk": change.sk}, expression=expression,
                  condition="attribute_exists(pk)", names=names, values=values or None)
