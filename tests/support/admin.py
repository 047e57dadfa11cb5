"""Seed the items other features write (leads, referrals, contacts, jobs, ledgers, stats) for staff tests.

They follow docs/data-model.md, so the staff endpoint is built against the contract rather than against
another feature's code. Referral items are written with UpdateItem on named attributes, like the app.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from referral_core.clock import iso
from referral_core.contacts import mask_name
from referral_core.dal.dynamo import Table
from referral_core.dal.ledger import Deltas, Entry, EntryKind
from referral_core.dal.referrals import ReferralRepository, lead_pk, referrals_of_referrer_gsi
from referral_core.dal.referrers import ReferrerRepository
from referral_core.hashing import email_hash, peppered_hash
from referral_core.ids import new_id
from referral_core.models.referrers import CreateReferrerRequest
from referral_core.services.referrers import create_referrer
from referral_core.stages import Severity, Stage
from tests.support import iam_usage
from tests.support.aws import PEPPER, Stack, template

ORIGIN = "https://refer.example.com"


def table(stack: Stack) -> Table:
    return Table(stack.table_name, stack.dynamodb)


def seed_referrer(stack: Stack, name: str = "Rita Referrer", email: str | None = None,
                  phone: str | None = None) -> tuple[str, str]:
    """A referrer as staff create them; returns (referrer_id, code)."""
    created = create_referrer(
        ReferrerRepository(table(stack)),
        CreateReferrerRequest(name=name, email=email or f"{new_id().lower()}@example.com", phone=phone),
        pepper=PEPPER, origin=ORIGIN, phone_region="AU", actor="staff:seed")
    return created.referrer_id, created.code


@dataclass(frozen=True)
class SeededLead:
    lead_id: str
    email: str
    phone: str | None
    name: str


def seed_lead(stack: Stack, *, name: str = "Joanne Customer", email: str | None = None,
              phone: str | None = None, referrer_id: str | None = None, code: str | None = None,
              click_id: str | None = None, job_id: str | None = None, at: str | None = None,
              postcode: str = "2000") -> SeededLead:
    """A Quick Help lead (raw contact + hashes), its contact items and its referral (stage received)."""
    t = table(stack)
    lead_id = new_id()
    at = at or iso()
    email = email or f"{lead_id.lower()}@customer.example"
    hashes = {"email_hash": email_hash(PEPPER, email)}
    if phone:
        hashes["phone_hash"] = peppered_hash(PEPPER, "phone", phone)
    t.put({"pk": lead_pk(lead_id), "sk": "LEAD", "type": "lead", "lead_id": lead_id, "name": name,
           "email": email, "phone": phone, "postcode": postcode, "issue": f"Printer for {name} jams",
           "consent": {"contact": True, "policy_version": "2026-01"}, "ref": code, "cid": click_id,
           "referred_by": f"{name}'s neighbour", "source": "link" if code else "quick_help",
           "created_at": at, **hashes})
    for kind, value in hashes.items():
        t.put({"pk": f"CONTACT#{value}", "sk": f"LEAD#{lead_id}", "type": "contact", "kind": kind,
               "lead_id": lead_id, "created_at": at})
    attributes: dict[str, Any] = {
        "type": "referral", "lead_id": lead_id, "referral_id": lead_id, "stage": str(Stage.RECEIVED),
        "stage_rank": 1, "progress_stage": str(Stage.RECEIVED), "masked_name": mask_name(name),
        "postcode": postcode, "created_at": at, "updated_at": at, "code": code, "job_id": job_id,
        "source": "link" if code else "none",
    }
    if referrer_id:
        attributes |= {"referrer_id": referrer_id, "gsi1pk": referrals_of_referrer_gsi(referrer_id),
                       "gsi1sk": f"{at}#{lead_id}"}
    present = {k: v for k, v in attributes.items() if v is not None}
    t.update(lead_pk(lead_id), "REFERRAL",
             "SET " + ", ".join(f"#a{i} = :a{i}" for i in range(len(present))),
             names={f"#a{i}": k for i, k in enumerate(present)},
             values={f":a{i}": v for i, v in enumerate(present.values())})
    return SeededLead(lead_id=lead_id, email=email, phone=phone, name=name)


def flag(stack: Stack, lead_id: str, flag_type: str, severity: Severity = Severity.MEDIUM,
         at: str | None = None) -> None:
    """What the checks do: a flag item and the referral into the open review queue."""
    ReferralRepository(table(stack)).raise_flag(lead_id, flag_type, severity, {"why": "seeded"}, at=at)


def seed_job(stack: Stack, lead: SeededLead, *, job_id: str | None = None, amount_cents: int = 25_000) -> str:
    """A job linked to the lead, with the customer's details as the job system sent them."""
    t = table(stack)
    job_id = job_id or new_id()
    customer_hash = email_hash(PEPPER, lead.email)
    t.put({"pk": f"JOB#{job_id}", "sk": "JOB", "type": "job", "job_id": job_id, "lead_id": lead.lead_id,
           "statuses": {"created", "paid"}, "amount_cents": amount_cents,
           "customer_email_hash": customer_hash, "version": 2})
    t.put({"pk": f"JOB#{job_id}", "sk": "EVENT#job.paid", "type": "job_event", "job_id": job_id,
           "event_type": "job.paid", "data": {"job_id": job_id, "customer": {"email": lead.email,
                                                                           "phone": lead.phone}}})
    t.put({"pk": f"CONTACT#{customer_hash}", "sk": f"JOB#{job_id}", "type": "contact", "job_id": job_id})
    t.update(lead_pk(lead.lead_id), "REFERRAL", "SET job_id = :job", values={":job": job_id})
    return job_id


