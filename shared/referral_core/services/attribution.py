"""Who gets credit for a lead, and how a job moves its referral along (docs/jobs.md).

:func:`decide` is the pure rule: it weighs the lead's sources (refer-a-job form, link click, share code,
free-text claim) in the programme's precedence, binds a returning customer to their first (or last)
referral, refuses existing customers, and sends conflicts and claims to staff. The rules are exactly the
programme's ``rules.attribution`` as staff saved it (``program_defaults.attribution_rules``).
:func:`attribute_lead` and :func:`on_job_changed` apply it over the repositories, idempotently under
stream replays.

Whether a share code counts is decided once, at capture (``services.leads``: ``ref_status``); the
resolver reads that decision (:func:`code_accepted`) and never looks at the code item itself.
"""

from __future__ import annotations

import hashlib
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from enum import StrEnum
from typing import Any

from referral_core.clock import iso, parse_iso
from referral_core.contacts import mask_name
from referral_core.dal.attribution import AttributionRepository
from referral_core.dal.contacts import Owner, owned_by, owner
from referral_core.dal.dynamo import Item
from referral_core.dal.referrals import ReferralRepository, referrer_index
from referral_core.ids import normalise_code
from referral_core.models.program import LEGACY_SOURCE_NAMES, Attribution, AttributionSource
from referral_core.services.lead_checks import claim_matches
from referral_core.services.program_defaults import attribution_rules
from referral_core.services.redirect import CODE_PATTERN, is_live, referrer_active
from referral_core.stages import FlagType, Severity, Stage

#: Sources that attribute on their own; a free-text ``referred_by`` claim never does (staff decide).
AUTOMATIC: tuple[AttributionSource, ...] = ("referral_form", "link", "code")
#: ``source`` and ``ref_via`` of a lead made from a job's share code (:func:`lead_from_code`).
JOB_SYSTEM = "job_system"
#: What evidence keeps of a claim that names no code of the lead: never the text itself (it stays on the
#: lead, the only item with a customer's own words).
FREE_TEXT = "free_text"


class Outcome(StrEnum):
    ATTRIBUTED = "attributed"
    REVIEW = "under_review"
    NOT_ELIGIBLE = "not_eligible"
    NONE = "none"  # no source at all: an ordinary lead, not a referral


@dataclass(frozen=True)
class Evidence:
    """One link in the evidence chain stored on the referral."""

    source: str
    value: str
    referrer_id: str | None
    at: str
    accepted: bool
    reason: str


@dataclass(frozen=True)
class Decision:
    outcome: Outcome
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    source: str | None = None
    referrer_id: str | None = None
    code: str | None = None


@dataclass(frozen=True)
class PriorReferral:
    """An earlier referral of the same customer (matched by email/phone hash)."""

    lead_id: str
    source: str
    referrer_id: str
    code: str | None
    created_at: str


def _within(earlier: str, later: str, days: int) -> bool:
    return parse_iso(later) - parse_iso(earlier) <= timedelta(days=days)


def code_accepted(lead: Item) -> bool:
    """Lead capture found the lead's code live and eligible (``ref_status`` ``attributed``)."""
    return bool(lead.get("ref")) and lead.get("ref_status") == "attributed" and bool(lead.get("referrer_id"))


def typed_code(lead: Item) -> bool:
    """The lead's code was typed in "who referred you?" (matched at capture), not carried from a link."""
    return lead.get("ref_via") == "referred_by"


def _code_reason(lead: Item) -> str:
    if typed_code(lead):
        return "code typed in who referred you"
    if lead.get("ref_via") == JOB_SYSTEM:
        return "code entered in the job system"
    return "valid code"


def claim_value(lead: Item, click: Item | None) -> str:
    """What the evidence keeps of a "who referred you?" claim: the lead's (or its click's) code when the
    claim names it, else :data:`FREE_TEXT`; never the customer's text."""
    claim = str(lead.get("referred_by") or "")
    for code in (lead.get("ref"), (click or {}).get("code")):
        if code and claim_matches(claim, code=str(code), referrer_name=None):
            return str(code)
    return FREE_TEXT


