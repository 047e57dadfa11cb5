"""Seed the items rewards read (written by other functions in production) and drive the reward functions.

Shapes follow docs/data-model.md: ``referral`` (``LEAD#{id}``/``REFERRAL``), ``job`` (``JOB#{id}``/``JOB``),
``flag`` (``LEAD#{id}``/``FLAG#{type}``) and the zero ``balance`` written when a referrer is created.
"""

from __future__ import annotations

from typing import Any

from referral_core.clock import iso
from referral_core.dal.dynamo import Table
from referral_core.dal.ledger import BALANCE_FIELDS
from referral_core.dal.rewards import RewardRepos
from referral_core.models.program import ProgramRules, default_rules
from referral_core.stages import RANK, Stage
from tests.support.events import load_event, stream_event, stream_record

LEAD, JOB, REFERRER = "lead-0001", "job-0001", "ref-0001"  # the ids in events/settle_rewards/*.json
CURRENCY = "AUD"  # template.yaml's Currency default: the programme's currency in tests


def repos(stack: Any) -> RewardRepos:
    return RewardRepos.on(Table(stack.table_name), currency=CURRENCY)


def table(stack: Any) -> Table:
    return Table(stack.table_name)


def save_rules(stack: Any, **changes: Any) -> ProgramRules:
    """Save programme rules (defaults + ``changes``) as the next version."""
    program = repos(stack).program
    current = program.current()
    rules = ProgramRules.model_validate({**default_rules().model_dump(mode="json"), **changes})
    program.save(rules.model_dump(mode="json"), expected_version=current["version"] if current else 0,
                 actor="test", at=iso())
    return rules


def seed_referrer(stack: Any, referrer_id: str = REFERRER) -> str:
    table(stack).put({"pk": f"REFERRER#{referrer_id}", "sk": "BALANCE", "type": "balance",
                      "referrer_id": referrer_id, **dict.fromkeys(BALANCE_FIELDS, 0), "version": 0})
    return referrer_id


def seed_job(stack: Any, job_id: str = JOB, lead_id: str = LEAD, *, amount_cents: int = 20_000,
             statuses: tuple[str, ...] = ("created", "completed", "paid"),
             at: str | None = None) -> dict[str, Any]:
    at = at or iso()
    job = {"pk": f"JOB#{job_id}", "sk": "JOB", "type": "job", "job_id": job_id, "lead_id": lead_id,
           "statuses": set(statuses), "amount_cents": amount_cents, "currency": "AUD", "version": 1,
           "completed_at": at if "completed" in statuses else None,
           "paid_at": at if "paid" in statuses else None}
    table(stack).put(job)
    return table(stack).get(f"JOB#{job_id}", "JOB") or {}


def seed_referral(stack: Any, lead_id: str = LEAD, referrer_id: str | None = REFERRER, job_id: str = JOB, *,
                  stage: Stage = Stage.CUSTOMER_PAID, created_at: str | None = None,
                  **extra: Any) -> dict[str, Any]:
    created_at = created_at or iso()
    referral = {"pk": f"LEAD#{lead_id}", "sk": "REFERRAL", "type": "referral", "lead_id": lead_id,
                "referrer_id": referrer_id, "code": "K7QX3MZ", "job_id": job_id, "stage": str(stage),
                "stage_rank": RANK[stage], "progress_stage": str(stage), "postcode": "2000",
                "attribution": {"window_days": 90, "at": created_at}, "created_at": created_at,
                "updated_at": created_at, **extra}
    table(stack).put(referral)
    return referral


def seed_flag(stack: Any, lead_id: str, flag_type: str, severity: str, status: str = "open") -> None:
    table(stack).put({"pk": f"LEAD#{lead_id}", "sk": f"FLAG#{flag_type}", "type": "flag", "lead_id": lead_id,
                      "flag_type": flag_type, "severity": severity, "status": status, "evidence": {},
                      "created_at": iso()})


def refund(stack: Any, job_id: str = JOB) -> tuple[dict[str, Any], dict[str, Any]]:
    """Mark the job refunded; returns (old, new) images."""
    old = table(stack).get(f"JOB#{job_id}", "JOB") or {}
    table(stack).update(f"JOB#{job_id}", "JOB", "ADD statuses :r SET refunded_at = :at",
                        values={":r": {"refunded"}, ":at": iso()})
    return old, table(stack).get(f"JOB#{job_id}", "JOB") or {}


def referral(stack: Any, lead_id: str = LEAD) -> dict[str, Any]:
    return table(stack).get(f"LEAD#{lead_id}", "REFERRAL") or {}


def balance(stack: Any, referrer_id: str = REFERRER) -> dict[str, Any]:
    return repos(stack).ledger.balance(referrer_id)


def settle_event(name: str) -> dict[str, Any]:
    """A sample from events/settle_rewards/ (ids LEAD, JOB, REFERRER)."""
    return load_event(f"settle_rewards/{name}.json")


def job_event(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return stream_event(stream_record("MODIFY", new=new, old=old))


def assert_balance_matches_ledger(stack: Any, referrer_id: str = REFERRER) -> dict[str, Any]:
    """The balance is exactly the sum of the ledger's deltas; returns the balance."""
    book = repos(stack).ledger
    entries = book.entries(referrer_id)
    current = book.balance(referrer_id)
    for name in BALANCE_FIELDS:
        assert int(current.get(name, 0)) == sum(e["deltas"][name] for e in entries), name
    assert len({e["entry_id"] for e in entries}) == len(entries)
    return current







def empty_table(stack: Any) -> None:
    """Drop and recreate the table from the template (hypothesis examples share one ``stack``)."""
    from local.template import create_table_kwargs
    from tests.support.aws import template

    stack.dynamodb.delete_table(TableName=stack.table_name)
    stack.dynamodb.create_table(**create_table_kwargs(template(), "Table"))