def seed_reward(stack: Stack, referrer_id: str, job_id: str, amount_cents: int = 5_000,
                at: str | None = None) -> None:
    """A pending reward, its ledger entry and the balance, as the rewards feature writes them."""
    t = table(stack)
    at = at or iso()
    t.put({"pk": f"REWARD#{job_id}", "sk": "REWARD", "type": "reward", "job_id": job_id,
           "referrer_id": referrer_id, "amount_cents": amount_cents, "state": "pending", "created_at": at,
           "gsi1pk": f"REFERRER#{referrer_id}#REWARDS", "gsi1sk": at})
    entry = Entry(referrer_id=referrer_id, kind=EntryKind.CREDIT_PENDING, source_id=job_id,
                  amount_cents=amount_cents, deltas=Deltas(pending_cents=amount_cents, rewarded_count=1), at=at)
    t.put(entry.item())
    t.update(f"REFERRER#{referrer_id}", "BALANCE", "ADD pending_cents :amount, rewarded_count :one",
             values={":amount": amount_cents, ":one": 1})


def seed_stats(stack: Stack, code: str, placement: str = "", **counters: int) -> None:
    """code_stats counters as the click/lead/job consumers ADD them."""
    placement_key = placement or "-"
    table(stack).update(
        f"STATS#{code}", f"PLACEMENT#{placement_key}",
        "SET #type = :type, code = :code, placement = :placement, gsi1pk = :stats, gsi1sk = :order "
        + ("ADD " + ", ".join(f"{name} :{name}" for name in counters) if counters else ""),
        names={"#type": "type"},
        values={":type": "code_stats", ":code": code, ":placement": placement, ":stats": "STATS",
                ":order": f"{code}#{placement_key}", **{f":{k}": v for k, v in counters.items()}})


def bulk_queue(stack: Stack, count: int, *, status: str = "open",
               velocity: Callable[[int], bool] = lambda n: n % 10 == 0) -> list[str]:
    """``count`` referrals in ``REVIEW#{status}`` via BatchWriteItem (fast seeding for paging tests), oldest
    first; the ``n``-th is flagged ``velocity`` (high) when ``velocity(n)``, else ``duplicate_contact``."""
    import boto3

    resource = boto3.resource("dynamodb", region_name="us-east-1")
    lead_ids = []
    with resource.Table(stack.table_name).batch_writer() as batch:
        for n in range(count):
            lead_id = new_id()
            lead_ids.append(lead_id)
            at = f"2026-10-01T00:00:00.{n:06d}Z"
            batch.put_item(Item={
                "pk": lead_pk(lead_id), "sk": "REFERRAL", "type": "referral", "lead_id": lead_id,
                "review_status": status, "gsi2pk": f"REVIEW#{status}", "gsi2sk": f"{at}#{lead_id}",
                "stage": "received", "updated_at": at, "masked_name": "Al B.",
                "flag_types": {"velocity" if velocity(n) else "duplicate_contact"},
                "flag_severities": {"high" if velocity(n) else "low"}})
    return lead_ids


def staff_pool(stack: Stack) -> str:
    """A staff user pool on moto with the role groups, the staff function pointed at it; its id.

    moto picks the pool's id, so the IAM recorder is told it stands for the template's ``StaffUserPool``
    (the staff function's Cognito grant is on that pool only)."""
    import boto3

    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = str(idp.create_user_pool(PoolName="staff", UsernameAttributes=["email"])["UserPool"]["Id"])
    for group in ("admin", "staff", "viewer"):
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    iam_usage.stands_for(pool_id, str(template().ref("StaffUserPool")))
    stack.env["STAFF_USER_POOL_ID"] = pool_id
    stack.monkeypatch.setenv("STAFF_USER_POOL_ID", pool_id)
    return pool_id
