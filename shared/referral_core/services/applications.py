"""Becoming a referrer: people apply (``POST /applications``), confirm their email from a link, a parent or
guardian consents for an applicant under the programme's minimum age, and staff approve, decline or ask for
more information (``/admin/applications``). docs/applications.md has the rules and their reasons.

- A filled honeypot (``website``) gets the same 202 answer as a real application and nothing is stored
  or sent.
- Limits per client IP (peppered hash) and per email (hash), counted before anything is looked up, the
  way lead capture and sign-in count (``dal.rates``).
- The same contact checks as leads, from the same peppered hashes: an applicant whose email or phone is
  already a referrer's or a customer's (a lead or a job in ``CONTACT#{hash}``; exact and look-alike keys)
  is flagged for staff; nothing is refused for it.
- The emailed links carry a random token; only its peppered hash is stored, it expires, and it is used
  once, in the same transaction as the change it makes.
- Approval creates the referrer with the existing service (profile, personal code, balance, email guard)
  in ONE transaction with the application's decision, conditional on the application still being open:
  never twice. The welcome email with their link follows from the stream, as for every new referrer.
  An application never grants a staff or provider role: a referrer is all it can create.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, timedelta
from typing import Any, NoReturn

from referral_core import ids
from referral_core.clock import epoch, iso, now
from referral_core.contacts import clean_email, clean_phone
from referral_core.dal.applications import (
    OPEN_STATUSES,
    QUEUE_GSI,
    AlreadyApplied,
    ApplicationRepository,
    LinkRefused,
    LinkToken,
    referrer_contact_writes,
)
from referral_core.dal.contacts import owned_by
from referral_core.dal.cursors import decode_cursor, encode_cursor
from referral_core.dal.dynamo import ConditionFailed
from referral_core.dal.mail import Email
from referral_core.dal.rates import Window
from referral_core.dal.referrers import ReferrerRepository
from referral_core.errors import Conflict, InvalidInput, NotFound, RateLimited, Unauthorized
from referral_core.hashing import email_hash, email_match_hash, peppered_hash
from referral_core.models.applications import (
    AGE_BANDS,
    ApplicationAccepted,
    ApplicationDecision,
    ApplicationFlag,
    ApplicationProgress,
    ApplicationQueue,
    ApplicationRequest,
    ApplicationView,
    FlagContact,
    FlagType,
    GuardianConsentRequest,
)
from referral_core.models.referrers import CreateReferrerRequest
from referral_core.pages import esc
from referral_core.policy import TERMS_VERSION
from referral_core.services.referrers import create_referrer

Send = Callable[[Email], Any]
LINK_LIFETIME = timedelta(hours=48)
#: An application whose email is not confirmed within this is treated as absent (TTL ``expiration``).
UNVERIFIED_LIFETIME = timedelta(days=7)
INVALID_LINK = "this link is invalid, used or expired"
PAGE = "/become-a-referrer"


@dataclass(frozen=True, kw_only=True)
class ApplyRules:
    """Settings of applying, from the portal's settings and the programme rules."""

    pepper: str
    phone_region: str
    postcode_pattern: re.Pattern[str]
    window_seconds: int
    max_per_ip: int
    max_per_email: int
    minimum_age: int