def lead_evidence(lead: Item, click: Item | None, rules: Attribution) -> list[Evidence]:
    """What the lead itself says about where it came from, each item accepted or refused with a reason."""
    at = lead["created_at"]
    found: list[Evidence] = []
    if lead.get("ref"):
        valid = code_accepted(lead)
        refused = "referrer_inactive" if lead.get("ref_status") == "referrer_inactive" else "unknown_code"
        found.append(Evidence("code", lead["ref"], lead.get("referrer_id") if valid else None, at, valid,
                              _code_reason(lead) if valid else refused))
    if lead.get("cid"):
        if click is None:
            found.append(Evidence("link", lead["cid"], None, at, False, "unknown_click"))
        else:
            fresh = _within(click["clicked_at"], at, rules.window_days)
            reason = "click within window" if fresh else "outside_attribution_window"
            found.append(Evidence("link", str(click.get("code", lead["cid"])), click.get("referrer_id"),
                                  click["clicked_at"], fresh and bool(click.get("referrer_id"))
                                  and not click.get("referrer_inactive"),
                                  "referrer_inactive" if click.get("referrer_inactive") else reason))
    if lead.get("source") == "refer_a_job" and lead.get("referrer_id"):
        found.append(Evidence("referral_form", lead["lead_id"], lead["referrer_id"], at, True,
                              "referrer submitted the job"))
    if lead.get("referred_by") and not typed_code(lead):
        found.append(Evidence("referred_by", claim_value(lead, click), None, at, False,
                              "free-text claim: staff decide"))
    return found


def decide(lead: Item, *, rules: Attribution, click: Item | None = None,
           prior: PriorReferral | None = None, existing_customer: bool = False) -> Decision:
    """The attribution of ``lead`` under ``rules`` (pure; see docs/jobs.md for the table of cases)."""
    evidence = lead_evidence(lead, click, rules)
    rank: dict[str, int] = {source: index for index, source in enumerate(rules.ranking())}
    automatic = sorted((e for e in evidence if e.accepted and e.source in AUTOMATIC),
                       key=lambda e: rank[e.source])
    winner = automatic[0] if automatic else None
    if prior is not None and (rules.model == "first_touch" or winner is None):
        bound = Evidence(prior.source, prior.lead_id, prior.referrer_id, prior.created_at, True,
                         f"{rules.model}: earlier referral of this customer")
        evidence = [bound, *(_overruled(e, rules.model) if e in automatic else e for e in evidence)]
        return _decision(Outcome.NOT_ELIGIBLE if existing_customer else Outcome.ATTRIBUTED,
                         "existing_customer" if existing_customer else "earlier_referral",
                         evidence, bound, code=prior.code)
    if prior is not None:
        evidence.append(Evidence(prior.source, prior.lead_id, prior.referrer_id, prior.created_at, False,
                                 "last_touch: a later source wins"))
    if winner is None:
        if any(e.source == "referred_by" for e in evidence):
            return Decision(Outcome.REVIEW, "claim_only", evidence)
        return Decision(Outcome.NONE, "no_source", evidence)
    code = next((e.value for e in automatic if e.source in ("code", "link")
                 and e.referrer_id == winner.referrer_id), None)
    if existing_customer:
        return _decision(Outcome.NOT_ELIGIBLE, "existing_customer", evidence, winner, code=code)
    if lead.get("zone_locked") and code is not None and code == lead.get("code"):
        # capture found the customer outside the zones of a code in zone_mode lock (docs/links.md)
        return _decision(Outcome.NOT_ELIGIBLE, "zone_locked", evidence, winner, code=code)
    if len({e.referrer_id for e in automatic}) > 1:
        return _decision(Outcome.REVIEW, "conflicting_sources", evidence, winner, code=code)
    return _decision(Outcome.ATTRIBUTED, winner.reason, evidence, winner, code=code)


