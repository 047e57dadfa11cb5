"""Privacy requests: export everything about a person, or erase it.

A person is found through their peppered contact hashes (``CONTACT#{hash}`` lists their leads, jobs and
referrer profiles; a referrer is also found by ``REFEMAIL#{hash}``; ``APPCONTACT#{hash}`` lists the
applications they made, or consented to as a parent or guardian). Erasure overwrites raw contact fields
with ``[erased]``, removes hashes and lookup items, and scrubs the raw values out of free text, but keeps
ledger entries, balances and audit entries: the money trail stays whole and nobody can be found from it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from referral_core.clock import iso
from referral_core.contacts import clean_email, clean_phone
from referral_core.dal import keys
from referral_core.dal.applications import email_guard_key
from referral_core.dal.contacts import contact_pk, owner_partition
from referral_core.dal.dynamo import Item
from referral_core.dal.jobs import job_pk
from referral_core.dal.privacy import ItemChange, PrivacyRepository
from referral_core.errors import InvalidInput
from referral_core.hashing import email_hash, email_match_hash, peppered_hash
from referral_core.ids import new_id
from referral_core.models.review import ErasureSummary, PersonExport
from referral_core.services.review import view

ERASED = "[erased]"
#: Attributes that hold a person's raw details on leads, referrals, jobs and referrer profiles.
PII_FIELDS = frozenset({"name", "email", "phone", "postcode", "issue", "referred_by", "masked_name",
                        "address", "suburb", "friend_name", "friend_email", "friend_phone",
                        "date_of_birth", "how_known", "guardian_email", "guardian_name"})
#: What a guardian's export shows of an application they were asked to consent to (the minor's own
#: details are the minor's, not the guardian's).
GUARDIAN_FIELDS = ("application_id", "status", "created_at", "guardian_email", "guardian_consent")
#: Kept as they are: the money trail and the record of who did what.
KEEP_TYPES = frozenset({"audit", "ledger", "balance"})
_GSI_KEYS = (("gsi1pk", "gsi1sk"), ("gsi2pk", "gsi2sk"))
_SECTIONS = (("leads", "LEAD#"), ("jobs", "JOB#"), ("referrers", "REFERRER#"), ("applications", "APPLICATION#"))
MIN_NAME_CHARS = 3  # shorter names are not scrubbed from free text (too many false matches)


@dataclass(frozen=True)
class Person:
    """Who the request is about: hashes to find them, raw values to recognise them in free text."""

    hashes: frozenset[str]
    email_hash: str | None
    raw: frozenset[str]
    #: Look-alike hashes: never used to find anyone (a look-alike is someone else), only to delete the
    #: person's own look-alike index entries (jobs keep no look-alike hash on the item).
    look_alike_hashes: frozenset[str] = frozenset()


@dataclass
class Footprint:
    """Every partition that holds data about the person, keyed by pk; ``guarded``: the applications the
    person was named in as a parent or guardian (only their own part of those is theirs)."""

    partitions: dict[str, list[Item]] = field(default_factory=dict)
    guarded: dict[str, list[Item]] = field(default_factory=dict)

    def of(self, prefix: str) -> dict[str, list[Item]]:
        return {pk: items for pk, items in self.partitions.items() if pk.startswith(prefix)}


def person(*, email: str | None, phone: str | None, pepper: str, phone_region: str) -> Person:
    if not email and not phone:
        raise InvalidInput("give an email or a phone number", fields={"email": "email or phone required"})
    hashes, raw = set(), set()
    the_email_hash = None
    if email:
        cleaned = clean_email(email)
        the_email_hash = email_hash(pepper, cleaned)
        hashes.add(the_email_hash)
        raw |= {email, cleaned}
    if phone:
        e164 = clean_phone(phone, phone_region)
        hashes.add(peppered_hash(pepper, "phone", e164))
        raw |= {phone, e164}
    return Person(hashes=frozenset(hashes), email_hash=the_email_hash, raw=frozenset(raw),
                  look_alike_hashes=frozenset({email_match_hash(pepper, cleaned)} if email else ()))


def find(repo: PrivacyRepository, who: Person) -> Footprint:
    """The person's lead, job, referrer and application partitions (jobs also through their leads'
    referrals), and the applications they are the guardian in (all by Query)."""
    entity_pks: set[str] = set()
    guarded_pks: set[str] = set()
    for value_hash in who.hashes:
        entity_pks |= {pk for pk in map(owner_partition, repo.contacts(value_hash)) if pk}
        for entry in repo.application_contacts(value_hash):
            (guarded_pks if entry.get("role") == "guardian" else entity_pks).add(str(entry["sk"]))
    if who.email_hash:
        entity_pks |= {keys.referrer_pk(r["referrer_id"]) for r in repo.referrers_by_email(who.email_hash)}
    footprint = Footprint({pk: repo.partition(pk) for pk in sorted(entity_pks)},
                          {pk: repo.partition(pk) for pk in sorted(guarded_pks - entity_pks)})
    for items in list(footprint.of("LEAD#").values()):
        for item in items:
            job = job_pk(item["job_id"]) if item.get("job_id") else None
            if job and job not in footprint.partitions:
                footprint.partitions[job] = repo.partition(job)
    return footprint


def export_person(repo: PrivacyRepository, who: Person, *, actor: str) -> PersonExport:
    """Everything stored about the person, as JSON (the export itself is audited, without the PII)."""
    footprint = find(repo, who)
    request_id = new_id()
    sections = {name: [{"id": pk.partition("#")[2], "items": [view(i) for i in items]}
                       for pk, items in footprint.of(prefix).items()]
                for name, prefix in _SECTIONS}
    sections["guardian_of"] = [
        {"id": pk.partition("#")[2],
         "items": [{k: i[k] for k in GUARDIAN_FIELDS if i.get(k) is not None}
                   for i in items if i.get("type") == "application"]}
        for pk, items in footprint.guarded.items()]
    repo.record(f"PRIVACY#{request_id}", actor=actor, action="person.exported", at=iso(),
                detail={name: len(entries) for name, entries in sections.items()})
    return PersonExport.model_validate({"request_id": request_id, **sections})


def erase_person(repo: PrivacyRepository, who: Person, *, note: str, actor: str) -> ErasureSummary:
    """Anonymise the person everywhere, delete their lookup items, keep ledger totals and audit."""
    footprint = find(repo, who)
    request_id, at = new_id(), iso()
    items = [i for partition in footprint.partitions.values() for i in partition]
    hashes = set(who.hashes) | who.look_alike_hashes | {
        str(v) for i in items for k, v in i.items() if _is_hash_field(k) and v}
    raw = set(who.raw) | {str(i[k]) for i in items if i.get("type") in {"lead", "referrer", "application"}
                          for k in ("email", "phone", "name") if i.get(k) and i[k] != ERASED}
    scrubber = _Scrubber(hashes=hashes, raw={r for r in raw if len(r) >= MIN_NAME_CHARS})
    detail = {"request_id": request_id, "note": note}
    for profile in (i for i in items if i.get("type") == "referrer"):
        repo.mark_referrer_erased(profile, actor=actor, at=at, detail=detail)  # codes stop attributing first
    changed = 0
    for pk, partition in footprint.partitions.items():
        changes = [c for c in (scrubber.change(i) for i in partition) if c is not None]
        if changes:
            repo.apply(pk, changes, actor=actor, action="person.erased", at=at, detail=detail)
            changed += len(changes)
    for pk, partition in footprint.guarded.items():
        changes = [c for c in (_guardian_change(i) for i in partition) if c is not None]
        if changes:
            repo.apply(pk, changes, actor=actor, action="person.erased", at=at, detail=detail)
            changed += len(changes)
    lookups = _lookup_keys(repo, footprint, hashes)
    repo.delete(f"PRIVACY#{request_id}", lookups, actor=actor, action="person.lookups_deleted", at=at,
                detail=detail)
    summary = {"leads": len(footprint.of("LEAD#")), "jobs": len(footprint.of("JOB#")),
               "referrers": len(footprint.of("REFERRER#")), "applications": len(footprint.of("APPLICATION#")),
               "guardian_of": len(footprint.guarded), "items_changed": changed,
               "lookups_deleted": len(lookups)}
    repo.record(f"PRIVACY#{request_id}", actor=actor, action="person.erasure_completed", at=at,
                detail={**detail, **summary})
    return ErasureSummary(request_id=request_id, **summary)


def _is_hash_field(name: str) -> bool:
    return name.endswith("_hash") or name == "hashes"


def _lookup_keys(repo: PrivacyRepository, footprint: Footprint,
                 hashes: Iterable[str]) -> list[tuple[str, str]]:
    """Contact entries pointing at the person's entities (and at the applications they are the guardian
    in), their referrer email guards and their applications' email guards."""
    entity_sks = set(footprint.partitions)  # LEAD#x / JOB#x / REFERRER#x are also the contact sks
    found = [(contact_pk(h), c["sk"]) for h in sorted(hashes) for c in repo.contacts(h)
             if c["sk"] in entity_sks]
    found += [(str(c["pk"]), str(c["sk"])) for h in sorted(hashes) for c in repo.application_contacts(h)
              if c["sk"] in entity_sks or c["sk"] in footprint.guarded]
    guards = [(f"UNIQUE#REFEMAIL#{i['email_hash']}", "UNIQUE") for items in footprint.of("REFERRER#").values()
              for i in items if i.get("type") == "referrer" and i.get("email_hash")]
    guards += [email_guard_key(str(i["email_hash"])) for items in footprint.of("APPLICATION#").values()
               for i in items if i.get("type") == "application" and i.get("email_hash")]
    return found + guards


