"""Money: the append-only ledger, the balance it moves, rewards (one per job) and withdrawals.

The balance (``REFERRER#{id}``/``BALANCE``) changes only in :meth:`LedgerRepository.post`, in the same
transaction as exactly one ledger entry. Entry ids are ``{job_id|withdrawal_id}#{kind}``, so a replayed
event collides with the entry it already wrote instead of posting twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum
from typing import Any

from referral_core.dal.audit import audit_entry
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionCheck, ConditionFailed, Delete, Item, Put, Table, Update
from referral_core.dal.program import ProgramRepository
from referral_core.dal.referrals import REFERRAL_SK, ReferralRepository, lead_pk, reward_paid_update
from referral_core.errors import Conflict, NotFound

Operation = Put | Update | ConditionCheck | Delete

RELEASE_QUEUE = "RELEASE#PENDING"


class EntryKind(StrEnum):
    CREDIT_PENDING = "credit_pending"
    RELEASE_TO_AVAILABLE = "release_to_available"
    REVERSAL = "reversal"
    CLAWBACK = "clawback"
    WITHDRAWAL_HOLD = "withdrawal_hold"
    WITHDRAWAL_PAID = "withdrawal_paid"
    WITHDRAWAL_REJECTED_RELEASE = "withdrawal_rejected_release"
    ADJUSTMENT = "adjustment"  # staff: a bonus (+) or a correction (-) of the available balance, with a reason


class RewardState(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    PAID = "paid"
    REVERSED = "reversed"
    CLAWED_BACK = "clawed_back"


class WithdrawalStatus(StrEnum):
    REQUESTED = "requested"
    ON_HOLD = "on_hold"  # a clawback reached the money it holds: paid only with a staff override
    PAID = "paid"
    REJECTED = "rejected"


#: Withdrawals whose amount is still in ``held_cents`` (waiting for a staff decision).
OPEN_WITHDRAWALS = (WithdrawalStatus.REQUESTED, WithdrawalStatus.ON_HOLD)
#: Why a withdrawal is on hold (the referrer sees this code; staff also see the jobs).
HOLD_REASON_CLAWBACK = "reward_clawed_back"


# -- keys ------------------------------------------------------------------------------------------
def referrer_pk(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}"


def balance_key(referrer_id: str) -> dict[str, str]:
    return {"pk": referrer_pk(referrer_id), "sk": "BALANCE"}


def reward_key(job_id: str) -> dict[str, str]:
    return {"pk": f"REWARD#{job_id}", "sk": "REWARD"}


def withdrawal_key(withdrawal_id: str) -> dict[str, str]:
    return {"pk": f"WITHDRAWAL#{withdrawal_id}", "sk": "WITHDRAWAL"}


def rewards_of_referrer_gsi(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}#REWARDS"


def withdrawals_of_referrer_gsi(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}#WITHDRAWALS"


def withdrawals_by_status_gsi(status: WithdrawalStatus | str) -> str:
    return f"WITHDRAWALS#{status}"


def entry_id(source_id: str, kind: EntryKind) -> str:
    """Deterministic: the same (job or withdrawal, kind) always names the same ledger entry."""
    return f"{source_id}#{kind}"


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
        return {"pk": referrer_pk(self.referrer_id), "sk": f"LEDGER#{self.entry_id}", "type": "ledger",
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
        return self.table.partition(referrer_pk(referrer_id), sk_prefix="LEDGER#", consistent=True)

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


# -- rewards ---------------------------------------------------------------------------------------
def _key(job_id: str) -> tuple[str, str]:
    key = reward_key(job_id)
    return key["pk"], key["sk"]


class RewardRepository:
    """``REWARD#{job_id}`` items, the state machine beside the ledger, and the release queue (gsi2)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, job_id: str) -> Item | None:
        key = reward_key(job_id)
        return self.table.get(key["pk"], key["sk"], consistent=True)

    def new(self, reward: Item) -> Put:
        """Create the reward once per job (the guard of the credit transaction)."""
        key = reward_key(reward["job_id"])
        item = {**key, "type": "reward", **reward,
                "gsi1pk": rewards_of_referrer_gsi(reward["referrer_id"]), "gsi1sk": reward["created_at"],
                "gsi2pk": RELEASE_QUEUE, "gsi2sk": f"{reward['release_at']}#{reward['job_id']}"}
        return Put(item, condition="attribute_not_exists(pk)")

    def transition(self, job_id: str, from_states: Sequence[RewardState], to: RewardState, *, at: str,
                   attributes: dict[str, Any] | None = None) -> Update:
        """Move the reward between states, only from ``from_states``; leaves the release queue."""
        values: dict[str, Any] = {":to": str(to), ":at": at}
        sets = ["#state = :to", "updated_at = :at"]
        for index, (name, value) in enumerate((attributes or {}).items()):
            sets.append(f"{name} = :a{index}")
            values[f":a{index}"] = value
        allowed = []
        for index, state in enumerate(from_states):
            values[f":from{index}"] = str(state)
            allowed.append(f":from{index}")
        return Update(key=reward_key(job_id), expression=f"SET {', '.join(sets)} REMOVE gsi2pk, gsi2sk",
                      condition=f"#state IN ({', '.join(allowed)})", names={"#state": "state"},
                      values=values)

    def hold_release(self, job_id: str, *, at: str) -> bool:
        """Take a pending reward out of the release queue (its job's payment is disputed) until
        :meth:`resume_release`; False if it is not pending in the queue (held already, or released)."""
        try:
            self.table.update(*_key(job_id), "SET release_held_at = :at REMOVE gsi2pk, gsi2sk",
                              condition="#state = :pending AND attribute_exists(gsi2pk)",
                              names={"#state": "state"}, values={":at": at, ":pending": str(RewardState.PENDING)})
        except ConditionFailed:
            return False
        return True

    def resume_release(self, job_id: str) -> bool:
        """Put a held pending reward back in the release queue at its ``release_at`` (a staff accept);
        False if it was not held."""
        reward = self.get(job_id)
        if reward is None or not reward.get("release_held_at"):
            return False
        try:
            self.table.update(*_key(job_id), "SET gsi2pk = :queue, gsi2sk = :sk REMOVE release_held_at",
                              condition="#state = :pending AND attribute_exists(release_held_at)",
                              names={"#state": "state"},
                              values={":queue": RELEASE_QUEUE, ":sk": f"{reward['release_at']}#{job_id}",
                                      ":pending": str(RewardState.PENDING)})
        except ConditionFailed:
            return False
        return True

    def due(self, now: str, *, limit: int = 100) -> list[Item]:
        """Pending rewards whose holding period ended by ``now`` (sparse gsi2, oldest first)."""
        page = self.table.query("gsi2pk = :queue AND gsi2sk <= :now",
                                {":queue": RELEASE_QUEUE, ":now": f"{now}#\uffff"}, index="gsi2",
                                limit=limit)
        return page.items

    def of_referrer(self, referrer_id: str, *, limit: int = 50) -> list[Item]:
        return self.table.query("gsi1pk = :pk", {":pk": rewards_of_referrer_gsi(referrer_id)},
                                index="gsi1", newest_first=True, limit=limit).items

    def all_of_referrer(self, referrer_id: str) -> list[Item]:
        """Every reward of a referrer, oldest first (to settle payouts in order)."""
        return list(self.table.query_all("gsi1pk = :pk", {":pk": rewards_of_referrer_gsi(referrer_id)},
                                         index="gsi1"))

    def record_eligibility(self, lead_id: str, eligibility: dict[str, Any], *, at: str,
                           review_queue: str | None = None) -> None:
        update = eligibility_update(lead_id, eligibility, at=at, review_queue=review_queue)
        self.table.update(update.key["pk"], update.key["sk"], update.expression, values=update.values)

    def mark_paid(self, job_id: str, lead_id: str, *, at: str) -> bool:
        """available → paid, and the referral to ``reward_paid``, together (a retry after a failure finds
        neither done, never one without the other); False if the reward is not available (any more)."""
        try:
            self.table.transact([self.transition(job_id, [RewardState.AVAILABLE], RewardState.PAID, at=at),
                                 reward_paid_update(lead_id, at=at)])
        except ConditionFailed as exc:
            if exc.failed_index() == 0:
                return False
            raise
        return True


