"""Checks on each new referral lead, run from the table's stream: each finding becomes a flag.

Flags never delete, hide or reject a lead: they put its referral in the staff review queue
(``ReferralRepository.raise_flag``, once per type, so replaying a record changes nothing). Only leads
that could earn a reward are checked (a code, a click, a referrer or a "who referred you?" claim).

Evidence is for staff and never holds raw contact details: contact kinds, ids, codes and day counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from referral_core.clock import epoch, parse_iso
from referral_core.contacts import is_disposable_domain
from referral_core.dal.contacts import Owner, owner
from referral_core.dal.leads import LeadRepository
from referral_core.dal.rates import Window
from referral_core.dal.referrals import ReferralRepository
from referral_core.stages import FlagType, Severity
from referral_core.zones import zone_allows, zone_mode

CONTACT_KINDS = ("email", "phone", "address")
MAX_EVIDENCE_MATCHES = 10


@dataclass(frozen=True, kw_only=True)
class CheckRules:
    duplicate_window_days: int  # an earlier lead this recent is a duplicate; older means existing customer
    velocity_window_hours: int
    max_leads_per_code: int
    max_leads_per_ip: int


@dataclass(frozen=True)
class Finding:
    flag_type: FlagType
    severity: Severity
    evidence: dict[str, Any] = field(default_factory=dict)


def is_referral_candidate(lead: Mapping[str, Any]) -> bool:
    return any(lead.get(name) for name in ("referrer_id", "ref", "cid", "referred_by"))


def claim_matches(claim: str, *, code: str | None, referrer_name: str | None) -> bool:
    """Whether a free-text "who referred you?" names the attributed code or a word of the referrer's name."""
    words = set(claim.casefold().replace(",", " ").split())
    if code and code.casefold() in words:
        return True
    name_words = {word for word in (referrer_name or "").casefold().split() if len(word) > 1}
    return bool(words & name_words)


# -- findings (pure) ----------------------------------------------------------------------------------
def contact_findings(lead: Mapping[str, Any], matches: Mapping[str, Iterable[Mapping[str, Any]]],
                     rules: CheckRules) -> list[Finding]:
    """Duplicate contact, existing customer and self-referral from the ``CONTACT#{hash}`` index.

    Only EARLIER leads count, so the first of two leads is never the duplicate and a replay decides the
    same way. An earlier lead within ``duplicate_window_days`` is a duplicate; an older one, or any job
    under the same contact, makes the customer an existing one; except the job a lead was made from (its
    share code entered in the job system: ``job_id``, services.attribution.lead_from_code).
    """
    own_lead = Owner("lead", lead["lead_id"])
    own_job = Owner("job", lead["job_id"]) if lead.get("job_id") else None
    created = parse_iso(lead["created_at"])
    duplicates: list[dict[str, Any]] = []
    existing: list[dict[str, Any]] = []
    selves: list[dict[str, Any]] = []
    for kind, items in matches.items():
        for item in items:
            whose = owner(item)
            alike = {"look_alike": True} if item.get("look_alike") else {}
            if whose is None or whose == own_job:
                continue
            if whose.kind == "job":
                existing.append({"contact": kind, "job_id": whose.id, **alike})
            elif whose.kind == "referrer" and whose.id == lead.get("referrer_id"):
                selves.append({"contact": kind, "via": "contact_index", **alike})
            elif whose.kind == "lead" and whose != own_lead and item["created_at"] < lead["created_at"]:
                days = (created - parse_iso(item["created_at"])).days
                match = {"contact": kind, "lead_id": whose.id, "days_before": days, **alike}
                (duplicates if days < rules.duplicate_window_days else existing).append(match)
    findings = []
    if duplicates:
        findings.append(Finding(FlagType.DUPLICATE_CONTACT, Severity.MEDIUM, _matches(duplicates)))
    if existing:
        findings.append(Finding(FlagType.EXISTING_CUSTOMER, Severity.MEDIUM, _matches(existing)))
    if selves:
        findings.append(Finding(FlagType.SELF_REFERRAL, Severity.HIGH, _matches(selves)))
    return findings


def hashes_of(item: Mapping[str, Any], kind: str) -> list[str]:
    """An item's distinct hashes of one contact kind: exact (``{kind}_hash``), then look-alike
    (``{kind}_match_hash``; a separate key space: docs/leads.md, "Exact and look-alike keys")."""
    found = [str(item[name]) for name in (f"{kind}_hash", f"{kind}_match_hash") if item.get(name)]
    return list(dict.fromkeys(found))


def self_referral_finding(lead: Mapping[str, Any], referrer: Mapping[str, Any] | None) -> Finding | None:
    """The lead's contact is the attributed referrer's own email or phone, or looks like it."""
    if not referrer:
        return None
    same = [kind for kind in ("email", "phone") if set(hashes_of(lead, kind)) & set(hashes_of(referrer, kind))]
    if not same:
        return None
    return Finding(FlagType.SELF_REFERRAL, Severity.HIGH, _matches([
        {"contact": kind, "via": "referrer_profile",
         **({} if lead.get(f"{kind}_hash") == referrer.get(f"{kind}_hash") else {"look_alike": True})}
        for kind in same]))


def disposable_email_finding(lead: Mapping[str, Any]) -> Finding | None:
    """The lead's email is at a disposable-mail provider: low severity, for staff to see; never blocks."""
    domain = str(lead.get("email") or "").rpartition("@")[2]
    if not domain or not is_disposable_domain(domain):
        return None
    return Finding(FlagType.DISPOSABLE_EMAIL, Severity.LOW, {"contact": "email", "domain": domain.casefold()})


