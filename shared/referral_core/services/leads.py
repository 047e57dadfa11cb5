"""Capturing leads: Quick Help (``POST /leads``) and refer-a-job (``POST /me/referrals``).

At most three DynamoDB calls per lead (bench/RESULTS.md): the per-IP rate counter (UpdateItem), the share
code (GetItem, only with ``ref``, or without one when "who referred you?" is shaped like a code), and one
TransactWriteItems holding the lead, its contact index items, the code's use (when it has ``max_uses``) and
the code's rate counter. Checks against other records
(duplicates, self-referral, velocity...) run later from the stream (``services.lead_checks``); the
``referral`` item is written there too, never here.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from referral_core import ids
from referral_core.clock import epoch, iso
from referral_core.config import LeadCaptureSettings
from referral_core.contacts import clean_email, clean_phone, match_key
from referral_core.dal.leads import CodeRateExceeded, CodeUsedUp, ContactRef, LeadRepository, LookAlikeBackfill
from referral_core.dal.rates import Window
from referral_core.errors import Forbidden, InvalidInput, RateLimited
from referral_core.hashing import LOOK_ALIKE, email_hash, email_match_hash, peppered_hash
from referral_core.ids import normalise_code
from referral_core.models.leads import LeadCreated, LeadRequest, ReferAJobRequest
from referral_core.policy import POLICY_VERSION
from referral_core.services.redirect import CODE_PATTERN, is_live, referrer_active
from referral_core.visibility import may_match_typed
from referral_core.zones import zone_locked_out

Source = Literal["quick_help", "refer_a_job"]
Channel = Literal["form", "api", "portal"]  # how consent was given: the Quick Help form, JSON, the portal
CONSENT_PURPOSE = "contact_about_this_request"


@dataclass(frozen=True, kw_only=True)
class CaptureRules:
    """Settings of a capture, from the function's settings."""

    pepper: str
    phone_region: str
    postcode_pattern: re.Pattern[str]
    rate_window_seconds: int
    max_leads_per_ip: int
    max_leads_per_code: int

    @classmethod
    def of(cls, settings: LeadCaptureSettings, *, pepper: str) -> CaptureRules:
        """The rules from a function's settings (lead capture and the portal's refer-a-job)."""
        return cls(pepper=pepper, phone_region=settings.default_phone_region,
                   postcode_pattern=re.compile(settings.postcode_pattern),
                   rate_window_seconds=settings.rate_window_seconds, max_leads_per_ip=settings.max_leads_per_ip,
                   max_leads_per_code=settings.max_leads_per_code)


@dataclass(frozen=True, kw_only=True)
class Requester:
    """Where a request came from: only the hash of the IP is ever stored."""

    source_ip: str
    channel: Channel


@dataclass(frozen=True, kw_only=True)
class Contact:
    name: str
    email: str | None
    phone: str | None
    postcode: str
    street: str | None
    issue: str
    suburb: str | None = None


def capture_lead(repo: LeadRepository, request: LeadRequest, rules: CaptureRules,
                 requester: Requester) -> LeadCreated:
    """Save a Quick Help request. An unknown, inactive or used-up ``ref`` never fails the request: the
    lead is saved without attribution and ``ref_status`` says why (the checks flag it for staff)."""
    if request.consent.policy_version != POLICY_VERSION:
        raise InvalidInput("the policy has changed: please read it again and agree",
                           fields={"consent.policy_version": f"current version is {POLICY_VERSION}"})
    contact = _clean(rules, name=request.name, email=request.email, phone=request.phone,
                     postcode=request.postcode, street=request.street, issue=request.issue,
                     email_field="email", phone_field="phone", suburb=request.suburb)
    ip_hash = _limit_ip(repo, rules, requester.source_ip)
    at = iso()
    hashes = contact_hashes(rules.pepper, contact)
    lead = _lead_item(contact, hashes, source="quick_help", at=at, ip_hash=ip_hash, consent={
        "purpose": CONSENT_PURPOSE, "policy_version": request.consent.policy_version, "given_at": at,
        "given_by": "customer", "channel": requester.channel,
    })
    lead.update({"cid": request.cid, "referred_by": request.referred_by})
    code_item = (_code_for(repo, request.ref, lead) if request.ref
                 else _typed_code_for(repo, request.referred_by, lead))
    return _save(repo, rules, lead, index_refs(hashes), code_item)