def referee_credit_note(job_id: str, lead_id: str, amount_cents: int, at: str) -> Put:
    """The friend's side of a double-sided programme: a record for staff to issue by hand (no ledger)."""
    item = {"pk": f"REWARD#{job_id}", "sk": "REFEREE", "type": "credit_note", "job_id": job_id,
            "lead_id": lead_id, "amount_cents": amount_cents, "status": "to_issue", "created_at": at}
    return Put(item, condition="attribute_not_exists(pk)")


# -- facts the rewards read: referral evidence and jobs --------------------------------------------
class JobReader:
    """Reads the ``job`` item that the job webhook maintains (``JOB#{id}``/``JOB``)."""

    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, job_id: str) -> Item | None:
        return self.table.get(f"JOB#{job_id}", "JOB", consistent=True)


def eligibility_update(lead_id: str, eligibility: dict[str, Any], *, at: str,
                       review_queue: str | None = None) -> Update:
    """Set ``eligibility`` on the referral (named attributes only); optionally queue it for review."""
    sets = ["eligibility = :eligibility", "updated_at = :at"]
    values: dict[str, Any] = {":eligibility": eligibility, ":at": at}
    if review_queue is not None:
        sets += ["review_status = :open", "gsi2pk = :queue", "gsi2sk = :order"]
        values |= {":open": "open", ":queue": review_queue, ":order": f"{at}#{lead_id}"}
    return Update(key={"pk": lead_pk(lead_id), "sk": REFERRAL_SK}, expression="SET " + ", ".join(sets),
                  values=values)