# -- applying ------------------------------------------------------------------------------------------
def apply(repo: ApplicationRepository, request: ApplicationRequest, rules: ApplyRules, *, source_ip: str,
          origin: str, send: Send, today: date | None = None) -> ApplicationAccepted:
    """Save an application and email its verification link. A filled honeypot answers the same, and
    nothing is stored or sent."""
    if request.website:
        return ApplicationAccepted(application_id=ids.new_id())
    if request.terms_version != TERMS_VERSION:
        raise InvalidInput("the programme terms have changed: please read them again and accept",
                           fields={"terms_version": f"current version is {TERMS_VERSION}"})
    email = clean_email(request.email)
    phone = clean_phone(request.phone, rules.phone_region)
    postcode = re.sub(r"\s+", "", request.postcode).upper()
    if not rules.postcode_pattern.fullmatch(postcode):
        raise InvalidInput("postcode is not valid", fields={"postcode": "not a valid postcode"})
    minor = _is_minor(request, rules.minimum_age, today or now().date())
    hashes = {"email_hash": email_hash(rules.pepper, email),
              "email_match_hash": email_match_hash(rules.pepper, email),
              "phone_hash": peppered_hash(rules.pepper, "phone", phone)}
    guardian = _guardian_email(request.guardian_email, hashes, rules.pepper) if minor else None

    _limit(repo, "apply-ip", peppered_hash(rules.pepper, "ip", source_ip), rules.max_per_ip, rules.window_seconds)
    _limit(repo, "apply-email", hashes["email_hash"], rules.max_per_email, rules.window_seconds)

    moment = now()
    at = iso(moment)
    application_id = ids.new_id()
    application: dict[str, Any] = {
        "expiration": epoch(moment + UNVERIFIED_LIFETIME),
        "application_id": application_id, "status": "pending_verification", "created_at": at,
        "name": request.name, "email": email, "phone": phone, "postcode": postcode, "how_known": request.how_known,
        "referrer_type": request.referrer_type,
        "date_of_birth": request.date_of_birth.isoformat() if request.date_of_birth else None,
        "age_band": None if request.date_of_birth else request.age_band,
        "minor": minor, "minimum_age": rules.minimum_age, "guardian_email": guardian,
        "guardian_email_hash": email_hash(rules.pepper, guardian) if guardian else None,
        "terms": {"version": request.terms_version, "accepted_at": at, "channel": "web"},
        "flags": [flag.model_dump(mode="json") for flag in _flags(repo, hashes)],
        "ip_hash": peppered_hash(rules.pepper, "ip", source_ip), **hashes,
    }
    token = secrets.token_urlsafe(32)
    try:
        repo.create(application, _link_token(rules.pepper, token, "verify", application_id, at),
                    _privacy_contacts(hashes, guardian, rules.pepper), now_epoch=epoch(moment))
    except AlreadyApplied:
        _already_applied(repo, hashes["email_hash"], email, rules.pepper, origin, send)
    send(verification_email(request.name, email, _link(origin, application_id, "verify", token)))
    return ApplicationAccepted(application_id=application_id)


def _already_applied(repo: ApplicationRepository, hashed: str, email: str, pepper: str, origin: str,
                     send: Send) -> NoReturn:
    """409 for a second application. One whose email was never confirmed gets its verification link
    again, to the address it names (a lost or expired email is not a dead end; the per-email limit holds)."""
    existing = repo.by_email_hash(hashed, now_epoch=epoch())
    if existing is None or existing.get("status") != "pending_verification":
        raise Conflict("an application with this email already exists", fields={"email": "already applied"})
    token = secrets.token_urlsafe(32)
    application_id = str(existing["application_id"])
    link = _link_token(pepper, token, "verify", application_id, iso())
    # never outliving the unverified application it confirms
    link = replace(link, expires_epoch=min(link.expires_epoch, int(existing.get("expiration") or link.expires_epoch)))
    repo.save_token(link)
    send(verification_email(str(existing.get("name") or ""), email, _link(origin, application_id, "verify", token)))
    raise Conflict("you have already applied with this email: we've emailed the confirmation link again",
                   fields={"email": "already applied"})


def _privacy_contacts(hashes: Mapping[str, str], guardian: str | None, pepper: str) -> dict[str, str]:
    """The hashes a privacy request finds the application by (exact ones only: a look-alike is someone
    else), each with the person's role in it."""
    contacts = {hashes["email_hash"]: "applicant", hashes["phone_hash"]: "applicant"}
    if guardian:
        contacts[email_hash(pepper, guardian)] = "guardian"
    return contacts


def _limit(repo: ApplicationRepository, scope: str, key: str, maximum: int, window_seconds: int) -> None:
    window = Window.current(scope, key, window_seconds)
    if repo.count_hit(window) > maximum:
        raise RateLimited("too many applications, please try again later",
                          retry_after=max(1, window.expires_epoch - epoch()))


def age_on(born: date, today: date) -> int:
    return today.year - born.year - ((today.month, today.day) < (born.month, born.day))


def _is_minor(request: ApplicationRequest, minimum_age: int, today: date) -> bool:
    """Under the minimum age for unassisted sign-up. An age band that straddles the minimum counts as
    under it (a guardian is asked): only a band wholly at or above it does not."""
    if request.date_of_birth is not None:
        if request.date_of_birth >= today or age_on(request.date_of_birth, today) > 120:
            raise InvalidInput("date_of_birth is not a plausible date of birth",
                               fields={"date_of_birth": "not a plausible date of birth"})
        return age_on(request.date_of_birth, today) < minimum_age
    if request.age_band is None:
        need = "give your date of birth or an age band"
        raise InvalidInput(need, fields={"date_of_birth": need, "age_band": need})
    youngest, _ = AGE_BANDS[request.age_band]
    return youngest < minimum_age


