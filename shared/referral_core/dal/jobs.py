"""Jobs as the job system reports them: the events (each type once) and the state derived from them.

``JOB#{job_id}`` holds ``JOB`` (derived state, optimistic ``version``) and ``EVENT#{type}`` items; the
customer's hashes point back at the job through ``CONTACT#{hash}`` / ``JOB#{job_id}`` items.
``JOBREF#{provider}#{ref}`` / ``JOBREF`` (``job_ref``): a job system's other id of a job (a payment, charge
or invoice id) -> the job id its first event was recorded under, so a refund that names only the payment
reaches the job the business named in the invoice's metadata (services.providers.ingest).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from contextlib import suppress
from dataclasses import dataclass
from typing import Any

from referral_core.dal.contacts import contact_pk
from referral_core.dal.dynamo import ConditionFailed, Item, Put, Table, Update

JOB_SK = "JOB"
EVENT_PREFIX = "EVENT#"
REF_SK = "JOBREF"


def job_ref_pk(provider: str, ref: str) -> str:
    return f"JOBREF#{provider}#{ref}"


def job_pk(job_id: str) -> str:
    return f"JOB#{job_id}"


@dataclass
class JobRecord:
    """The job item (None before its first event) and its recorded events."""

    job: Item | None
    events: list[Item]

    @property
    def version(self) -> int:
        return int((self.job or {}).get("version", 0))


class DuplicateEvent(Exception):
    """This job already has an event of that type (a redelivery or a duplicate from the job system)."""


class JobRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, job_id: str) -> Item | None:
        return self.table.get(job_pk(job_id), JOB_SK, consistent=True)

    def load(self, job_id: str) -> JobRecord:
        items = self.table.partition(job_pk(job_id), consistent=True)
        job = next((i for i in items if i["sk"] == JOB_SK), None)
        return JobRecord(job, [i for i in items if i["sk"].startswith(EVENT_PREFIX)])

    def job_of_refs(self, provider: str, refs: Sequence[str]) -> str | None:
        """The job id the first of ``refs`` that is known points at (one BatchGetItem), else None."""
        if not refs:
            return None
        found = {i["ref"]: i["job_id"] for i in self.table.batch_get([(job_ref_pk(provider, r), REF_SK) for r in refs])}
        return next((str(found[r]) for r in refs if r in found), None)

    def save_refs(self, provider: str, refs: Sequence[str], job_id: str, *, at: str) -> None:
        """Point each of ``refs`` at ``job_id``; a ref already pointing somewhere keeps it (first wins)."""
        for ref in dict.fromkeys(refs):
            with suppress(ConditionFailed):
                self.table.put({"pk": job_ref_pk(provider, ref), "sk": REF_SK, "type": "job_ref",
                                "provider": provider, "ref": ref, "job_id": job_id, "created_at": at},
                               condition="attribute_not_exists(pk)")

    def record_event(self, event: Item, state: Item, *, expected_version: int,
                     contact_hashes: Iterable[str], at: str) -> None:
        """In one transaction: the event (once per type), the job's derived ``state`` (only if the job is
        still at ``expected_version``) and the customer's contact items.

        Raises :class:`DuplicateEvent` if the event type is recorded already, and ``ConditionFailed`` if
        the job changed since it was read (the caller re-reads and derives again).
        """
        job_id = state["job_id"]
        names = {f"#f{i}": key for i, key in enumerate(state)}
        values: dict[str, Any] = {f":f{i}": value for i, value in enumerate(state.values())}
        sets = [f"#f{i} = :f{i}" for i in range(len(state))]
        names.update({"#type": "type", "#version": "version"})
        values.update({":type": "job", ":expected": expected_version, ":next": expected_version + 1})
        sets += ["#type = :type", "#version = :next", "created_at = if_not_exists(created_at, :at)"]
        values[":at"] = at
        operations: list[Put | Update] = [
            Put({"pk": job_pk(job_id), "sk": f"{EVENT_PREFIX}{event['event_type']}", "type": "job_event",
                 **event}, condition="attribute_not_exists(pk)"),
            Update(key={"pk": job_pk(job_id), "sk": JOB_SK}, expression="SET " + ", ".join(sets),
                   condition="attribute_not_exists(#version) OR #version = :expected",
                   names=names, values=values),
        ]
        operations += [
            Update(key={"pk": contact_pk(h), "sk": job_pk(job_id)},
                   expression=("SET #type = :contact, job_id = :job, "
                               "created_at = if_not_exists(created_at, :at)"),
                   names={"#type": "type"}, values={":contact": "contact", ":job": job_id, ":at": at})
            for h in sorted(set(contact_hashes))
        ]
        try:
            self.table.transact(operations)
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                raise DuplicateEvent(event["event_type"]) from exc
            raise
