"""What attribution reads and the links it keeps (docs/data-model.md):

- ``LEAD#{lead_id}`` / ``JOB#{job_id}`` (``job_link``): this job was linked to this lead (once).
- ``LEAD#{lead_id}`` / ``AWAITING_JOB`` (``awaiting_job``): a referred lead still without a job, in the
  sparse gsi2 ``AWAITING_JOB`` / ``{created_at}#{lead_id}``, which the daily check reads by age.
- ``JOB#{job_id}`` / ``JOB`` gets ``linked_lead_id`` and ``linked_by`` once.
- A job that matches no lead but carries a live share code (``referral_code``) gets a lead of its own,
  ``source`` ``job_system``, written with its contact index items and its job link in one transaction.
"""

from __future__ import annotations

from collections.abc import Iterator

from referral_core.dal import keys
from referral_core.dal.contacts import contact_pk
from referral_core.dal.dynamo import ConditionFailed, Delete, Item, Put, Table, Update
from referral_core.dal.exports import ExportKind, export_pointer
from referral_core.dal.jobs import JOB_SK, job_pk
from referral_core.dal.referrals import REFERRAL_SK, lead_pk

LEAD_SK = "LEAD"
AWAITING_SK = "AWAITING_JOB"
AWAITING_GSI = "AWAITING_JOB"
LINK_PREFIX = "JOB#"


class AttributionRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- reads -----------------------------------------------------------------------------------
    def program(self) -> Item | None:
        return self.table.get("PROGRAM", "CURRENT")

    def lead(self, lead_id: str) -> Item | None:
        return self.table.get(lead_pk(lead_id), LEAD_SK, consistent=True)

    def click(self, click_id: str) -> Item | None:
        return self.table.get(f"CLICK#{click_id}", "CLICK")

    def contacts(self, contact_hash: str) -> list[Item]:
        """Everything indexed under one email/phone hash: ``LEAD#``, ``JOB#`` and ``REFERRER#`` items."""
        return self.table.partition(contact_pk(contact_hash))

    def referrals(self, lead_ids: list[str]) -> list[Item]:
        return self.table.batch_get([(lead_pk(lead_id), REFERRAL_SK) for lead_id in lead_ids])

    def inactive_referrers(self, referrer_ids: set[str]) -> set[str]:
        """Which of ``referrer_ids`` are suspended or erased (their profiles, one BatchGetItem)."""
        if not referrer_ids:
            return set()
        profiles = self.table.batch_get([(f"REFERRER#{r}", "PROFILE") for r in sorted(referrer_ids)])
        return {str(p["referrer_id"]) for p in profiles if p.get("status", "active") != "active"}

    def share_code(self, code: str) -> Item | None:
        return self.table.get(*keys.code(code))

    def job(self, job_id: str) -> Item | None:
        return self.table.get(job_pk(job_id), JOB_SK, consistent=True)

    def linked_job_ids(self, lead_id: str) -> list[str]:
        return [i["job_id"] for i in self.table.partition(lead_pk(lead_id), sk_prefix=LINK_PREFIX,
                                                          consistent=True)]

    def awaiting_before(self, cutoff: str) -> Iterator[Item]:
        """Referred leads without a job that were received before ``cutoff``, oldest first."""
        return self.table.query_all("gsi2pk = :pk AND gsi2sk < :cutoff",
                                    {":pk": AWAITING_GSI, ":cutoff": cutoff}, index="gsi2")

    # -- writes ----------------------------------------------------------------------------------
    def link(self, lead_id: str, job_id: str, *, linked_by: str, at: str) -> bool:
        """Record that ``job_id`` belongs to ``lead_id`` and drop the lead's awaiting-job entry, together.

        False when this link was recorded before (a replay).
        """
        link = {"pk": lead_pk(lead_id), "sk": f"{LINK_PREFIX}{job_id}", "type": "job_link",
                "lead_id": lead_id, "job_id": job_id, "linked_by": linked_by, "linked_at": at}
        try:
            self.table.transact([Put(link, condition="attribute_not_exists(pk)"),
                                 Delete({"pk": lead_pk(lead_id), "sk": AWAITING_SK})])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                return False
            raise
        return True

    def create_job_lead(self, lead: Item, contacts: dict[str, str], *, linked_by: str, at: str) -> bool:
        """The lead made for a job from its share code: the lead (once), its contact index items (``kind``
        email or phone, as lead capture writes them) and the job's link, all or nothing. False when the lead
        exists already (a replay)."""
        lead_id, job_id = lead["lead_id"], lead["job_id"]
        operations: list[Put | Update | Delete] = [
            Put({"pk": lead_pk(lead_id), "sk": LEAD_SK, "type": "lead", **lead}, condition="attribute_not_exists(pk)"),
            Put({"pk": lead_pk(lead_id), "sk": f"{LINK_PREFIX}{job_id}", "type": "job_link", "lead_id": lead_id,
                 "job_id": job_id, "linked_by": linked_by, "linked_at": at}),
        ]
        operations += [Put({"pk": contact_pk(contact_hash), "sk": lead_pk(lead_id), "type": "contact",
                            "kind": kind.removesuffix("_hash"), "lead_id": lead_id, "created_at": lead["created_at"]})
                       for kind, contact_hash in sorted(contacts.items())]
        try:
            self.table.transact(operations)
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                return False
            raise
        return True

    def mark_job_linked(self, job_id: str, lead_id: str, *, linked_by: str) -> bool:
        """Put the lead on the job once (a job belongs to one lead: the first link wins)."""
        try:
            self.table.update(job_pk(job_id), JOB_SK, "SET linked_lead_id = :lead, linked_by = :by",
                              condition="attribute_exists(pk) AND attribute_not_exists(linked_lead_id)",
                              values={":lead": lead_id, ":by": linked_by})
        except ConditionFailed:
            return False
        return True

    def set_referral_job(self, lead_id: str, job_id: str, *, at: str) -> bool:
        """Tie an attributed referral to its job; False if it is not attributed yet or has another job."""
        try:
            self.table.update(
                lead_pk(lead_id), REFERRAL_SK, "SET job_id = :job, updated_at = :at",
                condition="attribute_exists(stage_rank) AND (attribute_not_exists(job_id) OR job_id = :job)",
                values={":job": job_id, ":at": at})
        except ConditionFailed:
            return False
        return True

    def await_job(self, lead_id: str, created_at: str) -> None:
        self.table.put({"pk": lead_pk(lead_id), "sk": AWAITING_SK, "type": "awaiting_job",
                        "lead_id": lead_id, "created_at": created_at,
                        "gsi2pk": AWAITING_GSI, "gsi2sk": f"{created_at}#{lead_id}"})

    def stop_awaiting(self, lead_id: str) -> None:
        self.table.delete(lead_pk(lead_id), AWAITING_SK)

    def mark_applied(self, lead_id: str, created_at: str, at: str) -> None:
        """The decision's consequences (hold, flag, awaiting entry) are in place: replays skip them. The
        referral's export pointer (month of ``created_at``) goes in the same transaction."""
        key = {"pk": lead_pk(lead_id), "sk": REFERRAL_SK}
        self.table.transact([
            Update(key=key, expression="SET attribution_applied_at = :at",
                   condition="attribute_exists(stage_rank)", values={":at": at}),
            export_pointer(ExportKind.REFERRALS, at=created_at, record_id=lead_id, target=key),
        ])