def submit_refer_a_job(referrer: Mapping[str, Any], request: ReferAJobRequest, repo: LeadRepository,
                       rules: CaptureRules, requester: Requester) -> LeadCreated:
    """A signed-in referrer passes on a friend who agreed to be contacted (``POST /me/referrals``).

    The lead is attributed to ``referrer`` directly (source ``refer_a_job``); consent is recorded as
    the friend's agreement as confirmed by the referrer, against the current policy version.
    """
    if referrer.get("status") != "active":
        raise Forbidden("this referrer account is not active")
    contact = _clean(rules, name=request.friend_name, email=request.friend_email,
                     phone=request.friend_phone, postcode=request.postcode, street=request.street,
                     issue=request.issue, email_field="friend_email", phone_field="friend_phone",
                     suburb=request.suburb)
    ip_hash = _limit_ip(repo, rules, requester.source_ip)
    at = iso()
    hashes = contact_hashes(rules.pepper, contact)
    lead = _lead_item(contact, hashes, source="refer_a_job", at=at, ip_hash=ip_hash, consent={
        "purpose": CONSENT_PURPOSE, "policy_version": POLICY_VERSION, "given_at": at,
        "given_by": "referrer_for_friend", "channel": requester.channel,
    })
    lead.update({"referrer_id": referrer["referrer_id"], "ref_status": "attributed"})
    return _save(repo, rules, lead, index_refs(hashes), None)


# -- steps --------------------------------------------------------------------------------------------
def _clean(rules: CaptureRules, *, name: str, email: str | None, phone: str | None, postcode: str,
           street: str | None, issue: str, email_field: str, phone_field: str,
           suburb: str | None = None) -> Contact:
    if not email and not phone:
        need = "give an email address or a phone number"
        raise InvalidInput(need, fields={email_field: need, phone_field: need})
    postcode = re.sub(r"\s+", "", postcode).upper()
    if not rules.postcode_pattern.fullmatch(postcode):
        raise InvalidInput("postcode is not valid", fields={"postcode": "not a valid postcode"})
    return Contact(
        name=name, email=clean_email(email, email_field) if email else None,
        phone=clean_phone(phone, rules.phone_region, phone_field) if phone else None,
        postcode=postcode, street=street, issue=issue, suburb=suburb,
    )


def contact_hashes(pepper: str, contact: Contact) -> dict[str, str]:
    """The lead's hash attributes: exact (``email_hash``, ``phone_hash``, ``address_hash``; attribution
    and identity use these) and look-alike (``email_match_hash``, ``address_match_hash``: TS #39 keys,
    for duplicate/self-referral flags only). A phone in E.164 has no look-alikes: one hash."""
    hashes = {}
    if contact.email:
        hashes["email_hash"] = email_hash(pepper, contact.email)
        hashes["email_match_hash"] = email_match_hash(pepper, contact.email)
    if contact.phone:
        hashes["phone_hash"] = peppered_hash(pepper, "phone", contact.phone)
    if contact.street:
        hashes["address_hash"] = peppered_hash(pepper, "address", f"{contact.postcode}|{_street(contact.street)}")
        hashes["address_match_hash"] = peppered_hash(
            pepper, "address" + LOOK_ALIKE, f"{contact.postcode}|{_street(match_key(contact.street))}")
    return hashes


def contact_refs(pepper: str, contact: Contact) -> list[ContactRef]:
    """The contact index entries of a lead (:func:`index_refs` of :func:`contact_hashes`)."""
    return index_refs(contact_hashes(pepper, contact))


