"""Stored applications to become a referrer (docs/data-model.md, docs/applications.md).

Items: ``application`` ``APPLICATION#{id}``/``APPLICATION`` (with its audit entries in the same partition),
the one-application-per-email guard ``UNIQUE#APPEMAIL#{email_hash}``/``UNIQUE`` and the emailed links'
tokens ``APPTOKEN#{peppered hash}``/``APPTOKEN`` (only the hash is stored; single use, expiring), and the
privacy index ``APPCONTACT#{hash}``/``APPLICATION#{id}`` (the applicant's email and phone hashes and the
guardian's email hash, with their ``role``), so an export or erasure finds applications by Query. Staff see
the verified, undecided ones on gsi1 ``APPLICATIONS#OPEN`` (sparse, oldest first). Every change is one
transaction: nothing is ever half-saved.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from referral_core.dal import keys
from referral_core.dal.audit import audit_entry
from referral_core.dal.contacts import contact_pk, owner_sk
from referral_core.dal.dynamo import ConditionFailed, Item, Put, Table, Update
from referral_core.dal.rates import Window, count_hit

APPLICATION_SK = "APPLICATION"
#: gsi1 partition of the applications staff decide: verified, not yet approved or declined.
QUEUE_GSI = "APPLICATIONS#OPEN"
#: Statuses an application can be decided from.
OPEN_STATUSES = ("verified", "info_requested")


def application_pk(application_id: str) -> str:
    return f"APPLICATION#{application_id}"


def email_guard_key(email_hash: str) -> tuple[str, str]:
    return f"UNIQUE#APPEMAIL#{email_hash}", "UNIQUE"


def application_contact_pk(contact_hash: str) -> str:
    return f"APPCONTACT#{contact_hash}"


def application_contact_puts(application_id: str, contacts: Mapping[str, str], at: str,
                             expiration: int) -> list[Put]:
    """``APPCONTACT#{hash}``/``APPLICATION#{id}`` entries: ``contacts`` maps each hash to its ``role``
    (``applicant`` or ``guardian``). They expire with the unverified application (verifying keeps them)."""
    return [Put({"pk": application_contact_pk(value), "sk": application_pk(application_id),
                 "type": "application_contact", "role": role, "application_id": application_id,
                 "created_at": at, "expiration": expiration})
            for value, role in contacts.items()]


def is_expired(item: Item | None, now_epoch: int) -> bool:
    """An item past its TTL ``expiration``: DynamoDB deletes it late (up to days; moto never does), so
    the code treats it as absent."""
    return item is not None and "expiration" in item and int(item["expiration"]) <= now_epoch


def token_key(token_hash: str) -> tuple[str, str]:
    return f"APPTOKEN#{token_hash}", "APPTOKEN"


@dataclass(frozen=True)
class LinkToken:
    """An emailed link's token as stored: ``kind`` is ``verify`` (the applicant) or ``guardian``."""

    token_hash: str
    kind: str
    application_id: str
    created_at: str
    expires_epoch: int

    def put(self) -> Put:
        pk, sk = token_key(self.token_hash)
        return Put({"pk": pk, "sk": sk, "type": "application_token", "kind": self.kind,
                    "application_id": self.application_id, "created_at": self.created_at,
                    "expiration": self.expires_epoch}, condition="attribute_not_exists(pk)")


class AlreadyApplied(ConditionFailed):
    """An application with this (normalised, hashed) email exists."""


class LinkRefused(ConditionFailed):
    """The token is unknown, used, expired, of another kind or application; or the application is no longer
    in the state the link acts on."""


class ApplicationRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- applying ------------------------------------------------------------------------------------
    def count_hit(self, window: Window) -> int:
        return count_hit(self.table, window)

    def contacts(self, contact_hash: str) -> list[Item]:
        """Leads, jobs and referrers indexed under one contact hash (access pattern 8)."""
        return self.table.partition(contact_pk(contact_hash))

    def referrer_by_email_hash(self, email_hash: str) -> Item | None:
        page = self.table.query("gsi1pk = :pk AND gsi1sk = :sk",
                                {":pk": keys.referrer_by_email_gsi(email_hash), ":sk": "REFERRER"},
                                index="gsi1", limit=1)
        return page.items[0] if page.items else None

    def create(self, application: Item, token: LinkToken, contacts: Mapping[str, str], *, now_epoch: int) -> None:
        """The application, its email guard, its verification token and its privacy index entries
        (``contacts``: hash → role), all or nothing (:class:`AlreadyApplied` when the guard exists).
        The unverified application, its guard and entries carry its TTL ``expiration``; a guard past it
        (an application never verified: DynamoDB has not deleted it yet) is replaced, in the same
        transaction, on condition that it is still expired."""
        application_id = application["application_id"]
        expiration = int(application["expiration"])
        guard_pk, guard_sk = email_guard_key(application["email_hash"])
        try:
            self.table.transact([
                Put({"pk": application_pk(application_id), "sk": APPLICATION_SK, "type": "application",
                     **application}, condition="attribute_not_exists(pk)"),
                Put({"pk": guard_pk, "sk": guard_sk, "type": "unique", "application_id": application_id,
                     "expiration": expiration},
                    condition="attribute_not_exists(pk) OR expiration <= :now", values={":now": now_epoch}),
                token.put(),
                *application_contact_puts(application_id, contacts, str(application["created_at"]), expiration),
            ])
        except ConditionFailed as exc:
            if exc.failed_index() == 1:
                raise AlreadyApplied("already applied", reasons=exc.reasons) from exc
            raise

    def get(self, application_id: str, *, now_epoch: int) -> Item | None:
        """The application; an unverified one past its ``expiration`` is absent (None)."""
        item = self.table.get(application_pk(application_id), APPLICATION_SK, consistent=True)
        return None if is_expired(item, now_epoch) else item

    def by_email_hash(self, email_hash: str, *, now_epoch: int) -> Item | None:
        """The live application an email's guard points at (two consistent GetItems), if any."""
        guard = self.table.get(*email_guard_key(email_hash), consistent=True)
        if guard is None or is_expired(guard, now_epoch):
            return None
        return self.get(str(guard["application_id"]), now_epoch=now_epoch)

    def save_token(self, token: LinkToken) -> None:
        """Another link for an application (its verification link sent again)."""
        put = token.put()
        self.table.put(put.item, condition=put.condition)

    # -- the emailed links ---------------------------------------------------------------------------
    def _use_token(self, token_hash: str, *, kind: str, application_id: str, at: str, now_epoch: int) -> Update:
        pk, sk = token_key(token_hash)
        return Update({"pk": pk, "sk": sk}, "SET used_at = :at",
                      condition="attribute_exists(pk) AND attribute_not_exists(used_at) AND expiration > :now "
                                "AND kind = :kind AND application_id = :id",
                      values={":at": at, ":now": now_epoch, ":kind": kind, ":id": application_id})

    def verify(self, application_id: str, token_hash: str, *, at: str, now_epoch: int,
               guardian_token: LinkToken | None, email_hash: str, contact_hashes: Sequence[str]) -> None:
        """Use the verification token and mark the email verified: the application joins staff's queue
        (gsi1) and it, its email guard (still its own) and its privacy index entries lose their TTL
        ``expiration``, only while it has not expired; with ``guardian_token`` (a minor), the guardian's
        link is saved in the same transaction."""
        update = Update(
            {"pk": application_pk(application_id), "sk": APPLICATION_SK},
            "SET #status = :verified, verified_at = :at, gsi1pk = :queue, gsi1sk = :order REMOVE expiration",
            condition="#status = :pending AND (attribute_not_exists(expiration) OR expiration > :now)",
            names={"#status": "status"},
            values={":verified": "verified", ":pending": "pending_verification", ":at": at,
                    ":queue": QUEUE_GSI, ":order": f"{at}#{application_id}", ":now": now_epoch})
        guard_pk, guard_sk = email_guard_key(email_hash)
        writes: list[Put | Update] = [
            self._use_token(token_hash, kind="verify", application_id=application_id, at=at, now_epoch=now_epoch),
            update, audit_entry(application_pk(application_id), actor="applicant", action="application.verified",
                                at=at),
            Update({"pk": guard_pk, "sk": guard_sk}, "REMOVE expiration", condition="application_id = :id",
                   values={":id": application_id}),
            *(Update({"pk": application_contact_pk(value), "sk": application_pk(application_id)},
                     "REMOVE expiration", condition="attribute_exists(pk)")
              for value in dict.fromkeys(contact_hashes))]
        if guardian_token is not None:
            writes.append(guardian_token.put())
        self._link(writes)

    def record_guardian_consent(self, application_id: str, token_hash: str, consent: dict[str, str], *,
                                at: str, now_epoch: int) -> None:
        """Use the guardian's token and record their consent, once."""
        update = Update(
            {"pk": application_pk(application_id), "sk": APPLICATION_SK}, "SET guardian_consent = :consent",
            condition="minor = :yes AND attribute_not_exists(guardian_consent) AND #status IN (:verified, :info)",
            names={"#status": "status"},
            values={":consent": consent, ":yes": True, ":verified": "verified", ":info": "info_requested"})
        self._link([
            self._use_token(token_hash, kind="guardian", application_id=application_id, at=at, now_epoch=now_epoch),
            update, audit_entry(application_pk(application_id), actor="guardian",
                                action="application.guardian_consented",
                                detail={"terms_version": consent["terms_version"]}, at=at)])

    def _link(self, writes: Sequence[Put | Update]) -> None:
        try:
            self.table.transact(writes)
        except ConditionFailed as exc:
            raise LinkRefused("the link is invalid, used or expired", reasons=exc.reasons) from exc

    # -- staff ---------------------------------------------------------------------------------------
    def queue(self, *, limit: int, start_key: dict[str, Any] | None) -> tuple[list[Item], dict[str, Any] | None]:
        """Verified, undecided applications, oldest first (gsi1 ``APPLICATIONS#OPEN``)."""
        page = self.table.query("gsi1pk = :pk", {":pk": QUEUE_GSI}, index="gsi1", limit=limit,
                                start_key=start_key)
        return page.items, page.last_key

    def decision_writes(self, application_id: str, status: str, *, actor: str, at: str,
                        sets: dict[str, Any], leaves_queue: bool, audit: dict[str, Any],
                        needs_guardian: bool) -> list[Put | Update]:
        """The application's update (only while it is open: never decided twice) and its audit entry, for
        a transaction of their own or the new referrer's (``ReferrerRepository.create``'s ``also``)."""
        names = {"#status": "status", **{f"#s{i}": name for i, name in enumerate(sets)}}
        values: dict[str, Any] = {":status": status, ":at": at, ":by": actor, ":verified": OPEN_STATUSES[0],
                                  ":info": OPEN_STATUSES[1],
                                  **{f":s{i}": value for i, value in enumerate(sets.values())}}
        expression = "SET #status = :status, decided_at = :at, decided_by = :by" + "".join(
            f", #s{i} = :s{i}" for i in range(len(sets)))
        if leaves_queue:
            expression += " REMOVE gsi1pk, gsi1sk"
        condition = "#status IN (:verified, :info) AND attribute_not_exists(referrer_id)"
        if needs_guardian:
            condition += " AND (minor <> :yes OR attribute_exists(guardian_consent))"
            values[":yes"] = True
        return [Update({"pk": application_pk(application_id), "sk": APPLICATION_SK}, expression,
                       condition=condition, names=names, values=values),
                audit_entry(application_pk(application_id), actor=actor, action=f"application.{status}",
                            detail=audit, at=at)]

    def decide(self, writes: Sequence[Put | Update]) -> None:
        """Write a decision (:meth:`decision_writes`); :class:`ConditionFailed` when it was decided meanwhile."""
        self.table.transact(writes)


def referrer_contact_writes(referrer_id: str, hashes: dict[str, str], at: str) -> list[Put]:
    """``CONTACT#{hash}``/``REFERRER#{id}`` entries of an approved applicant's email and phone hashes, so
    later leads and applications with the same contact find the referrer (self-referral, existing referrer)."""
    return [Put({"pk": contact_pk(value), "sk": owner_sk("referrer", referrer_id), "type": "contact",
                 "kind": name.split("_", 1)[0], "referrer_id": referrer_id, "created_at": at})
            for name, value in hashes.items()]