def _guardian_email(value: str | None, applicant: Mapping[str, str], pepper: str) -> str:
    if not value:
        raise InvalidInput("applicants under the minimum age need a parent or guardian's email",
                           fields={"guardian_email": "required: you are under the programme's minimum age"})
    guardian = clean_email(value, "guardian_email")
    if (email_hash(pepper, guardian) == applicant["email_hash"]
            or email_match_hash(pepper, guardian) == applicant["email_match_hash"]):
        raise InvalidInput("the guardian's email must be their own, not the applicant's",
                           fields={"guardian_email": "must be a parent or guardian's own address, not yours"})
    return guardian


def _flags(repo: ApplicationRepository, hashes: Mapping[str, str]) -> list[ApplicationFlag]:
    """What staff should know before deciding: the applicant's contact is already a referrer's (the
    profile by email hash, or a ``CONTACT#``/``REFERRER#`` entry), a customer's (``LEAD#``/``JOB#``
    entries), exactly or by the look-alike key (docs/leads.md)."""
    found: dict[tuple[str, str], ApplicationFlag] = {}

    def add(kind: FlagType, contact: FlagContact, look_alike: bool, matches: int) -> None:
        before = found.get((kind, contact))
        if before is None or (before.look_alike and not look_alike):
            found[(kind, contact)] = ApplicationFlag(type=kind, contact=contact, look_alike=look_alike,
                                                     matches=matches)

    if repo.referrer_by_email_hash(hashes["email_hash"]) is not None:
        add("existing_referrer", "email", False, 1)
    for name, value in hashes.items():
        contact: FlagContact = "phone" if name.startswith("phone") else "email"
        look_alike = name.endswith("_match_hash")
        items = repo.contacts(value)
        referrers = [i for i in items if owned_by(i, "referrer")]
        customers = [i for i in items if owned_by(i, "lead") or owned_by(i, "job")]
        if referrers:
            add("existing_referrer", contact, look_alike, len(referrers))
        if customers:
            add("existing_customer", contact, look_alike, len(customers))
    return sorted(found.values(), key=lambda f: (f.type, f.contact))


def _token_hash(pepper: str, token: str) -> str:
    return peppered_hash(pepper, "application-token", token)


def _link_token(pepper: str, token: str, kind: str, application_id: str, at: str) -> LinkToken:
    return LinkToken(token_hash=_token_hash(pepper, token), kind=kind, application_id=application_id,
                     created_at=at, expires_epoch=epoch(now() + LINK_LIFETIME))


def _link(origin: str, application_id: str, kind: str, token: str) -> str:
    # In the fragment: browsers never send it, so the token stays out of server logs and Referer headers.
    return f"{origin.rstrip('/')}{PAGE}#{kind}={token}&application={application_id}"


# -- the emailed links -----------------------------------------------------------------------------------
def _application(repo: ApplicationRepository, application_id: str) -> dict[str, Any]:
    found = repo.get(application_id, now_epoch=epoch())
    if found is None:
        raise NotFound("no such application", fields={"application_id": "not found"})
    return found


def progress(application: Mapping[str, Any]) -> ApplicationProgress:
    minor = bool(application.get("minor"))
    consented = bool(application.get("guardian_consent"))
    verified = application.get("status") != "pending_verification"
    if not verified:
        message = "Open the link we emailed you to confirm your address."
    elif minor and not consented:
        message = ("Email confirmed. We've emailed your parent or guardian: once they consent, our team "
                   "reviews your application.")
    else:
        message = "Thank you: our team reviews your application and emails you their decision."
    return ApplicationProgress(application_id=str(application["application_id"]),
                               status=application["status"], email_verified=verified,
                               needs_guardian_consent=minor, guardian_consented=consented, message=message)


def verify_email(repo: ApplicationRepository, application_id: str, token: str, *, pepper: str, origin: str,
                 send: Send) -> ApplicationProgress:
    """Use the emailed verification token: the application goes to staff's queue. For a minor the
    guardian is emailed their consent link now (never before the applicant proved their address, so a
    form cannot be used to email strangers). Unknown, used or expired: 401."""
    application = _application(repo, application_id)
    at = iso()
    guardian_token = secrets.token_urlsafe(32) if application.get("minor") else None
    try:
        repo.verify(application_id, _token_hash(pepper, token), at=at, now_epoch=epoch(),
                    guardian_token=_link_token(pepper, guardian_token, "guardian", application_id, at)
                    if guardian_token else None, email_hash=str(application["email_hash"]),
                    contact_hashes=[str(application[name]) for name in ("email_hash", "phone_hash",
                                                                        "guardian_email_hash")
                                    if application.get(name)])
    except LinkRefused:
        raise Unauthorized(INVALID_LINK) from None
    if guardian_token:
        send(guardian_email(application, _link(origin, application_id, "guardian", guardian_token)))
    return progress({**application, "status": "verified", "verified_at": at})


