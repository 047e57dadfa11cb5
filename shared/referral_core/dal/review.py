"""Staff review: the queue (gsi2 ``REVIEW#{status}``), the evidence chain and the decision transactions.

Every staff change is one TransactWriteItems: the referral UpdateItem (conditional on ``version``), the
decision/note items and the audit entry, so a decision is either fully recorded or not at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from referral_core.dal import keys
from referral_core.dal.audit import audit_entry
from referral_core.dal.dynamo import ConditionCheck, ConditionFailed, Item, Put, Table, Update
from referral_core.dal.ledger import entries_sk_prefix
from referral_core.dal.referrals import (
    REFERRAL_SK,
    HoldClauses,
    lead_pk,
    referrals_of_referrer_gsi,
    review_gsi,
)
from referral_core.dal.rewards import reward_key
from referral_core.ids import new_id
from referral_core.stages import ReviewStatus

#: Most items one filtered queue page reads (DynamoDB bills filtered-out items too); past it the page
#: ends early with a cursor.
QUEUE_READ_BUDGET = 1000
QUEUE_COUNT_CAP = 1000  # per status: the queue counts read at most this many items each


class StaleVersion(ConditionFailed):
    """The referral's ``version`` is not the one the caller read (or the referral is gone)."""


class ReferrerMissing(ConditionFailed):
    """The referrer staff attributed a referral to does not exist (any more)."""


@dataclass
class QueuePage:
    items: list[Item]
    last_key: dict[str, Any] | None
    evaluated: int  # items DynamoDB read (ScannedCount summed): the page's read cost in items


@dataclass(frozen=True)
class StaffChange:
    """Who changes which referral, when, why, and on top of which version."""

    lead_id: str
    actor: str
    at: str
    note: str
    expected_version: int


@dataclass(frozen=True)
class Decision:
    decision: str
    review_status: ReviewStatus
    previous_status: str | None
    hold: HoldClauses  # the visible stage: held (under_review / not_eligible) or released
    resolve_flags: tuple[str, ...] = ()  # flag types to mark resolved


@dataclass(frozen=True)
class Attribution:
    referrer_id: str | None  # None: staff decided the lead came from no referrer
    previous_referrer_id: str | None
    previous_source: str | None
    created_at: str  # the referral's, for its place in the referrer's list
    resolve_flags: tuple[str, ...] = ()


def _version_condition(expected: int) -> str:
    # A referral nobody has decided on yet may have no version attribute: that is version 0.
    if expected == 0:
        return "attribute_exists(pk) AND (attribute_not_exists(#version) OR #version = :expected)"
    return "attribute_exists(pk) AND #version = :expected"


def _queue_key(item: Item) -> dict[str, Any]:
    """The ``ExclusiveStartKey`` that resumes a ``gsi2`` query right after ``item``."""
    return {name: item[name] for name in ("pk", "sk", "gsi2pk", "gsi2sk")}


class ReviewRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- reads -----------------------------------------------------------------------------------
    def queue_page(self, status: ReviewStatus, *, limit: int, start_key: dict[str, Any] | None,
                   flag_type: str | None = None, severity: str | None = None, source: str | None = None,
                   updated: tuple[str | None, str | None] = (None, None),
                   read_budget: int = QUEUE_READ_BUDGET) -> QueuePage:
        """Up to ``limit`` referrals under ``REVIEW#{status}``, newest first, resuming after ``start_key``.

        Without filters one Query reads exactly ``limit`` items. With a flag filter DynamoDB reads, then
        drops, non-matching items (they still cost reads), so this queries again, ``limit`` items a call,
        until the page is full, the partition ends or ``read_budget`` items were read: at most
        ``read_budget / limit`` calls however the matches are spread. When a call finds more matches than
        the page has room for, the page ends at the last one kept and ``last_key`` is built from it;
        otherwise ``last_key`` is the last item *read*. Either way pages never overlap or skip.
        """
        conditions, values = [], {":queue": review_gsi(status)}
        names: dict[str, str] = {}
        key = "gsi2pk = :queue"
        low, high = updated  # the sort key starts with updated_at: a date range is a key condition
        if low and high:
            key += " AND gsi2sk BETWEEN :low AND :high"
        elif low or high:
            key += " AND gsi2sk >= :low" if low else " AND gsi2sk <= :high"
        values |= {k: v for k, v in ((":low", low), (":high", high)) if v}
        if source:
            conditions.append("#source = :source")  # SOURCE is a reserved word
            names["#source"] = "source"
            values[":source"] = source
        if flag_type:
            conditions.append("contains(flag_types, :flag_type)")
            values[":flag_type"] = flag_type
        if severity:
            conditions.append("contains(flag_severities, :severity)")
            values[":severity"] = severity
        items: list[Item] = []
        evaluated = 0
        last_key = start_key
        while True:
            page = self.table.query(
                key, values, index="gsi2", newest_first=True, limit=limit, names=names or None,
                filter_expression=" AND ".join(conditions) or None, start_key=last_key)
            room = limit - len(items)
            items.extend(page.items[:room])
            evaluated += page.scanned
            last_key = _queue_key(items[-1]) if len(page.items) > room else page.last_key
            if not last_key or len(items) >= limit or evaluated >= read_budget:
                return QueuePage(items=items, last_key=last_key, evaluated=evaluated)

    def queue_size(self, status: ReviewStatus, *, cap: int = QUEUE_COUNT_CAP) -> tuple[int, bool]:
        """Referrals under ``REVIEW#{status}``, counted up to ``cap`` (a COUNT Query reads the items)."""
        return self.table.count("gsi2pk = :queue", {":queue": review_gsi(status)}, index="gsi2", cap=cap)

    def lead_partition(self, lead_id: str) -> list[Item]:
        """Lead, referral, flags, notes, decisions and audit of one lead (strongly consistent)."""
        return self.table.partition(lead_pk(lead_id), consistent=True)

    def job_partition(self, job_id: str) -> list[Item]:
        return self.table.partition(f"JOB#{job_id}")

    def click(self, click_id: str) -> Item | None:
        return self.table.get(*keys.click(click_id))

    def share_code(self, code: str) -> Item | None:
        return self.table.get(*keys.code(code.upper()))

    def reward(self, job_id: str) -> Item | None:
        key = reward_key(job_id)
        return self.table.get(key["pk"], key["sk"])

    def referrer(self, referrer_id: str) -> Item | None:
        return self.table.get(*keys.referrer(referrer_id))

    def ledger_for_job(self, referrer_id: str, job_id: str) -> list[Item]:
        """The referrer's ledger entries about one job: entry ids are ``{job_id}#{kind}``
        (``dal.ledger.entry_id``), so one Query on that sort-key prefix reads exactly them."""
        entries = self.table.partition(keys.referrer_pk(referrer_id), sk_prefix=entries_sk_prefix(job_id))
        return [entry for entry in entries if entry.get("source_id") == job_id]

    # -- writes ----------------------------------------------------------------------------------
    def record_decision(self, change: StaffChange, decision: Decision) -> int:
        """Apply a staff decision atomically and return the referral's new version.

        Raises :class:`StaleVersion` when the referral changed since ``expected_version`` was read.
        """
        note_id, decision_id = new_id(), new_id()
        sets = ["review_status = :status", "gsi2pk = :queue", "gsi2sk = :order", "updated_at = :at",
                "#version = if_not_exists(#version, :zero) + :one", "last_decision = :decision"]
        removes = list(decision.hold.removes)
        values: dict[str, Any] = {
            ":status": str(decision.review_status), ":queue": review_gsi(decision.review_status),
            ":order": f"{change.at}#{change.lead_id}", ":at": change.at, ":zero": 0, ":one": 1,
            ":decision": decision.decision, ":expected": change.expected_version,
        }
        sets += decision.hold.sets
        values |= decision.hold.values
        names = {"#version": "version", "#stage": "stage"}
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        pk = lead_pk(change.lead_id)
        new_version = change.expected_version + 1
        operations = [
            Update(key={"pk": pk, "sk": REFERRAL_SK}, expression=expression,
                   condition=_version_condition(change.expected_version), names=names, values=values),
            Put(_note(change, note_id, context=f"decision:{decision.decision}"),
                condition="attribute_not_exists(pk)"),
            Put({"pk": pk, "sk": f"DECISION#{decision_id}", "type": "decision", "lead_id": change.lead_id,
                 "decision_id": decision_id, "decision": decision.decision, "note_id": note_id,
                 "from_status": decision.previous_status, "to_status": str(decision.review_status),
                 "version": new_version, "actor": change.actor, "at": change.at},
                condition="attribute_not_exists(pk)"),
            *self._resolve_flags(change, decision.resolve_flags, f"decision:{decision.decision}"),
            audit_entry(pk, actor=change.actor, action=f"referral.{decision.decision}", at=change.at,
                        detail={"decision_id": decision_id, "note_id": note_id, "version": new_version,
                                "from_status": decision.previous_status,
                                "to_status": str(decision.review_status)}),
        ]
        self._transact(operations)
        return new_version

    def record_attribution(self, change: StaffChange, attribution: Attribution) -> int:
        """Point the referral at a referrer (or at none) with ``source = staff``; returns the new version.

        Raises :class:`StaleVersion`, or :class:`ReferrerMissing` if the referrer vanished meanwhile.
        """
        note_id = new_id()
        pk = lead_pk(change.lead_id)
        record = {"source": "staff", "referrer_id": attribution.referrer_id,
                  "previous_referrer_id": attribution.previous_referrer_id,
                  "previous_source": attribution.previous_source, "resolved_by": change.actor,
                  "resolved_at": change.at, "note_id": note_id}
        values: dict[str, Any] = {":source": "staff", ":attribution": record, ":at": change.at, ":zero": 0,
                                  ":one": 1, ":expected": change.expected_version}
        sets = ["#source = :source", "attribution = :attribution", "updated_at = :at",
                "#version = if_not_exists(#version, :zero) + :one"]
        removes: list[str] = []
        if attribution.referrer_id:
            sets += ["referrer_id = :referrer", "gsi1pk = :list", "gsi1sk = :order"]
            values |= {":referrer": attribution.referrer_id,
                       ":list": referrals_of_referrer_gsi(attribution.referrer_id),
                       ":order": f"{attribution.created_at}#{change.lead_id}"}
        else:
            removes += ["referrer_id", "gsi1pk", "gsi1sk"]
        expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
        operations: list[Put | Update | ConditionCheck] = [
            Update(key={"pk": pk, "sk": REFERRAL_SK}, expression=expression,
                   condition=_version_condition(change.expected_version),
                   names={"#version": "version", "#source": "source"}, values=values),
            Put(_note(change, note_id, context="attribution"), condition="attribute_not_exists(pk)"),
            *self._resolve_flags(change, attribution.resolve_flags, "attribution"),
            audit_entry(pk, actor=change.actor, action="referral.attributed", at=change.at,
                        detail={"referrer_id": attribution.referrer_id, "note_id": note_id,
                                "previous_referrer_id": attribution.previous_referrer_id,
                                "version": change.expected_version + 1}),
        ]
        if attribution.referrer_id:
            referrer_pk, referrer_sk = keys.referrer(attribution.referrer_id)
            operations.append(ConditionCheck(key={"pk": referrer_pk, "sk": referrer_sk},
                                             condition="attribute_exists(pk)"))
        try:
            self._transact(operations)
        except ConditionFailed as exc:
            if exc.failed_index() == len(operations) - 1 and attribution.referrer_id:
                raise ReferrerMissing("the referrer does not exist", reasons=exc.reasons) from exc
            raise
        return change.expected_version + 1

    def _resolve_flags(self, change: StaffChange, flag_types: tuple[str, ...],
                       resolution: str) -> list[Update]:
        return [Update(key={"pk": lead_pk(change.lead_id), "sk": f"FLAG#{flag_type}"},
                       expression="SET #status = :resolved, resolved_at = :at, resolved_by = :by, "
                                  "resolution = :resolution",
                       condition="attribute_exists(pk)", names={"#status": "status"},
                       values={":resolved": "resolved", ":at": change.at, ":by": change.actor,
                               ":resolution": resolution})
                for flag_type in flag_types]

    def _transact(self, operations: list[Any]) -> None:
        try:
            self.table.transact(operations)
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                raise StaleVersion("the referral changed since it was read", reasons=exc.reasons) from exc
            raise


def _note(change: StaffChange, note_id: str, *, context: str) -> Item:
    return {"pk": lead_pk(change.lead_id), "sk": f"NOTE#{note_id}", "type": "note", "lead_id": change.lead_id,
            "note_id": note_id, "text": change.note, "context": context, "actor": change.actor,
            "at": change.at}
