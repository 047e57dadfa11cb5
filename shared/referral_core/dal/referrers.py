"""Stored referrers: profile, uniqueness guard on email, personal share code and a zero balance; status.

A referrer's ``status`` (``active`` / ``suspended`` / ``erased``) lives on the profile and is copied as
``referrer_status`` onto each of their ``share_code`` items, so the redirect and lead capture see it in
the one read they already make (docs/data-model.md).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from referral_core.dal import keys
from referral_core.dal.audit import audit_entry
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionCheck, ConditionFailed, Delete, Put, Table, Update

MAX_TRANSACTION = 100


@dataclass(frozen=True)
class NewReferrer:
    referrer_id: str
    name: str
    email: str
    email_hash: str
    email_match_hash: str
    phone: str | None
    phone_hash: str | None
    code: str
    link: str
    origin: str
    created_at: str
    created_by: str
    #: What kind of referrer (``customer``, ``local_partner``, ``ambassador``, ``campus_helper``): set when
    #: the referrer came through an application; absent for referrers staff created directly.
    referrer_type: str | None = None


class EmailTaken(ConditionFailed):
    pass


class CodeTaken(ConditionFailed):
    pass


class TypeChanged(ConditionFailed):
    """The profile's type was not the one the change expected (changed meanwhile), or it is gone."""


class StatusChanged(ConditionFailed):
    """The profile's status was not the one the change expected (changed meanwhile), or it is gone."""


@dataclass(frozen=True)
class StatusChange:
    """What :meth:`ReferrerRepository.set_status` wrote."""

    referrer_id: str
    status: str
    previous: str
    at: str
    codes: int


class ReferrerRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def create(self, new: NewReferrer, also: Sequence[Put | Update | ConditionCheck | Delete] = ()) -> None:
        """Write profile, email guard, personal code and balance in one transaction, with ``also`` (the
        writes of the decision that created the referrer: an approved application's, docs/applications.md).

        Raises :class:`EmailTaken` or :class:`CodeTaken` when the guard or the code already exists, and
        :class:`ConditionFailed` when a condition of ``also`` fails.
        """
        pk, sk = keys.referrer(new.referrer_id)
        lock_pk, lock_sk = keys.referrer_email_lock(new.email_hash)
        code_pk, code_sk = keys.code(new.code)
        not_exists = "attribute_not_exists(pk)"
        profile: dict[str, Any] = {
            "pk": pk, "sk": sk, "type": "referrer", "referrer_id": new.referrer_id,
            "name": new.name, "email": new.email, "email_hash": new.email_hash,
            "email_match_hash": new.email_match_hash,
            "phone": new.phone, "phone_hash": new.phone_hash, "status": "active",
            "personal_code": new.code, "link": new.link, "origin": new.origin,
            "created_at": new.created_at, "created_by": new.created_by, "referrer_type": new.referrer_type,
            "gsi1pk": keys.referrer_by_email_gsi(new.email_hash), "gsi1sk": "REFERRER",
            "gsi2pk": keys.REFERRER_DIRECTORY_GSI, "gsi2sk": keys.referrer_directory_sk(new.name, new.referrer_id),
        }
        code_item = {
            "pk": code_pk, "sk": code_sk, "type": "share_code", "code": new.code,
            "referrer_id": new.referrer_id, "personal": True, "visibility": "public",
            "status": "active", "uses": 0, "placement": "", "created_at": new.created_at,
            "gsi1pk": keys.codes_of_referrer_gsi(new.referrer_id), "gsi1sk": f"CODE#{new.created_at}",
        }
        balance = {
            "pk": pk, "sk": "BALANCE", "type": "balance", "referrer_id": new.referrer_id,
            "pending_cents": 0, "available_cents": 0, "held_cents": 0, "paid_cents": 0,
            "rewarded_count": 0, "version": 0,
        }
        guard = {"pk": lock_pk, "sk": lock_sk, "type": "unique", "referrer_id": new.referrer_id}
        try:
            self.table.transact([
                Put(profile, condition=not_exists),
                Put(guard, condition=not_exists),
                Put(code_item, condition=not_exists),
                Put(balance, condition=not_exists),
                audit_entry(pk, actor=new.created_by, action="referrer.created",
                            detail={"code": new.code}, at=new.created_at),
                *also,
            ])
        except ConditionFailed as exc:
            index = exc.failed_index()
            if index == 1:
                raise EmailTaken("a referrer with this email already exists",
                                 reasons=exc.reasons) from exc
            if index == 2:
                raise CodeTaken("that code is taken", reasons=exc.reasons) from exc
            raise

    def directory(self, *, name: str, limit: int, cursor: str | None
                  ) -> tuple[list[dict[str, Any]], str | None]:
        """Referrer profiles by name (gsi2 ``REFERRERS``, A to Z), those whose name starts with ``name``
        (as the directory sorts names, :func:`keys.name_key`; empty: all); ``limit`` a page, ``cursor`` one
        this method returned for the same ``name``. Returns items and the next cursor."""
        name_prefix = keys.name_key(name)
        start_key = decode_cursor(cursor, index="gsi2", partition=keys.REFERRER_DIRECTORY_GSI,
                                  sort_prefix=name_prefix)
        condition, values = "gsi2pk = :dir", {":dir": keys.REFERRER_DIRECTORY_GSI}
        if name_prefix:
            condition += " AND begins_with(gsi2sk, :prefix)"
            values[":prefix"] = name_prefix
        page = self.table.query(condition, values, index="gsi2", limit=limit, start_key=start_key)
        return page.items, encode_cursor(page.last_key)

    def get(self, referrer_id: str) -> dict[str, Any] | None:
        return self.table.get(*keys.referrer(referrer_id))

    def set_preferences(self, referrer_id: str, *, show_name_on_landing: bool, at: str) -> bool:
        """The referrer's own choices (``PUT /me/preferences``); False when there is no such referrer."""
        try:
            self.table.update(*keys.referrer(referrer_id),
                              "SET show_name_on_landing = :show, preferences_changed_at = :at",
                              condition="attribute_exists(pk)", values={":show": show_name_on_landing, ":at": at})
        except ConditionFailed:
            return False
        return True

    def set_notifications_opt_out(self, referrer_id: str, opted_out: bool, *, at: str) -> bool:
        """Switch stage emails off (or on again); False when there is no such referrer."""
        try:
            self.table.update(*keys.referrer(referrer_id),
                              "SET notifications_opt_out = :out, notifications_changed_at = :at",
                              condition="attribute_exists(pk)", values={":out": opted_out, ":at": at})
        except ConditionFailed:
            return False
        return True

    def set_type(self, referrer_id: str, referrer_type: str | None, *, expected: str | None, actor: str,
                 at: str, note: str) -> None:
        """Set (or, with None, remove) the profile's ``referrer_type`` if it is still ``expected``, with an
        audit entry, in one transaction. Raises :class:`TypeChanged`."""
        pk, sk = keys.referrer(referrer_id)
        values: dict[str, Any] = {":at": at, ":by": actor}
        if expected is None:
            condition = "attribute_exists(pk) AND attribute_not_exists(#type)"  # None is never stored
        else:
            condition = "attribute_exists(pk) AND #type = :expected"
            values[":expected"] = expected
        if referrer_type is None:
            expression = "REMOVE #type SET type_changed_at = :at, type_changed_by = :by"
        else:
            expression = "SET #type = :type, type_changed_at = :at, type_changed_by = :by"
            values[":type"] = referrer_type
        profile = Update({"pk": pk, "sk": sk}, expression, condition=condition,
                         names={"#type": "referrer_type"}, values=values)
        audit = audit_entry(pk, actor=actor, action="referrer.type_changed", at=at,
                            detail={"note": note, "from": expected or "none", "to": referrer_type or "none"})
        try:
            self.table.transact([profile, audit])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                raise TypeChanged("the referrer's type changed meanwhile", reasons=exc.reasons) from exc
            raise

    def set_status(self, referrer_id: str, status: str, *, expected: str, actor: str, action: str, at: str,
                   detail: dict[str, Any], revoke_sessions: bool) -> StatusChange:
        """Set the profile's ``status`` (only if it is still ``expected``) with an audit entry, and copy it
        onto every share code of the referrer as ``referrer_status``.

        The profile, its audit entry and the first 98 codes are one transaction; more codes follow in
        further transactions (running the change again completes them: it is idempotent).
        ``revoke_sessions`` adds one to ``session_generation``: sessions carry the generation they were
        issued in, so every earlier one is refused, even once the referrer is active again.
        Raises :class:`StatusChanged`.
        """
        pk, sk = keys.referrer(referrer_id)
        sets = "SET #status = :status, status_changed_at = :at, status_changed_by = :by"
        values: dict[str, Any] = {":status": status, ":at": at, ":by": actor, ":expected": expected}
        if revoke_sessions:
            sets += " ADD session_generation :one"
            values[":one"] = 1
        profile = Update({"pk": pk, "sk": sk}, sets, condition="attribute_exists(pk) AND #status = :expected",
                         names={"#status": "status"}, values=values)
        audit = audit_entry(pk, actor=actor, action=action, at=at,
                            detail={**detail, "from": expected, "to": status})
        codes = [code_status_update(str(code["code"]), status, at)
                 for code in self.table.query_all("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
                                                  {":pk": keys.codes_of_referrer_gsi(referrer_id),
                                                   ":prefix": "CODE#"}, index="gsi1")]
        first = MAX_TRANSACTION - 2
        try:
            self.table.transact([profile, audit, *codes[:first]])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                raise StatusChanged("the referrer's status changed meanwhile", reasons=exc.reasons) from exc
            raise
        for start in range(first, len(codes), MAX_TRANSACTION):
            self.table.transact(codes[start:start + MAX_TRANSACTION])
        return StatusChange(referrer_id=referrer_id, status=status, previous=expected, at=at, codes=len(codes))


def code_status_update(code: str, referrer_status: str, at: str) -> Update:
    """Copy the referrer's status onto one of their share codes (the redirect and capture read it there)."""
    pk, sk = keys.code(code)
    return Update({"pk": pk, "sk": sk}, "SET referrer_status = :status, referrer_status_at = :at",
                  condition="attribute_exists(pk)", values={":status": referrer_status, ":at": at})
