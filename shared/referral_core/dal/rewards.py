"""Rewards (``REWARD#{job_id}``, one per job): the state machine beside the ledger, the release queue,
and :class:`RewardRepos`, everything the reward services use built on one table.

The money itself moves only through the ledger (:mod:`referral_core.dal.ledger`); withdrawals are in
:mod:`referral_core.dal.withdrawals`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from referral_core.dal.dynamo import ConditionFailed, Item, Put, Table, Update
from referral_core.dal.exports import ExportKind, export_pointer
from referral_core.dal.jobs import JobRepository
from referral_core.dal.ledger import LedgerRepository
from referral_core.dal.program import ProgramRepository
from referral_core.dal.referrals import ReferralRepository, eligibility_update, reward_paid_update
from referral_core.dal.withdrawals import WithdrawalRepository

RELEASE_QUEUE = "RELEASE#PENDING"


class RewardState(StrEnum):
    PENDING = "pending"
    AVAILABLE = "available"
    PAID = "paid"
    REVERSED = "reversed"
    CLAWED_BACK = "clawed_back"


# -- keys ------------------------------------------------------------------------------------------
def reward_key(job_id: str) -> dict[str, str]:
    return {"pk": f"REWARD#{job_id}", "sk": "REWARD"}


def rewards_of_referrer_gsi(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}#REWARDS"


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
                           open_review: bool = False) -> None:
        update = eligibility_update(lead_id, eligibility, at=at, open_review=open_review)
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


def reward_export_pointer(job_id: str, *, at: str) -> Put:
    """The rewards export's pointer to this job's reward (dal/exports.py)."""
    return export_pointer(ExportKind.REWARDS, at=at, record_id=job_id, target=reward_key(job_id))


def referee_credit_note(job_id: str, lead_id: str, amount_cents: int, at: str) -> Put:
    """The friend's side of a double-sided programme: a record for staff to issue by hand (no ledger)."""
    item = {"pk": f"REWARD#{job_id}", "sk": "REFEREE", "type": "credit_note", "job_id": job_id,
            "lead_id": lead_id, "amount_cents": amount_cents, "status": "to_issue", "created_at": at}
    return Put(item, condition="attribute_not_exists(pk)")


# -- everything the reward services use, built on one table ----------------------------------------
@dataclass(frozen=True)
class RewardRepos:
    ledger: LedgerRepository
    rewards: RewardRepository
    withdrawals: WithdrawalRepository
    referrals: ReferralRepository
    jobs: JobRepository
    program: ProgramRepository
    currency: str
    """The programme's currency (the deployment's ``CURRENCY``): every balance and reward is in it."""

    @classmethod
    def on(cls, table: Table, *, currency: str) -> RewardRepos:
        return cls(ledger=LedgerRepository(table), rewards=RewardRepository(table),
                   withdrawals=WithdrawalRepository(table), referrals=ReferralRepository(table),
                   jobs=JobRepository(table), program=ProgramRepository(table), currency=currency)