# -- withdrawals -----------------------------------------------------------------------------------
class WithdrawalRepository:
    def __init__(self, table: Table) -> None:
        self.table = table

    def get(self, withdrawal_id: str) -> Item | None:
        key = withdrawal_key(withdrawal_id)
        return self.table.get(key["pk"], key["sk"], consistent=True)

    def new(self, withdrawal: Item) -> Put:
        key = withdrawal_key(withdrawal["withdrawal_id"])
        order = f"{withdrawal['created_at']}#{withdrawal['withdrawal_id']}"
        item = {**key, "type": "withdrawal", **withdrawal,
                "gsi1pk": withdrawals_by_status_gsi(withdrawal["status"]), "gsi1sk": order,
                "gsi2pk": withdrawals_of_referrer_gsi(withdrawal["referrer_id"]), "gsi2sk": order}
        return Put(item, condition="attribute_not_exists(pk)")

    def decide(self, withdrawal: Item, status: WithdrawalStatus, *, actor: str, at: str,
               attributes: dict[str, Any]) -> tuple[Update, Put]:
        """Move an open withdrawal to ``status`` (the once-only guard: only from the status it was read in,
        so a hold or a decision in between makes it fail) and its audit entry."""
        key = withdrawal_key(withdrawal["withdrawal_id"])
        values: dict[str, Any] = {":status": str(status), ":was": str(withdrawal["status"]),
                                  ":queue": withdrawals_by_status_gsi(status), ":at": at, ":by": actor}
        sets = ["#status = :status", "gsi1pk = :queue", "decided_at = :at", "decided_by = :by"]
        for index, (name, value) in enumerate(attributes.items()):
            sets.append(f"{name} = :a{index}")
            values[f":a{index}"] = value
        guard = Update(key=key, expression="SET " + ", ".join(sets), condition="#status = :was",
                       names={"#status": "status"}, values=values)
        detail = {"amount_cents": withdrawal["amount_cents"], "from_status": str(withdrawal["status"]),
                  **attributes}
        if withdrawal.get("hold_jobs"):
            detail |= {"hold_cents": withdrawal.get("hold_cents"), "hold_jobs": withdrawal["hold_jobs"]}
        audit = audit_entry(key["pk"], actor=actor, action=f"withdrawal.{status}", detail=detail, at=at)
        return guard, audit

    def hold(self, withdrawal: Item, *, cents: int, job_id: str, at: str) -> tuple[Update, Put]:
        """Put an open withdrawal on hold for ``cents`` of a clawback of ``job_id`` (a transaction item of
        the clawback, conditional on the withdrawal being as read), and its audit entry."""
        key = withdrawal_key(withdrawal["withdrawal_id"])
        before = int(withdrawal.get("hold_cents") or 0)
        values: dict[str, Any] = {
            ":on_hold": str(WithdrawalStatus.ON_HOLD), ":was": str(withdrawal["status"]),
            ":queue": withdrawals_by_status_gsi(WithdrawalStatus.ON_HOLD), ":at": at,
            ":reason": HOLD_REASON_CLAWBACK, ":cents": before + cents, ":before": before,
            ":job": [job_id], ":none": []}
        expression = ("SET #status = :on_hold, gsi1pk = :queue, held_at = if_not_exists(held_at, :at), "
                      "hold_reason = :reason, hold_cents = :cents, "
                      "hold_jobs = list_append(if_not_exists(hold_jobs, :none), :job)")
        condition = "#status = :was AND (attribute_not_exists(hold_cents) OR hold_cents = :before)"
        update = Update(key=key, expression=expression, condition=condition, names={"#status": "status"},
                        values=values)
        audit = audit_entry(key["pk"], actor="system", action="withdrawal.on_hold", at=at, detail={
            "amount_cents": withdrawal["amount_cents"], "reason": HOLD_REASON_CLAWBACK, "job_id": job_id,
            "hold_cents": before + cents})
        return update, audit

    def open_of_referrer(self, referrer_id: str) -> list[Item]:
        """The referrer's requested and on-hold withdrawals (their amounts make up ``held_cents``), newest
        first."""
        values = {":pk": withdrawals_of_referrer_gsi(referrer_id),
                  **{f":s{i}": str(s) for i, s in enumerate(OPEN_WITHDRAWALS)}}
        statuses = ", ".join(f":s{i}" for i in range(len(OPEN_WITHDRAWALS)))
        return list(self.table.query_all("gsi2pk = :pk", values, index="gsi2", newest_first=True,
                                         names={"#status": "status"},
                                         filter_expression=f"#status IN ({statuses})"))

    def by_status(self, status: WithdrawalStatus, *, limit: int, cursor: str | None
                  ) -> tuple[list[Item], str | None]:
        partition = withdrawals_by_status_gsi(status)
        page = self.table.query("gsi1pk = :pk", {":pk": partition}, index="gsi1", newest_first=True, limit=limit,
                                start_key=decode_cursor(cursor, index="gsi1", partition=partition))
        return page.items, encode_cursor(page.last_key)

    def of_referrer(self, referrer_id: str, *, limit: int = 50) -> list[Item]:
        return self.table.query("gsi2pk = :pk", {":pk": withdrawals_of_referrer_gsi(referrer_id)},
                                index="gsi2", newest_first=True, limit=limit).items


# -- everything the reward services use, built on one table ----------------------------------------
@dataclass(frozen=True)
class RewardRepos:
    ledger: LedgerRepository
    rewards: RewardRepository
    withdrawals: WithdrawalRepository
    referrals: ReferralRepository
    jobs: JobReader
    program: ProgramRepository
    currency: str
    """The programme's currency (the deployment's ``CURRENCY``): every balance and reward is in it."""

    @classmethod
    def on(cls, table: Table, *, currency: str) -> RewardRepos:
        return cls(ledger=LedgerRepository(table), rewards=RewardRepository(table),
                   withdrawals=WithdrawalRepository(table), referrals=ReferralRepository(table),
                   jobs=JobReader(table), program=ProgramRepository(table), currency=currency)
