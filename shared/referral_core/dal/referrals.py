"""The referral record (``LEAD#{id}`` / ``REFERRAL``) and the flags beside it.

Several stream consumers write the referral item (attribution, checks, job linking, rewards, staff), so
it is only ever written with UpdateItem on named attributes — never a whole-item Put — and stage changes
are conditional on ``stage_rank`` so they only move forward, whatever order the consumers run in.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from referral_core.clock import iso
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionFailed, Put, Table, Update
from referral_core.stages import RANK, ReviewStatus, Severity, Stage

REFERRAL_SK = "REFERRAL"


def lead_pk(lead_id: str) -> str:
    return f"LEAD#{lead_id}"


def referrals_of_referrer_gsi(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}#REFERRALS"


def review_gsi(status: ReviewStatus | str) -> str:
    return f"REVIEW#{status}"


def lead_id_of(referral: Mapping[str, Any]) -> str:
    """The referral's lead id (from its key, for an item written without ``lead_id``)."""
    return str(referral.get("lead_id") or str(referral["pk"]).removeprefix("LEAD#"))


def referrer_index(referrer_id: str, lead_id: str, created_at: str) -> dict[str, str]:
    """The attributes that list a referral under its referrer (gsi1, newest first by ``created_at``)."""
    return {"gsi1pk": referrals_of_referrer_gsi(referrer_id), "gsi1sk": f"{created_at}#{lead_id}"}


@dataclass(frozen=True)
class HoldClauses:
    """UpdateExpression parts (name ``#stage``) that put a hold on the visible stage or release it, so a
    staff decision can change the hold in the same UpdateItem as the rest of the referral."""

    sets: tuple[str, ...]
    removes: tuple[str, ...]
    values: dict[str, Any]


def hold_clauses(stage: Stage | None, *, reason: str | None = None) -> HoldClauses:
    """``stage`` None releases the hold (back to the progress stage); otherwise holds at ``stage``."""
    if stage is None:
        return HoldClauses(sets=("#stage = if_not_exists(progress_stage, :received)",),
                           removes=("hold_stage", "not_eligible_reason"),
                           values={":received": str(Stage.RECEIVED)})
    return HoldClauses(sets=("#stage = :hold", "hold_stage = :hold", "not_eligible_reason = :hold_reason"),
                       removes=(), values={":hold": str(stage), ":hold_reason": reason or ""})


def _advance(lead_id: str, stage: Stage, *, at: str, condition: str,
             attributes: dict[str, Any] | None = None) -> Update:
    rank = RANK[stage]
    names = {"#stage": "stage", "#rank": "stage_rank", "#progress": "progress_stage", "#updated": "updated_at"}
    values: dict[str, Any] = {":rank": rank, ":progress": str(stage), ":updated": at, ":stage": str(stage)}
    # While held, the visible stage stays the hold (under_review / not_eligible).
    sets = ["#rank = :rank", "#progress = :progress", "#updated = :updated",
            "#stage = if_not_exists(hold_stage, :stage)"]
    for index, (key, value) in enumerate((attributes or {}).items()):
        names[f"#a{index}"] = key
        values[f":a{index}"] = value
        sets.append(f"#a{index} = :a{index}")
    return Update(key={"pk": lead_pk(lead_id), "sk": REFERRAL_SK}, expression="SET " + ", ".join(sets),
                  condition=condition, names=names, values=values)


def reward_paid_update(lead_id: str, *, at: str) -> Update:
    """The referral to ``reward_paid``, as a transaction item beside the reward's own change. The last stage
    of the progress order: nothing is further along, so only the referral's existence is a condition and
    writing it again changes nothing."""
    return _advance(lead_id, Stage.REWARD_PAID, at=at, condition="attribute_exists(pk)")


def eligibility_update(lead_id: str, eligibility: dict[str, Any], *, at: str,
                       open_review: bool = False) -> Update:
    """Set ``eligibility`` on the referral (named attributes only); optionally queue it for review (open)."""
    review_queue = review_gsi(ReviewStatus.OPEN) if open_review else None
    sets = ["eligibility = :eligibility", "updated_at = :at"]
    values: dict[str, Any] = {":eligibility": eligibility, ":at": at}
    if review_queue is not None:
        sets += ["review_status = :open", "gsi2pk = :queue", "gsi2sk = :order"]
        values |= {":open": "open", ":queue": review_queue, ":order": f"{at}#{lead_id}"}
    return Update(key={"pk": lead_pk(lead_id), "sk": REFERRAL_SK}, expression="SET " + ", ".join(sets),
                  values=values)


class ReferralRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, lead_id: str, *, consistent: bool = False) -> dict[str, Any] | None:
        return self.table.get(lead_pk(lead_id), REFERRAL_SK, consistent=consistent)

    def evidence(self, lead_id: str) -> list[dict[str, Any]]:
        """Everything in the lead's partition: lead, referral, flags, notes, decisions, audit."""
        return self.table.partition(lead_pk(lead_id), consistent=True)

    def advance_stage(self, lead_id: str, stage: Stage, *, at: str | None = None,
                      attributes: dict[str, Any] | None = None) -> bool:
        """Move the referral forward to ``stage`` (and set ``attributes``); False if it is already there
        or further along. A referral in ``under_review``/``not_eligible`` keeps that visible stage but its
        progress rank still advances (``progress_stage``), so the true position is never lost."""
        update = _advance(lead_id, stage, at=at or iso(), attributes=attributes,
                          condition="attribute_not_exists(#rank) OR #rank < :rank")
        try:
            self.table.update(lead_pk(lead_id), REFERRAL_SK, update.expression, condition=update.condition,
                              names=update.names, values=update.values)
        except ConditionFailed:
            return False
        return True

    def hold(self, lead_id: str, stage: Stage, *, reason: str | None = None, at: str | None = None) -> None:
        """Show ``under_review`` or ``not_eligible`` (with a public reason) instead of progress."""
        self._set_hold(lead_id, hold_clauses(stage, reason=reason), at or iso())

    def release_hold(self, lead_id: str, *, at: str | None = None) -> None:
        """Back to the progress stage after a staff decision clears the hold."""
        self._set_hold(lead_id, hold_clauses(None), at or iso())

    def _set_hold(self, lead_id: str, clauses: HoldClauses, at: str) -> None:
        expression = "SET " + ", ".join([*clauses.sets, "updated_at = :at"])
        if clauses.removes:
            expression += " REMOVE " + ", ".join(clauses.removes)
        self.table.update(lead_pk(lead_id), REFERRAL_SK, expression, names={"#stage": "stage"},
                          values={**clauses.values, ":at": at})

    def raise_flag(self, lead_id: str, flag_type: str, severity: Severity, evidence: dict[str, Any], *,
                   at: str | None = None) -> bool:
        """Record a flag once per (lead, type) and put the referral in the review queue, atomically.

        Returns False when that flag already existed (a replayed stream record): nothing changes.
        """
        at = at or iso()
        flag = {
            "pk": lead_pk(lead_id), "sk": f"FLAG#{flag_type}", "type": "flag", "lead_id": lead_id,
            "flag_type": flag_type, "severity": str(severity), "evidence": evidence, "status": "open",
            "created_at": at,
        }
        queue = Update(
            key={"pk": lead_pk(lead_id), "sk": REFERRAL_SK},
            expression=("SET #type = :referral, review_status = :open, gsi2pk = :queue, gsi2sk = :order, "
                        "updated_at = :at, lead_id = :lead ADD flag_types :types, flag_severities :severities"),
            names={"#type": "type"},
            values={":referral": "referral", ":open": str(ReviewStatus.OPEN),
                    ":queue": review_gsi(ReviewStatus.OPEN), ":order": f"{at}#{lead_id}", ":at": at,
                    ":lead": lead_id, ":types": {flag_type}, ":severities": {str(severity)}},
        )
        try:
            self.table.transact([Put(flag, condition="attribute_not_exists(pk)"), queue])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                return False
            raise
        return True

    def of_referrer(self, referrer_id: str, *, limit: int, cursor: str | None = None
                    ) -> tuple[list[dict[str, Any]], str | None]:
        """One page of a referrer's referrals, newest first (access pattern 6), and the cursor of the
        next; a cursor of another referrer's list is refused (``dal.cursors``)."""
        partition = referrals_of_referrer_gsi(referrer_id)
        page = self.table.query("gsi1pk = :pk", {":pk": partition}, index="gsi1", limit=limit,
                                newest_first=True,
                                start_key=decode_cursor(cursor, index="gsi1", partition=partition))
        return page.items, encode_cursor(page.last_key)