def guardian_consent(repo: ApplicationRepository, application_id: str, request: GuardianConsentRequest, *,
                     pepper: str) -> ApplicationProgress:
    """Record a parent or guardian's consent (with the terms version and time), once."""
    if request.terms_version != TERMS_VERSION:
        raise InvalidInput("the programme terms have changed: please read them again",
                           fields={"terms_version": f"current version is {TERMS_VERSION}"})
    application = _application(repo, application_id)
    consent = {"guardian_name": request.guardian_name, "terms_version": request.terms_version,
               "given_at": iso(), "channel": "web"}
    try:
        repo.record_guardian_consent(application_id, _token_hash(pepper, request.token), consent,
                                     at=consent["given_at"], now_epoch=epoch())
    except LinkRefused:
        raise Unauthorized(INVALID_LINK) from None
    return progress({**application, "guardian_consent": consent})


# -- staff ---------------------------------------------------------------------------------------------
def view(item: Mapping[str, Any]) -> ApplicationView:
    """An application as staff see it (attributes it does not have are left out)."""
    fields = ("application_id", "status", "name", "email", "phone", "postcode", "how_known", "referrer_type",
              "date_of_birth", "age_band", "guardian_consent", "terms", "flags", "created_at", "verified_at",
              "info_requested_at", "referrer_id")
    data = {name: item[name] for name in fields if item.get(name) is not None}
    minor = bool(item.get("minor"))
    return ApplicationView.model_validate({**data, "minor": minor,
                                           "waiting_for_guardian": minor and not item.get("guardian_consent")})


def queue(repo: ApplicationRepository, *, cursor: str | None, limit: int) -> ApplicationQueue:
    """Verified applications still to decide, oldest first, with their flags."""
    items, last = repo.queue(limit=limit, start_key=decode_cursor(cursor, index="gsi1", partition=QUEUE_GSI))
    return ApplicationQueue(items=[view(i) for i in items], next_cursor=encode_cursor(last))


def _open(repo: ApplicationRepository, application_id: str) -> dict[str, Any]:
    application = _application(repo, application_id)
    if application.get("status") not in OPEN_STATUSES:
        status = str(application.get("status"))
        raise Conflict(f"this application is {status.replace('_', ' ')}: it cannot be decided now",
                       fields={"status": status})
    return application


def _decided_meanwhile() -> Conflict:
    return Conflict("the application was decided meanwhile: reload it", fields={"status": "changed"})


def approve(repo: ApplicationRepository, referrers: ReferrerRepository, application_id: str, *, note: str | None,
            pepper: str, origin: str, phone_region: str, actor: str) -> ApplicationDecision:
    """Create the referrer (their type, first share code, balance; the welcome email with their link
    follows from the stream) and mark the application approved, in one transaction, only while it is
    open and, for a minor, consented to. Only a referrer is created: no staff or provider role."""
    application = _open(repo, application_id)
    if application.get("minor") and not application.get("guardian_consent"):
        raise Conflict("waiting for a parent or guardian's consent", fields={"guardian_consent": "not given yet"})
    at = iso()

    def also(referrer_id: str, code: str) -> list[Any]:
        hashes = {name: str(application[name]) for name in ("email_hash", "email_match_hash", "phone_hash")
                  if application.get(name)}
        return [*repo.decision_writes(application_id, "approved", actor=actor, at=at,
                                      sets={"referrer_id": referrer_id}, leaves_queue=True,
                                      audit={"referrer_id": referrer_id, "code": code, "note": note},
                                      needs_guardian=True),
                *referrer_contact_writes(referrer_id, hashes, at)]

    request = CreateReferrerRequest.model_validate({"name": application["name"], "email": application["email"],
                                                    "phone": application.get("phone")})
    try:
        created = create_referrer(referrers, request, pepper=pepper, origin=origin, phone_region=phone_region,
                                  actor=actor, referrer_type=str(application["referrer_type"]), also=also)
    except ConditionFailed:
        raise _decided_meanwhile() from None
    return ApplicationDecision(application_id=application_id, status="approved", decided_at=at, decided_by=actor,
                               referrer_id=created.referrer_id, code=created.code, link=created.link)