def _guardian_change(item: Item) -> ItemChange | None:
    """A guardian's part of a minor's application: their email and name go, the consent's version, time
    and channel stay (the record that consent was given)."""
    if item.get("type") != "application":
        return None
    sets: dict[str, Any] = {}
    if item.get("guardian_email") not in (None, ERASED):
        sets["guardian_email"] = ERASED
    consent = item.get("guardian_consent")
    if isinstance(consent, dict) and consent.get("guardian_name") not in (None, ERASED):
        sets["guardian_consent"] = {**consent, "guardian_name": ERASED}
    removes = ("guardian_email_hash",) if item.get("guardian_email_hash") else ()
    return ItemChange(pk=item["pk"], sk=item["sk"], sets=sets, removes=removes) if sets or removes else None


@dataclass(frozen=True)
class _Scrubber:
    hashes: set[str]
    raw: set[str]

    def change(self, item: Item) -> ItemChange | None:
        if item.get("type") in KEEP_TYPES:
            return None
        if item.get("type") == "payout_method":  # the encrypted details go; withdrawals keep their own copy
            return ItemChange(pk=item["pk"], sk=item["sk"], removes=("envelope",),
                              sets={"masked": {"type": (item.get("masked") or {}).get("type"), "display": ERASED}})
        sets: dict[str, Any] = {}
        removes: list[str] = []
        for pk_name, sk_name in _GSI_KEYS:
            if any(h in str(item.get(pk_name, "")) for h in self.hashes):
                removes += [pk_name, sk_name]
        for name, value in item.items():
            if name in {"pk", "sk", "type"} or name in removes or name.startswith("gsi"):
                continue
            if _is_hash_field(name):
                removes.append(name)
            elif name in PII_FIELDS and value not in (None, "", ERASED):
                sets[name] = ERASED
            elif (clean := self.scrub(value)) != value:
                sets[name] = clean
        if item.get("type") == "application":  # out of staff's queue; the decision's audit stays
            sets["status"] = "erased"
            removes += [name for name in ("gsi1pk", "gsi1sk") if name in item and name not in removes]
        if item.get("type") == "referrer":
            sets["status"] = "erased"
            if item.get("gsi2pk") == keys.REFERRER_DIRECTORY_GSI:  # the directory key holds the name
                sets["gsi2sk"] = keys.referrer_directory_sk(ERASED, str(item["referrer_id"]))
        if not sets and not removes:
            return None
        return ItemChange(pk=item["pk"], sk=item["sk"], sets=sets, removes=tuple(removes))

    def scrub(self, value: Any) -> Any:
        if isinstance(value, str):
            if value in self.hashes:
                return ERASED
            for secret in sorted(self.raw, key=len, reverse=True):
                value = re.sub(re.escape(secret), ERASED, value, flags=re.IGNORECASE)
            return value
        if isinstance(value, dict):
            return {k: ERASED if k in PII_FIELDS and v else self.scrub(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.scrub(v) for v in value]
        if isinstance(value, set):
            return {self.scrub(v) for v in value}
        return value