def index_refs(hashes: dict[str, str]) -> list[ContactRef]:
    """One ``CONTACT#{hash}`` entry per hash (exact and look-alike hashes never collide)."""
    return [ContactRef(name.split("_", 1)[0], value) for name, value in hashes.items()]


def look_alike_backfill(item: Mapping[str, Any], pepper: str) -> tuple[dict[str, str], list[ContactRef]]:
    """The look-alike hashes a lead or referrer profile stored before them lacks (from its raw values),
    and the index entries to add (leads only: a profile is compared directly). Empty for items that have
    them, and for erased ones (their exact hashes are gone, and must not come back)."""
    hashes: dict[str, str] = {}
    if item.get("email_hash") and not item.get("email_match_hash") and item.get("email"):
        hashes["email_match_hash"] = email_match_hash(pepper, str(item["email"]))
    if (item.get("type") == "lead" and item.get("address_hash") and not item.get("address_match_hash")
            and item.get("street") and item.get("postcode")):
        street = _street(match_key(str(item["street"])))
        hashes["address_match_hash"] = peppered_hash(pepper, "address" + LOOK_ALIKE, f"{item['postcode']}|{street}")
    refs = index_refs(hashes) if item.get("type") == "lead" else []
    return hashes, refs


def backfill_look_alike_keys(repo: LookAlikeBackfill, items: Iterable[Mapping[str, Any]], *,
                             pepper: str) -> dict[str, int]:
    """Add the look-alike keys to each stored item that lacks them; returns counts (no PII)."""
    counts = {"updated": 0, "skipped": 0}
    for item in items:
        hashes, refs = look_alike_backfill(item, pepper)
        counts["updated" if hashes and repo.add(dict(item), hashes, refs) else "skipped"] += 1
    return counts


def _street(street: str) -> str:
    return " ".join(re.sub(r"[^a-z0-9 ]", " ", street.lower()).split())


def _limit_ip(repo: LeadRepository, rules: CaptureRules, source_ip: str) -> str:
    ip_hash = peppered_hash(rules.pepper, "ip", source_ip)
    window = _window(rules, "lead-ip", ip_hash)
    if repo.count_hit(window) > rules.max_leads_per_ip:
        raise RateLimited("too many requests, please try again later",
                          retry_after=max(1, window.expires_epoch - epoch()))
    return ip_hash


def _window(rules: CaptureRules, scope: str, key: str) -> Window:
    index = epoch() // rules.rate_window_seconds
    return Window(scope=scope, key=key, index=index,
                  expires_epoch=(index + 1) * rules.rate_window_seconds)


def _lead_item(contact: Contact, hashes: dict[str, str], *, source: Source, at: str, ip_hash: str,
               consent: dict[str, Any]) -> dict[str, Any]:
    return {
        "lead_id": ids.new_id(), "source": source, "status": "received", "created_at": at,
        "name": contact.name, "email": contact.email, "phone": contact.phone,
        "postcode": contact.postcode, "suburb": contact.suburb, "street": contact.street,
        "issue": contact.issue, "ip_hash": ip_hash, "consent": consent, **hashes,
    }


def _live_code(repo: LeadRepository, code: str, at: str) -> tuple[dict[str, Any] | None, str]:
    """The one place a share code's eligibility for attribution is decided, for a code carried from a
    link and one typed in "who referred you?" alike: the code item and ``attributed``, or None and why
    not (``unknown``, ``inactive``, ``used_up``, ``referrer_inactive``). The resolver reads the result
    (``ref_status``); a zone lock is marked beside it (``_lock_zone``)."""
    item = repo.get_code(code) if CODE_PATTERN.match(code) else None
    if item is None:
        return None, "unknown"
    if not is_live(item, at):
        return None, "used_up" if _used_up(item) else "inactive"
    if not referrer_active(item):  # suspended or erased referrer: an ordinary lead, credited to nobody
        return None, "referrer_inactive"
    return item, "attributed"