def decline(repo: ApplicationRepository, application_id: str, *, reason: str, actor: str,
            send: Send) -> ApplicationDecision:
    """Decline with a reason, emailed to the applicant; the application leaves the queue."""
    application = _open(repo, application_id)
    at = iso()
    try:
        repo.decide(repo.decision_writes(application_id, "declined", actor=actor, at=at,
                                         sets={"decline_reason": reason}, leaves_queue=True,
                                         audit={"reason": reason}, needs_guardian=False))
    except ConditionFailed:
        raise _decided_meanwhile() from None
    send(decision_email(application, "Your referrer application",
                        "Thank you for applying to become a referrer. We're unable to approve your application:",
                        reason))
    return ApplicationDecision(application_id=application_id, status="declined", decided_at=at, decided_by=actor)


def request_info(repo: ApplicationRepository, application_id: str, *, message: str, actor: str,
                 send: Send) -> ApplicationDecision:
    """Ask the applicant for more information (emailed); the application stays in the queue."""
    application = _open(repo, application_id)
    at = iso()
    try:
        repo.decide(repo.decision_writes(application_id, "info_requested", actor=actor, at=at,
                                         sets={"info_requested_at": at, "info_request": message},
                                         leaves_queue=False, audit={"message": message}, needs_guardian=False))
    except ConditionFailed:
        raise _decided_meanwhile() from None
    send(decision_email(application, "About your referrer application",
                        "Thank you for applying to become a referrer. Before we decide, we need a little more "
                        "information. Please reply to this email:", message))
    return ApplicationDecision(application_id=application_id, status="info_requested", decided_at=at,
                               decided_by=actor)


# -- emails ----------------------------------------------------------------------------------------------
def _first_name(name: object) -> str:
    return (str(name or "").split() or ["there"])[0]


def verification_email(name: str, to: str, url: str) -> Email:
    hours = int(LINK_LIFETIME.total_seconds() // 3600)
    first = _first_name(name)
    text = (f"Hi {first},\n\nThanks for applying to become a referrer. Confirm your email address with this "
            f"link (it works once, for {hours} hours):\n\n{url}\n\nIf you didn't apply, ignore this email: "
            "nothing happens without the link.\n")
    html_body = (f"<p>Hi {esc(first)},</p><p>Thanks for applying to become a referrer. Confirm your email "
                 f"address with this link (it works once, for {hours} hours):</p>"
                 f"<p><a href=\"{esc(url)}\">Confirm my email address</a></p>"
                 "<p>If you didn't apply, ignore this email: nothing happens without the link.</p>")
    return Email(to=to, subject="Confirm your referrer application", text=text, html=html_body)


def guardian_email(application: Mapping[str, Any], url: str) -> Email:
    hours = int(LINK_LIFETIME.total_seconds() // 3600)
    who = str(application.get("name") or "Someone")
    text = (f"Hello,\n\n{who} has applied to become a referrer with us and gave your address as their parent "
            "or guardian. Because they are under our programme's minimum age, we need your consent before "
            f"their application can be approved or any reward earned.\n\nRead the programme terms and give "
            f"or withhold consent here (the link works once, for {hours} hours):\n\n{url}\n\n"
            "If you don't know this person, ignore this email: nothing is approved without consent.\n")
    html_body = (f"<p>Hello,</p><p>{esc(who)} has applied to become a referrer with us and gave your address as "
                 "their parent or guardian. Because they are under our programme's minimum age, we need your "
                 "consent before their application can be approved or any reward earned.</p>"
                 f"<p><a href=\"{esc(url)}\">Read the terms and consent</a> (the link works once, for "
                 f"{hours} hours).</p><p>If you don't know this person, ignore this email: nothing is approved "
                 "without consent.</p>")
    return Email(to=str(application["guardian_email"]), subject="Consent for a referrer application",
                 text=text, html=html_body)


def decision_email(application: Mapping[str, Any], subject: str, lead_in: str, body: str) -> Email:
    first = _first_name(application.get("name"))
    text = f"Hi {first},\n\n{lead_in}\n\n{body}\n"
    paragraphs = "".join(f"<p>{esc(line)}</p>" for line in body.splitlines() if line.strip())
    html_body = f"<p>Hi {esc(first)},</p><p>{esc(lead_in)}</p>{paragraphs}"
    return Email(to=str(application["email"]), subject=subject, text=text, html=html_body)
