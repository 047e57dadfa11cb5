"""The attribution staff save is the attribution applied (issue 16), as a property.

For a generated programme (saved through ``PUT /admin/program``, or none saved: the defaults) and a
generated sequence of one customer's leads (refer-a-job forms, share codes carried or typed, link clicks
of any age, free-text claims, an earlier job), the resolver running from the stream on moto decides for
every lead what :func:`expected` says. :func:`expected` is a small model written from the rules table of
docs/jobs.md, not from the resolver's code.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from referral_core.clock import iso, now
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, http_event, json_body
from tests.support.jobs import (
    contact_hashes,
    lead_inserted,
    put,
    referral,
    seed_click,
    seed_lead,
)
from tests.support.rewards import empty_table

pytestmark = pytest.mark.integration

EMAIL = "sam.customer@example.com"
REFERRERS = ("RA", "RB", "RC")
SOURCES = ("referral_form", "link", "code", "referred_by")  # the default precedence, docs/jobs.md


@dataclass(frozen=True)
class Touch:
    """One lead of the customer, ``day`` days after the first moment of the story."""

    day: int
    form: str | None = None  # refer-a-job by this referrer (such a lead carries nothing else)
    code: str | None = None  # referrer whose live code the lead carries; "?" for an unknown code
    typed: bool = False  # that code was typed in "who referred you?" rather than carried from a link
    link: tuple[str, int] | None = None  # (referrer or "?" for an unknown click id, click age in days)
    claim: bool = False  # a free-text "who referred you?"


@dataclass(frozen=True)
class Rules:
    model: str
    window_days: int
    precedence: tuple[str, ...]


def code_of(referrer: str) -> str:
    return f"CODE{referrer}"


def link_code_of(referrer: str) -> str:
    return f"LINK{referrer}"


# -- the reference model -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Result:
    outcome: str  # attributed | under_review | not_eligible | none
    referrer_id: str | None = None
    source: str | None = None
    code: str | None = None


def expected(rules: Rules, touches: list[Touch], job_day: int | None) -> list[Result]:
    """docs/jobs.md "Attribution rules", case by case, for each lead in turn."""
    order = [*rules.precedence, *(s for s in SOURCES if s not in rules.precedence)]
    referred: list[tuple[int, Result]] = []  # (day, result) of the customer's attributed referrals
    results = []
    for touch in touches:
        # Sources that attribute by themselves: (source, referrer, code shown on the referral)
        automatic = []
        if touch.form:
            automatic.append(("referral_form", touch.form, None))
        if touch.link and touch.link[0] != "?" and touch.link[1] <= rules.window_days:
            automatic.append(("link", touch.link[0], link_code_of(touch.link[0])))
        if touch.code and touch.code != "?":
            automatic.append(("code", touch.code, code_of(touch.code)))
        automatic.sort(key=lambda s: order.index(s[0]))
        earlier = [(day, r) for day, r in referred if day < touch.day and touch.day - day <= rules.window_days]
        existing_customer = job_day is not None and job_day < touch.day
        if earlier and (rules.model == "first_touch" or not automatic):
            # a returning customer: first touch keeps the first referral; last touch keeps the latest one
            # only when the new lead brings no source of its own
            bound = earlier[0][1] if rules.model == "first_touch" else earlier[-1][1]
            result = Result("not_eligible" if existing_customer else "attributed", bound.referrer_id,
                            bound.source, bound.code)
        elif not automatic:
            result = Result("under_review") if touch.claim else Result("none")
        else:
            source, referrer, _ = automatic[0]
            code = next((c for s, r, c in automatic if r == referrer and s in ("code", "link")), None)
            if existing_customer:
                outcome = "not_eligible"
            elif len({r for _, r, _ in automatic}) > 1:
                outcome = "under_review"
            else:
                outcome = "attributed"
            result = Result(outcome, referrer, source, code)
        if result.outcome == "attributed":
            referred.append((touch.day, result))
        results.append(result)
    return results


# -- generated stories ------------------------------------------------------------------------------
def often(strategy):
    """``strategy`` three times in four, else None."""
    return st.integers(0, 3).flatmap(lambda n: strategy if n else st.none())


referrer = st.sampled_from(REFERRERS)
quick_help = st.builds(
    lambda code, typed, link, claim: (code, typed and code not in (None, "?"), link, claim),
    often(st.sampled_from((*REFERRERS, "?"))), st.booleans(),
    often(st.tuples(st.sampled_from((*REFERRERS, "?")), st.integers(0, 130))), st.booleans())
touch_kind = st.one_of(st.tuples(st.just("form"), referrer), st.tuples(st.just("quick_help"), quick_help),
                       st.tuples(st.just("quick_help"), quick_help))
stories = st.lists(st.tuples(st.integers(1, 60), touch_kind), min_size=1, max_size=5)
programmes = often(st.builds(
    Rules, model=st.sampled_from(("first_touch", "last_touch")), window_days=st.integers(1, 120),
    precedence=st.permutations(SOURCES).flatmap(lambda p: st.integers(1, 4).map(lambda n: tuple(p[:n])))))


def touches_of(story: list[tuple[int, tuple]]) -> list[Touch]:
    day, touches = 0, []
    for gap, (kind, detail) in story:
        day += gap
        if kind == "form":
            touches.append(Touch(day, form=detail))
        else:
            code, typed, link, claim = detail
            touches.append(Touch(day, code=code, typed=typed, link=link, claim=claim and not typed))
    return touches


def save_programme(stack, rules: Rules) -> None:
    """Exactly what staff do: read the programme, change its attribution, PUT it back."""
    current = json_body(stack.invoke("StaffAdminFunction", http_event("GET", "/admin/program",
                                                                        claims=STAFF_CLAIMS)))
    body = {**current["rules"], "expected_version": current["version"],
            "attribution": {"model": rules.model, "window_days": rules.window_days,
                            "precedence": list(rules.precedence)}}
    response = stack.invoke("StaffAdminFunction", http_event("PUT", "/admin/program", body=body,
                                                             claims=ADMIN_CLAIMS))
    assert response["statusCode"] == 200, response["body"]
    assert json.loads(response["body"])["rules"]["attribution"]["precedence"] == list(rules.precedence)


def seed_touch(stack, touch: Touch, start, index: int) -> dict:
    at = start + timedelta(days=touch.day)
    fields: dict = {"created_at": iso(at), "email": EMAIL}
    if touch.form:
        fields |= {"source": "refer_a_job", "referrer_id": touch.form}
    if touch.code == "?":
        fields |= {"ref": "NOPE999"}
    elif touch.code:
        fields |= {"ref": code_of(touch.code), "code_valid": True, "referrer_id": touch.code}
        if touch.typed:
            fields |= {"ref_via": "referred_by", "referred_by": f"  {code_of(touch.code).lower()} "}
    if touch.link:
        cid = f"cid-{index}"
        fields["cid"] = cid
        if touch.link[0] != "?":
            seed_click(stack, cid, link_code_of(touch.link[0]), touch.link[0],
                       iso(at - timedelta(days=touch.link[1])))
    if touch.claim:
        fields["referred_by"] = "my neighbour from Park St"
    return seed_lead(stack, **fields)


@settings(max_examples=50, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rules=programmes, story=stories, job_day=st.none() | st.integers(0, 200))
def test_the_resolver_applies_the_saved_rules(stack, rules, story, job_day):
    empty_table(stack)
    if rules is None:
        applied = Rules("last_touch", 90, SOURCES)  # the one default: GET /admin/program before a save
    else:
        save_programme(stack, rules)
        applied = rules
    touches = touches_of(story)
    start = now() - timedelta(days=400)
    if job_day is not None:
        # the customer's job, half a day after the start of day ``job_day``
        put(stack, {"pk": f"CONTACT#{contact_hashes(EMAIL)['email_hash']}", "sk": "JOB#OLD-1",
                    "type": "contact", "job_id": "OLD-1",
                    "created_at": iso(start + timedelta(days=job_day, hours=12))})

    got = []
    for index, touch in enumerate(touches):
        lead = seed_touch(stack, touch, start, index)
        assert lead_inserted(stack, lead) == {"batchItemFailures": []}
        stored = referral(stack, lead["lead_id"])
        got.append(Result("none") if stored is None else Result(
            stored["attribution"]["outcome"], stored.get("referrer_id"), stored.get("source"),
            stored.get("code")))
        if stored is not None:
            assert stored["attribution"]["model"] == applied.model
            assert stored["attribution"]["window_days"] == applied.window_days
            claims = [e for e in stored["attribution"]["evidence"] if e["source"] == "referred_by"]
            assert all(e["value"] in ("free_text", *map(code_of, REFERRERS)) for e in claims)

    assert got == expected(applied, touches, job_day)
