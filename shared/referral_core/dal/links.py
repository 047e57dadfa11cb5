"""Share codes, clicks and their usage counters as stored.

Lean on purpose: the redirect imports this on its cold path (no pydantic, nothing beyond the Table; the
audit and referrer modules that only the write paths need are imported there).
Items (docs/data-model.md): ``share_code`` ``CODE#{CODE}``/``CODE``; ``click`` ``CLICK#{cid}``/``CLICK``
with a ``click_counted`` marker ``CLICK#{cid}``/``COUNTED#{clicked_epoch}`` per counted visit;
``code_stats`` ``STATS#{CODE}``/``PLACEMENT#{placement or -}``; ``code_quota`` ``REFERRER#{id}``/``CODES``
(the codes counted against the referrer's cap).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from referral_core.clock import epoch, iso
from referral_core.dal import keys
from referral_core.dal.dynamo import ConditionCheck, ConditionFailed, Put, Table, Update

STATS_GSI = "STATS"
# Counter attributes of a code_stats item. clicks_* are written by count_clicks; the other consumers
# (lead checks, attribution, rewards) add to leads/jobs/paid/rewarded with increment_stats / stats_update.
STATS_COUNTERS = ("clicks_link", "clicks_qr", "leads", "jobs", "paid", "rewarded")
# TransactWriteItems takes 100 items: one stats update, one code update and up to 98 click markers.
MARKERS_PER_TRANSACTION = 98
MARKER_TTL_SECONDS = 3 * 86400  # longer than the stream's retention of a record (MaximumRecordAgeInSeconds)


class ReferrerMissing(ConditionFailed):
    pass


class CodeMissing(ConditionFailed):
    pass


class QuotaChanged(ConditionFailed):
    """Another code of the same referrer was created since the quota was read: read it again."""


@dataclass(frozen=True)
class CodeQuota:
    """The referrer's counted share codes as read: ``version`` (0: never written) and their code items.

    The personal code is not counted. Codes that can never be live again (expired, used up) are dropped
    when the quota is next written; disabled ones stay, since staff may enable them again.
    """

    referrer_id: str
    version: int
    codes: tuple[dict[str, Any], ...]


class ReferrerInactive(ConditionFailed):
    """The referrer exists but is suspended or erased: no new codes."""


@dataclass(frozen=True)
class CountedClick:
    """One visitor-hour on a code, as the stream delivered it (the unit the markers make count once)."""

    click_id: str
    clicked_epoch: int
    src: str  # "qr" or "link"


def stats_update(code: str, placement: str, **counters: int) -> Update:
    """``ADD`` ``counters`` to the (code, placement) stats item, creating it on first use.

    For use inside a caller's transaction, next to the caller's own once-only marker.
    """
    unknown = set(counters) - set(STATS_COUNTERS)
    if unknown:
        raise ValueError(f"unknown stats counters: {sorted(unknown)}")
    adds = {name: amount for name, amount in counters.items() if amount}
    pk, sk = keys.code_stats(code, placement)
    names = {"#type": "type", "#code": "code", "#placement": "placement", "#g1pk": "gsi1pk",
             "#g1sk": "gsi1sk", "#updated": "updated_at", **{f"#{n}": n for n in adds}}
    values: dict[str, Any] = {":type": "code_stats", ":code": code, ":placement": placement or "-",
                              ":g1pk": STATS_GSI, ":g1sk": f"{code}#{placement or '-'}", ":updated": iso(),
                              **{f":{n}": amount for n, amount in adds.items()}}
    expression = ("SET #type = :type, #code = :code, #placement = :placement, #g1pk = :g1pk, "
                  "#g1sk = :g1sk, #updated = :updated")
    if adds:
        expression += " ADD " + ", ".join(f"#{n} :{n}" for n in adds)
    return Update(key={"pk": pk, "sk": sk}, expression=expression, names=names, values=values)


def _quota_put(quota: CodeQuota, codes: Sequence[str], *, at: str) -> Put:
    pk, sk = keys.code_quota(quota.referrer_id)
    item = {"pk": pk, "sk": sk, "type": "code_quota", "referrer_id": quota.referrer_id,
            "codes": list(dict.fromkeys(codes)), "version": quota.version + 1, "updated_at": at}
    if quota.version == 0:
        return Put(item, condition="attribute_not_exists(pk)")
    return Put(item, condition="version = :seen", values={":seen": quota.version})


class LinkRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    # -- codes -----------------------------------------------------------------------------------
    def get_code(self, code: str) -> dict[str, Any] | None:
        return self.table.get(*keys.code(code))

    def create_code(self, item: dict[str, Any], *, actor: str, quota: CodeQuota | None = None,
                    keep: Sequence[str] = ()) -> None:
        """Put a new share code for an existing referrer, with its audit entry, all or nothing.

        With ``quota``, the referrer's quota item is rewritten in the same transaction to ``keep`` + the new
        code, on condition that it is still at ``quota.version`` (so concurrent creates cannot both pass
        the cap). Raises :class:`ReferrerMissing`, :class:`ReferrerInactive` (not ``active``: checked in the
        same transaction, so a code cannot slip in beside a suspension), :class:`CodeTaken` (the code
        exists, in any case) or :class:`QuotaChanged`.
        """
        from referral_core.dal.audit import audit_entry  # staff/portal path only, not the redirect's
        from referral_core.dal.referrers import CodeTaken

        pk, sk = keys.code(item["code"])
        referrer_pk, referrer_sk = keys.referrer(item["referrer_id"])
        stored = {
            **item, "pk": pk, "sk": sk, "type": "share_code", "uses": 0,
            "gsi1pk": keys.codes_of_referrer_gsi(item["referrer_id"]), "gsi1sk": f"CODE#{item['created_at']}",
        }
        try:
            self.table.transact([
                ConditionCheck({"pk": referrer_pk, "sk": referrer_sk},
                               condition="attribute_exists(pk) AND #status = :active",
                               names={"#status": "status"}, values={":active": "active"}),
                Put(stored, condition="attribute_not_exists(pk)"),
                audit_entry(pk, actor=actor, action="share_code.created",
                            detail={"referrer_id": item["referrer_id"]}, at=item["created_at"]),
                *([_quota_put(quota, [*keep, item["code"]], at=item["created_at"])] if quota else []),
            ])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                if self.table.get(referrer_pk, referrer_sk, consistent=True) is None:
                    raise ReferrerMissing("no such referrer", reasons=exc.reasons) from exc
                raise ReferrerInactive("the referrer is not active", reasons=exc.reasons) from exc
            if exc.failed_index() == 3:
                raise QuotaChanged("the referrer's codes changed", reasons=exc.reasons) from exc
            raise CodeTaken("that code is taken", reasons=exc.reasons) from exc

    def code_quota(self, referrer_id: str) -> CodeQuota:
        """The referrer's counted codes: GetItem ``REFERRER#{id}``/``CODES`` (consistent) + BatchGetItem of
        its codes. Before the first write, the referrer's codes from gsi1 (access pattern 5) instead."""
        stored = self.table.get(*keys.code_quota(referrer_id), consistent=True)
        if stored is None:
            items = [i for i in self.codes_of_referrer(referrer_id) if not i.get("personal")]
            return CodeQuota(referrer_id, 0, tuple(items))
        codes = [str(c) for c in stored.get("codes") or ()]
        found = self.table.batch_get([keys.code(c) for c in codes]) if codes else []
        return CodeQuota(referrer_id, int(stored["version"]), tuple(found))

    def set_code_status(self, code: str, status: str, *, actor: str) -> dict[str, Any]:
        """Set ``status`` (active/disabled) with an audit entry; returns the code. :class:`CodeMissing`."""
        from referral_core.dal.audit import audit_entry

        pk, sk = keys.code(code)
        at = iso()
        try:
            self.table.transact([
                Update({"pk": pk, "sk": sk}, "SET #status = :status, updated_at = :at",
                       condition="attribute_exists(pk)", names={"#status": "status"},
                       values={":status": status, ":at": at}),
                audit_entry(pk, actor=actor, action=f"share_code.{status}", at=at),
            ])
        except ConditionFailed as exc:
            raise CodeMissing("no such share code", reasons=exc.reasons) from exc
        item = self.table.get(pk, sk, consistent=True)
        assert item is not None  # just updated; codes are never deleted
        return item

    def codes_of_referrer(self, referrer_id: str) -> list[dict[str, Any]]:
        return list(self.table.query_all("gsi1pk = :pk AND begins_with(gsi1sk, :prefix)",
                                         {":pk": keys.codes_of_referrer_gsi(referrer_id), ":prefix": "CODE#"},
                                         index="gsi1"))

    # -- clicks ----------------------------------------------------------------------------------
    def record_click(self, click: dict[str, Any], *, dedup_before_epoch: int) -> bool:
        """Write the click unless the same visitor clicked this code since ``dedup_before_epoch``.

        One conditional PutItem: the click id is derived from (code, visitor), so a repeat within the
        window fails the condition and is not counted. Returns whether the click counted.
        """
        pk, sk = keys.click(click["click_id"])
        try:
            self.table.put(
                {"pk": pk, "sk": sk, "type": "click", **click},
                condition="attribute_not_exists(pk) OR clicked_epoch < :cutoff",
                values={":cutoff": dedup_before_epoch},
            )
        except ConditionFailed:
            return False
        return True

    def count_clicks(self, code: str, placement: str, clicks: Sequence[CountedClick]) -> int:
        """Add ``clicks`` to the (code, placement) counters and the code's ``uses``, each click once ever.

        Per chunk of 98 clicks, one transaction: a ``COUNTED#{epoch}`` marker per click (conditional on not
        existing) + one stats ``ADD`` + one code ``ADD uses``. Clicks whose marker exists (a replay) are
        dropped and the rest retried, so replays never double count. Returns how many counted now.
        """
        unique = list(dict.fromkeys(clicks))
        counted = 0
        for start in range(0, len(unique), MARKERS_PER_TRANSACTION):
            counted += self._count_chunk(code, placement, unique[start:start + MARKERS_PER_TRANSACTION])
        return counted

    def _count_chunk(self, code: str, placement: str, chunk: list[CountedClick]) -> int:
        code_pk, code_sk = keys.code(code)
        while chunk:
            expires = epoch() + MARKER_TTL_SECONDS
            markers = [Put({"pk": keys.click(c.click_id)[0], "sk": f"COUNTED#{c.clicked_epoch}",
                            "type": "click_counted", "code": code, "expiration": expires},
                           condition="attribute_not_exists(pk)") for c in chunk]
            qr = sum(1 for c in chunk if c.src == "qr")
            try:
                self.table.transact([
                    *markers,
                    stats_update(code, placement, clicks_qr=qr, clicks_link=len(chunk) - qr),
                    Update({"pk": code_pk, "sk": code_sk}, "ADD uses :n", condition="attribute_exists(pk)",
                           values={":n": len(chunk)}),
                ])
            except ConditionFailed as exc:
                replayed = {i for i, reason in enumerate(exc.reasons[:len(chunk)])
                            if reason == "ConditionalCheckFailed"}
                if not replayed:
                    raise CodeMissing(f"share code {code} does not exist", reasons=exc.reasons) from exc
                chunk = [c for i, c in enumerate(chunk) if i not in replayed]
                continue
            return len(chunk)
        return 0

    # -- usage -----------------------------------------------------------------------------------
    def increment_stats(self, code: str, placement: str, **counters: int) -> None:
        """``ADD`` to the (code, placement) counters (``leads``, ``jobs``, ``paid``, ``rewarded``...).

        Not idempotent by itself: call it once per event behind the caller's own once-only marker, or put
        :func:`stats_update` in the caller's transaction.
        """
        update = stats_update(code, placement, **counters)
        self.table.update(update.key["pk"], update.key["sk"], update.expression, names=update.names,
                          values=update.values)

    def count_milestone(self, lead_id: str, counter: str, code: str, placement: str) -> bool:
        """Add 1 to ``counter`` of (code, placement) once per referral; False when counted before."""
        marker = {"pk": f"FUNNEL#{lead_id}", "sk": counter, "type": "funnel_counted", "code": code,
                  "at": iso()}
        try:
            self.table.transact([Put(marker, condition="attribute_not_exists(pk)"),
                                 stats_update(code, placement, **{counter: 1})])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                return False
            raise
        return True

    def code_stats(self, code: str) -> list[dict[str, Any]]:
        """Every placement's counters of one code (one Query on ``STATS#{CODE}``)."""
        return self.table.partition(keys.code_stats(code, "")[0])