def _overruled(item: Evidence, model: str) -> Evidence:
    return Evidence(item.source, item.value, item.referrer_id, item.at, False,
                    f"{model}: customer already referred")


def _decision(outcome: Outcome, reason: str, evidence: list[Evidence], winner: Evidence, *,
              code: str | None) -> Decision:
    return Decision(outcome, reason, evidence, winner.source, winner.referrer_id, code)


def without_inactive(lead: Item, click: Item | None, prior: PriorReferral | None,
                     inactive: set[str]) -> tuple[Item, Item | None, PriorReferral | None]:
    """The sources of a lead with suspended or erased referrers taken out (pure): their code and
    refer-a-job no longer credit them, their click is refused, an earlier referral to them binds nobody.
    Lead capture already refuses their codes; this also covers a suspension that lands between capture
    and attribution, and clicks or earlier referrals from before it."""
    if lead.get("referrer_id") in inactive:
        lead = {k: v for k, v in lead.items() if k not in ("referrer_id", "code")} | {
            "ref_status": "referrer_inactive"}
    if click is not None and click.get("referrer_id") in inactive:
        click = {**click, "referrer_inactive": True}
    if prior is not None and prior.referrer_id in inactive:
        prior = None
    return lead, click, prior


# -- applying it -------------------------------------------------------------------------------------
def _hashes(item: Item) -> list[str]:
    return [item[key] for key in ("email_hash", "phone_hash") if item.get(key)]


def _source_name(source: str) -> str:
    """A stored referral's source in today's names (referrals decided before issue 16 say ``click``...)."""
    return LEGACY_SOURCE_NAMES.get(source) or source


def customer_history(repo: AttributionRepository, lead: Item,
                     rules: Attribution) -> tuple[PriorReferral | None, bool]:
    """The binding earlier referral of this customer (first or last touch, within the window) and
    whether the customer already had a job before this lead (an existing customer)."""
    earlier_leads: set[str] = set()
    existing = False
    own_job = Owner("job", lead["job_id"]) if lead.get("job_id") else None  # a lead made from a job's code
    for contact_hash in _hashes(lead):
        for contact in repo.contacts(contact_hash):
            whose = owner(contact)
            if whose is None or whose == own_job:
                continue
            if whose.kind == "job" and contact.get("created_at", "") < lead["created_at"]:
                existing = True
            elif (whose.kind == "lead" and contact.get("lead_id") != lead["lead_id"]
                  and contact.get("created_at", "") < lead["created_at"]):
                earlier_leads.add(contact["lead_id"])
    priors = sorted(
        (PriorReferral(r["lead_id"], _source_name(str(r["source"])), r["referrer_id"],
                       r.get("code"), r["created_at"])
         for r in repo.referrals(sorted(earlier_leads))
         if r.get("referrer_id") and r.get("attribution", {}).get("outcome") == Outcome.ATTRIBUTED
         and _within(r["created_at"], lead["created_at"], rules.window_days)),
        key=lambda p: p.created_at)
    if not priors:
        return None, existing
    return (priors[0] if rules.model == "first_touch" else priors[-1]), existing