def zone_finding(lead: Mapping[str, Any], code_item: Mapping[str, Any] | None) -> Finding | None:
    """The lead's postcode is outside its code's zones. ``zone_mode`` in the evidence tells staff whether
    that only raised this flag or (``lock``) also made the attribution not eligible (``zone_locked``)."""
    if not lead.get("code") or not code_item or zone_allows(code_item, str(lead.get("postcode", ""))):
        return None
    return Finding(FlagType.ZONE_MISMATCH, Severity.LOW,
                   {"code": lead["code"], "postcode": lead.get("postcode"),
                    "zones": list(code_item.get("zones") or ()), "zone_mode": zone_mode(code_item)})


def source_finding(lead: Mapping[str, Any], click: Mapping[str, Any] | None,
                   referrer: Mapping[str, Any] | None) -> Finding | None:
    """Unclear source: the code, the click and the "who referred you?" claim disagree or are unusable."""
    reasons: list[str] = []
    if lead.get("ref") and lead.get("ref_status") in ("inactive", "used_up"):
        reasons.append(f"code_{lead['ref_status']}")
    if lead.get("cid"):
        if click is None:
            reasons.append("click_not_found")
        elif click.get("code") != lead.get("ref"):
            reasons.append("click_code_differs")
    claim = lead.get("referred_by")
    if claim:
        if not lead.get("referrer_id"):
            reasons.append("claim_without_code")
        elif not claim_matches(str(claim), code=lead.get("code"),
                               referrer_name=(referrer or {}).get("name")):
            reasons.append("claim_differs_from_code")
    if not reasons:
        return None
    conflicting = {"click_code_differs", "claim_differs_from_code"} & set(reasons)
    return Finding(FlagType.UNCLEAR_SOURCE, Severity.MEDIUM if conflicting else Severity.LOW,
                   {"reasons": reasons, "ref": lead.get("ref"), "click_code": (click or {}).get("code"),
                    "claim_given": bool(claim)})


def _matches(matches: list[dict[str, Any]]) -> dict[str, Any]:
    return {"matches": matches[:MAX_EVIDENCE_MATCHES], "count": len(matches)}


# -- orchestration ------------------------------------------------------------------------------------
def contacts_of(repo: LeadRepository, hashes: list[str]) -> list[dict[str, Any]]:
    """Index entries under any of one contact's hashes, once each; entries found only through the
    look-alike hash (after the exact one) carry ``look_alike: True`` for the evidence."""
    seen: dict[str, dict[str, Any]] = {}
    for position, contact_hash in enumerate(hashes):
        for item in repo.contacts(contact_hash):
            seen.setdefault(str(item["sk"]), {**item, "look_alike": position > 0})
    return list(seen.values())


def velocity_findings(lead: Mapping[str, Any], repo: LeadRepository, rules: CheckRules) -> list[Finding]:
    """More than the allowed leads per code or per IP hash in one fixed window.

    Each window is a set of lead ids (ADD), so a replayed record is not counted twice.
    """
    seconds = rules.velocity_window_hours * 3600
    index = epoch(parse_iso(lead["created_at"])) // seconds
    scopes = [("code", lead.get("code"), rules.max_leads_per_code),
              ("ip", lead.get("ip_hash"), rules.max_leads_per_ip)]
    over = []
    for scope, key, limit in scopes:
        if not key:
            continue
        window = Window(scope=f"velocity-{scope}", key=str(key), index=index,
                        expires_epoch=(index + 2) * seconds)
        count = repo.add_to_window(window, str(lead["lead_id"]))
        if count > limit:
            over.append({"scope": scope, "leads_in_window": count, "limit": limit,
                         "window_hours": rules.velocity_window_hours})
    return [Finding(FlagType.VELOCITY, Severity.MEDIUM, _matches(over))] if over else []


def find_issues(lead: Mapping[str, Any], repo: LeadRepository, rules: CheckRules) -> list[Finding]:
    """Every finding about one lead (one per flag type)."""
    related = repo.related(code=lead.get("code") or lead.get("ref"), referrer_id=lead.get("referrer_id"),
                           click_id=lead.get("cid"))
    referrer = related.get("referrer")
    matches = {kind: contacts_of(repo, hashes_of(lead, kind)) for kind in CONTACT_KINDS if hashes_of(lead, kind)}
    findings = [
        *contact_findings(lead, matches, rules),
        self_referral_finding(lead, referrer),
        disposable_email_finding(lead),
        zone_finding(lead, related.get("share_code")),
        source_finding(lead, related.get("click"), referrer),
        *velocity_findings(lead, repo, rules),
    ]
    by_type: dict[FlagType, Finding] = {}
    for finding in findings:
        if finding is None:
            continue
        if finding.flag_type in by_type:  # self-referral seen both in the index and on the profile
            earlier = by_type[finding.flag_type]
            merged = [*earlier.evidence["matches"], *finding.evidence["matches"]]
            finding = Finding(finding.flag_type, finding.severity, _matches(merged))
        by_type[finding.flag_type] = finding
    return list(by_type.values())


def check_lead(lead: Mapping[str, Any], repo: LeadRepository, referrals: ReferralRepository,
               rules: CheckRules) -> list[str]:
    """Raise a flag for each finding; returns the flag types newly raised (none on a replay)."""
    if not is_referral_candidate(lead):
        return []
    return [str(finding.flag_type) for finding in find_issues(lead, repo, rules)
            if referrals.raise_flag(str(lead["lead_id"]), finding.flag_type, finding.severity,
                                    finding.evidence)]