def _lock_zone(code_item: Mapping[str, Any], lead: dict[str, Any]) -> None:
    if zone_locked_out(code_item, lead["postcode"]):
        lead["zone_locked"] = True  # kept and attributed, but attribution makes it not eligible (docs/links.md)


def _code_for(repo: LeadRepository, ref: str | None, lead: dict[str, Any]) -> dict[str, Any] | None:
    """Attribute the lead to a live share code (sets ``code``/``referrer_id``); else record why not."""
    if not ref:
        return None
    code = normalise_code(ref)
    lead["ref"] = code
    item, status = _live_code(repo, code, lead["created_at"])
    lead["ref_status"] = status
    if item is not None:
        lead.update({"code": code, "referrer_id": item["referrer_id"]})
        _lock_zone(item, lead)
    return item


def typed_code(claim: str | None) -> str | None:
    """The share code a "who referred you?" answer is, if it is one: the whole answer, case and
    surrounding whitespace aside (``" 9khnpvh "``), shaped like a code. "Jo, code 9KHNPVH" is not."""
    code = normalise_code(claim) if claim else None
    return code if code and CODE_PATTERN.match(code) else None


def _typed_code_for(repo: LeadRepository, claim: str | None, lead: dict[str, Any]) -> dict[str, Any] | None:
    """A lead without a link's ``ref`` whose "who referred you?" is exactly a live code is attributed to it
    as if the customer had brought it (``ref_via`` ``referred_by``). Anything else stays a claim for
    staff: no ``ref`` is recorded, so an unknown or inactive word raises no code flag. A private code
    works only through its link (``visibility.may_match_typed``, the typed-code rule): typed, it too
    stays a claim."""
    code = typed_code(claim)
    if code is None:
        return None
    item, status = _live_code(repo, code, lead["created_at"])
    if item is None or not may_match_typed(item, lead["created_at"]):
        return None
    lead.update({"ref": code, "ref_via": "referred_by", "ref_status": status, "code": code,
                 "referrer_id": item["referrer_id"]})
    _lock_zone(item, lead)
    return item


def _used_up(code_item: Mapping[str, Any]) -> bool:
    max_uses = code_item.get("max_uses")
    return isinstance(max_uses, int) and int(code_item.get("uses") or 0) >= max_uses


def _save(repo: LeadRepository, rules: CaptureRules, lead: dict[str, Any], refs: list[ContactRef],
          code_item: dict[str, Any] | None) -> LeadCreated:
    window = _window(rules, "lead-code", code_item["code"]) if code_item else None
    uses = code_item if code_item and code_item.get("max_uses") else None
    try:
        repo.create(lead, refs, use_code_of=uses, code_window=window, code_limit=rules.max_leads_per_code)
    except CodeUsedUp:
        # Lost the race for the last use: keep the lead, unattributed (one more transaction); a typed
        # code goes back to being a claim.
        for name in ("code", "referrer_id", *(("ref", "ref_via", "ref_status") if lead.get("ref_via") else ())):
            lead.pop(name)
        lead.pop("zone_locked", None)
        if lead.get("ref"):
            lead["ref_status"] = "used_up"
        repo.create(lead, refs)
    except CodeRateExceeded:
        raise RateLimited("too many requests for this code, please try again later",
                          retry_after=max(1, window.expires_epoch - epoch()) if window else 1) from None
    return LeadCreated(lead_id=lead["lead_id"])


CLICK_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


def carried_params(ref: str | None, cid: str | None) -> tuple[str | None, str | None]:
    """``ref``/``cid`` from the redirect, kept for the form only when they look like a code and a click."""
    code = normalise_code(ref) if ref else None
    return (code if code and CODE_PATTERN.match(code) else None,
            cid if cid and CLICK_ID_PATTERN.match(cid) else None)