def attribute_lead(repo: AttributionRepository, referrals: ReferralRepository, lead: Item) -> Decision:
    """Decide and store the attribution of a new lead once; a replay re-applies what was left undone."""
    lead_id = lead["lead_id"]
    stored = referrals.get(lead_id, consistent=True)
    if stored and stored.get("attribution"):
        if not stored.get("attribution_applied_at"):
            _apply(repo, referrals, stored)
        return _stored_decision(stored)
    program = repo.program()
    rules = attribution_rules(program)
    click = repo.click(lead["cid"]) if lead.get("cid") else None
    prior, existing = customer_history(repo, lead, rules)
    candidates = {lead.get("referrer_id"), (click or {}).get("referrer_id"), prior.referrer_id if prior else None}
    inactive = repo.inactive_referrers({str(r) for r in candidates if r})
    if inactive:
        lead, click, prior = without_inactive(lead, click, prior, inactive)
    decision = decide(lead, rules=rules, click=click, prior=prior, existing_customer=existing)
    if decision.outcome == Outcome.NONE:
        return decision
    now = iso()
    attributes: dict[str, Any] = {
        "type": "referral", "lead_id": lead_id, "source": decision.source,
        "referrer_id": decision.referrer_id, "code": decision.code,
        "masked_name": mask_name(str(lead.get("name", ""))),
        # Where the credited code was shared (the click's placement or share channel): the funnel counts
        # the referral's leads, jobs, paid and rewarded under it (count_funnel).
        "placement": placement_of(click, decision.code),
        "postcode": lead.get("postcode"), "suburb": lead.get("suburb"), "created_at": lead["created_at"],
        "attribution": {"model": rules.model, "window_days": rules.window_days,
                        "program_version": int((program or {}).get("version") or 0),
                        "outcome": str(decision.outcome), "reason": decision.reason, "decided_at": now,
                        "evidence": [{k: v for k, v in asdict(e).items() if v is not None}
                                     for e in decision.evidence]},
    }
    if decision.referrer_id:
        attributes |= referrer_index(decision.referrer_id, lead_id, lead["created_at"])
    created = referrals.advance_stage(lead_id, Stage.RECEIVED, at=now,
                                      attributes={k: v for k, v in attributes.items() if v is not None})
    stored = referrals.get(lead_id, consistent=True)
    if stored and (created or not stored.get("attribution_applied_at")):
        _apply(repo, referrals, stored)
    return decision if created else _stored_decision(stored or {})


def placement_of(click: Item | None, code: str | None) -> str | None:
    """The placement of the click that brought the lead, when it was a click on the credited code."""
    if not click or not code or click.get("code") != code:
        return None
    return str(click.get("placement") or "") or None


def _stored_decision(referral: Item) -> Decision:
    attribution = referral.get("attribution", {})
    return Decision(Outcome(attribution.get("outcome", Outcome.NONE)), attribution.get("reason", ""),
                    [Evidence(e["source"], e["value"], e.get("referrer_id"), e["at"], e["accepted"],
                              e["reason"]) for e in attribution.get("evidence", [])],
                    referral.get("source"), referral.get("referrer_id"), referral.get("code"))


def _apply(repo: AttributionRepository, referrals: ReferralRepository, referral: Item) -> None:
    """The consequences of a stored decision: hold + flag for staff, the awaiting-job entry, and any job
    that was linked before the attribution existed."""
    lead_id = referral["lead_id"]
    attribution = referral["attribution"]
    outcome = Outcome(attribution["outcome"])
    if outcome == Outcome.NOT_ELIGIBLE:
        referrals.hold(lead_id, Stage.NOT_ELIGIBLE, reason=attribution["reason"])
    elif outcome == Outcome.REVIEW:
        referrals.hold(lead_id, Stage.UNDER_REVIEW)
        referrals.raise_flag(lead_id, FlagType.UNCLEAR_SOURCE, Severity.MEDIUM,
                             {"reason": attribution["reason"], "evidence": attribution["evidence"]})
    jobs = repo.linked_job_ids(lead_id)
    if outcome != Outcome.NOT_ELIGIBLE and not jobs:
        repo.await_job(lead_id, referral["created_at"])
    for job_id in jobs:
        job = repo.job(job_id)
        if job:
            advance_with_job(repo, referrals, lead_id, job)
    repo.mark_applied(lead_id, referral["created_at"], iso())


# -- jobs --------------------------------------------------------------------------------------------
def stage_for_job(statuses: list[str] | set[str]) -> Stage | None:
    """How far a job takes its referral: booked, completed, or completed *and* paid."""
    done = set(statuses)
    if {"completed", "paid"} <= done:
        return Stage.CUSTOMER_PAID
    if "completed" in done:
        return Stage.JOB_COMPLETED
    if done & {"created", "quoted", "invoiced", "paid"}:
        return Stage.JOB_BOOKED
    return None


