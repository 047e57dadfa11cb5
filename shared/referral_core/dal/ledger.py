"""The append-only ledger and the balance it moves (``REFERRER#{id}``/``BALANCE``).

The balance changes only in :meth:`LedgerRepository.post`, in the same transaction as exactly one ledger
entry. Entry ids are ``{job_id|withdrawal_id}#{kind}``, so a replayed event collides with the entry it
already wrote instead of posting twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.dynamo import ConditionCheck, ConditionFailed, Delete, Item, Put, Table, Update
from referral_core.dal.keys import referrer_pk
from referral_core.errors import Conflict, NotFound

Operation = Put | Update | ConditionCheck | Delete


class EntryKind(StrEnum):
    CREDIT_PENDING = "credit_pending"
    RELEASE_TO_AVAILABLE = "release_to_available"
    REVERSAL = "reversal"
    CLAWBACK = "clawback"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_PAID = "withdrawal_paid"
    WITHDRAWAL_REJECTED_RELEASE = "withdrawal_rejected_release"
    ADJUSTMENT = "adjustment"  # staff: a bonus (+) or a correction (-) of the available balance, with a reason


# -- keys ------------------------------------------------------------------------------------------
def balance_key(referrer_id: str) -> dict[str, str]:
    return {"pk": referrer_pk(referrer_id), "sk": "BALANCE"}


def entry_id(source_id: str, kind: EntryKind) -> str:
    """Deterministic: the same (job or withdrawal, kind) always names the same ledger entry."""
    return f"{source_id}#{kind}"


def entries_sk_prefix(source_id: str | None = None) -> str:
    """The sort-key prefix of the referrer's ledger entries, or of those about one job or withdrawal."""
    return f"LEDGER#{source_id}#" if source_id is not None else "LEDGER#"


# -- the balance and its ledger --------------------------------------------------------------------
@dataclass(frozen=True)
class Deltas:
    """How one entry moves each balance field. The balance is the sum of every entry's deltas."""

    pending_cents: int = 0
    available_cents: int = 0
    held_cents: int = 0
    paid_cents: int = 0
    rewarded_count: int = 0
    clawback_outstanding_cents: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


BALANCE_FIELDS = tuple(Deltas().as_dict())


@dataclass(frozen=True)
class Entry:
    referrer_id: str
    kind: EntryKind
    source_id: str
    amount_cents: int
    deltas: Deltas
    at: str
    detail: dict[str, Any] | None = None

    @property
    def entry_id(self) -> str:
        return entry_id(self.source_id, self.kind)

    def item(self) -> Item:
        return {"pk": referrer_pk(self.referrer_id), "sk": entries_sk_prefix() + self.entry_id, "type": "ledger",
                "entry_id": self.entry_id, "referrer_id": self.referrer_id, "kind": str(self.kind),
                "source_id": self.source_id, "amount_cents": self.amount_cents,
                "deltas": self.deltas.as_dict(), "at": self.at, "detail": self.detail or {}}


class AlreadyPosted(Conflict):
    """The entry (or the once-only guard beside it) exists: a replay; nothing changed."""


class BalanceChanged(Conflict):
    """The balance moved since it was read (``expected_version``): read again and recompute."""


class InsufficientFunds(Conflict):
    """The entry would take ``available_cents`` or ``held_cents`` below zero."""


class LedgerRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def balance(self, referrer_id: str) -> Item:
        key = balance_key(referrer_id)
        item = self.table.get(key["pk"], key["sk"], consistent=True)
        if item is None:
            raise NotFound("no balance for this referrer")
        return item

    def entries(self, referrer_id: str) -> list[Item]:
        return self.table.partition(referrer_pk(referrer_id), sk_prefix=entries_sk_prefix(), consistent=True)

    def referrer_status(self, referrer_id: str) -> str | None:
        """The referrer's ``status`` (profile in the same partition), None without a profile."""
        profile = self.table.get(referrer_pk(referrer_id), "PROFILE", consistent=True)
        return str(profile.get("status") or "active") if profile else None

    def referrer_type(self, referrer_id: str) -> str | None:
        """The referrer's ``referrer_type`` (its rules in ``rules.by_type``), None without one or a profile."""
        profile = self.table.get(referrer_pk(referrer_id), "PROFILE", consistent=True)
        return str(profile["referrer_type"]) if profile and profile.get("referrer_type") else None

    def post(self, entry: Entry, *, guards: Sequence[Operation] = (), also: Sequence[Operation] = (),
             expected_version: int | None = None, allow_negative: bool = False) -> None:
        """Write ``entry`` and apply its deltas to the balance in one transaction, with ``guards``
        (once-only conditions, checked first) and ``also`` (writes that go with it).

        The balance update is conditional: available and held stay ≥ 0 (available may go negative only
        with ``allow_negative``), and on ``expected_version`` when the deltas were computed from a read.
        Raises :class:`AlreadyPosted`, :class:`BalanceChanged` or :class:`InsufficientFunds`.
        """
        deltas = entry.deltas.as_dict()
        names = {f"#{i}": name for i, name in enumerate(BALANCE_FIELDS)}
        values: dict[str, Any] = {f":{i}": deltas[name] for i, name in enumerate(BALANCE_FIELDS)}
        adds = [f"#{i} :{i}" for i in range(len(BALANCE_FIELDS))]
        values |= {":one": 1, ":at": entry.at}
        conditions = ["attribute_exists(pk)"]
        for field, allowed in (("available_cents", allow_negative), ("held_cents", False)):
            if deltas[field] < 0 and not allowed:
                conditions.append(f"{field} >= :need_{field}")
                values[f":need_{field}"] = -deltas[field]
        if expected_version is not None:
            conditions.append("version = :expected")
            values[":expected"] = expected_version
        balance = Update(key=balance_key(entry.referrer_id),
                         expression=f"SET updated_at = :at ADD {', '.join(adds)}, version :one",
                         condition=" AND ".join(conditions), names=names, values=values)
        ledger = Put(entry.item(), condition="attribute_not_exists(pk)")
        operations = [*guards, ledger, balance, *also]
        try:
            self.table.transact(operations)
        except ConditionFailed as exc:
            index = exc.failed_index()
            if index is not None and index <= len(guards):
                raise AlreadyPosted("this entry was already posted", reasons=exc.reasons) from exc
            if index == len(guards) + 1 and expected_version is not None:
                raise BalanceChanged("the balance changed, read it again", reasons=exc.reasons) from exc
            if index == len(guards) + 1:
                raise InsufficientFunds("the amount is more than the available balance",
                                        fields={"amount_cents": "more than the available balance"},
                                        reasons=exc.reasons) from exc
            raise


def referrer_audit(referrer_id: str, *, actor: str, action: str, at: str, detail: dict[str, Any]) -> Put:
    """An audit entry in the referrer's partition (to go with a ledger entry in :meth:`LedgerRepository.post`)."""
    return audit_entry(referrer_pk(referrer_id), actor=actor, action=action, detail=detail, at=at)