def find_lead(repo: AttributionRepository, job: Item, rules: Attribution) -> tuple[str, str] | None:
    """The lead a job belongs to and how it was found: the job's ``lead_id``, else the customer's newest
    lead (by email/phone hash) received within the attribution window before the job."""
    if job.get("linked_lead_id"):
        return job["linked_lead_id"], job.get("linked_by", "lead_id")
    if job.get("lead_id") and repo.lead(job["lead_id"]) is not None:
        return job["lead_id"], "lead_id"
    job_seen = job.get("created_at") or iso()
    candidates = [
        (contact["created_at"], contact["lead_id"])
        for contact_hash in job.get("contact_hashes", [])
        for contact in repo.contacts(contact_hash)
        if owned_by(contact, "lead") and contact.get("created_at", "") <= job_seen
        and _within(contact["created_at"], job_seen, rules.window_days)
    ]
    return (max(candidates)[1], "contact") if candidates else None


def on_job_changed(repo: AttributionRepository, referrals: ReferralRepository, job: Item) -> str | None:
    """Link a new or changed job to its lead (once) and move that lead's referral along.

    Returns the lead id the job belongs to, or None when it matches no lead (not a referral's job).
    """
    found = find_lead(repo, job, attribution_rules(repo.program()))
    if found is None:
        return lead_from_code(repo, job)
    lead_id, linked_by = found
    at = iso()
    repo.link(lead_id, job["job_id"], linked_by=linked_by, at=at)
    repo.mark_job_linked(job["job_id"], lead_id, linked_by=linked_by)
    advance_with_job(repo, referrals, lead_id, job)
    return lead_id


def job_lead_id(job_id: str) -> str:
    """The id of the lead a job's share code makes: the same for every replay of the job's changes."""
    return "J" + hashlib.sha256(job_id.encode()).hexdigest()[:25].upper()


def lead_from_code(repo: AttributionRepository, job: Item) -> str | None:
    """A job that matches no lead but carries a share code entered in the job system (``referral_code``:
    metadata, a custom field, a promotion code) gets a lead of its own, credited to the code's referrer
    when the code is live and its referrer active; None otherwise (an ordinary job).

    The lead (``source``/``ref_via`` ``job_system``, no name or contact details: only the job's contact
    hashes) is written with its job link; its stream INSERT then runs through lead checks and
    :func:`attribute_lead` like a captured lead, whose ``_apply`` moves it along with the linked job.
    """
    code = normalise_code(str(job.get("referral_code") or ""))
    if not CODE_PATTERN.match(code):
        return None
    at = str(job.get("created_at") or iso())
    item = repo.share_code(code)
    if item is None or not is_live(item, at) or not referrer_active(item):
        return None
    lead_id = job_lead_id(job["job_id"])
    contacts = {kind: str(job[kind]) for kind in ("email_hash", "phone_hash") if job.get(kind)}
    lead: Item = {"lead_id": lead_id, "job_id": job["job_id"], "source": JOB_SYSTEM, "status": "received",
                  "created_at": at, "ref": code, "ref_via": JOB_SYSTEM, "ref_status": "attributed",
                  "code": code, "referrer_id": item["referrer_id"], **contacts}
    if job.get("postcode"):
        lead["postcode"] = job["postcode"]
    repo.create_job_lead(lead, contacts, linked_by="referral_code", at=iso())
    repo.mark_job_linked(job["job_id"], lead_id, linked_by="referral_code")
    return lead_id


def advance_with_job(repo: AttributionRepository, referrals: ReferralRepository, lead_id: str,
                     job: Item) -> None:
    """Set the referral's job (the first linked job keeps it) and advance its stage to match the job."""
    stage = stage_for_job(job.get("statuses", []))
    if not repo.set_referral_job(lead_id, job["job_id"], at=iso()) or stage is None:
        return
    referrals.advance_stage(lead_id, stage)
