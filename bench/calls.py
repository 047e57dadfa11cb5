"""DynamoDB calls per request (every route) and per stream record (every consumer), on moto in-process.

Journeys replay what people do (staff create a referrer, a visitor follows the link, a referrer signs in
and refers a friend, staff review the referral and pay a withdrawal, ...): every documented route is a
step of one (tests/unit/test_bench_calls.py holds that). Each request runs on a warm container (the journey
runs once to warm up, then again measured); the table's real stream records that a request produced are
then delivered one by one to each consumer whose FilterCriteria keep them, counting that consumer's calls
per record, and so are the records those consumers write in turn (a staff accept, then the credit it
causes), all counted as the request's. Scheduled functions run as steps where the journey needs them
(the hourly release of rewards before a withdrawal). Calls are counted with botocore ``before-parameter-build``
hooks on the app's client (tests/support/dynamo_calls.py); capacity units are estimated from the
parameters and the items read (on-demand rules: 4 KB per read unit, eventual reads half; 1 KB per write
unit, plus one per GSI the item is in; transactions double).
"""

from __future__ import annotations

import io
import itertools
import json
import re
import statistics
import time
import uuid
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.support import ROOT, Section, table
from local.template import create_table_kwargs
from referral_core.auth import Role, required_role
from tests.support.aws import Stack, moto_stack, template
from tests.support.dynamo_calls import watch
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, http_event, load_event
from tests.support.jobs import configure_webhook_secrets, signed_event
from tests.support.portal import (
    create_session_secret,
    magic_link_event,
    magic_token,
    opt_out_token,
    portal_event,
    preview_event,
    session_event,
)
from tests.support.providers import (
    configure_providers,
    jobber_body,
    jobber_event,
    servicem8_sample,
    square_body,
    square_event,
    xero_body,
    xero_event,
)
from tests.support.stream_pump import StreamPump, batches, consumers
from tests.support.stripe_events import configure_stripe_secrets, stripe_body
from tests.support.stripe_events import signed as stripe_signed

Context = dict[str, Any]  # what a journey keeps between steps; ``ctx["stack"]`` is the moto stack
#: Rounds of consumers' own writes delivered after a request (a staff accept, the credit, its stage change).
CASCADE_ROUNDS = 5


@dataclass(frozen=True)
class Step:
    """One request: ``route`` is the OpenAPI/template operation (``GET /r/{code}``) it exercises, or the
    schedule of a scheduled function. The journey stops if an HTTP answer is not ``expect`` (by default:
    any status below 400), so a step never measures an error path by accident."""

    route: str
    scenario: str
    function_id: str
    event: Callable[[Context], dict[str, Any]]
    keep: Callable[[Context, dict[str, Any]], None] = lambda ctx, response: None
    expect: int | None = None


@dataclass
class RequestResult:
    step: Step
    status: int | str
    calls: str
    count: int
    rru: float
    wru: float
    ms: float
    log_bytes: int


@dataclass
class RecordResult:
    """Calls of one consumer per stream record of one kind (event name and item type)."""

    records: int = 0
    calls: int = 0
    rru: float = 0.0
    wru: float = 0.0
    ops: set[str] = field(default_factory=set)
    ms: float = 0.0
    log_bytes: int = 0


@dataclass
class Measurements:
    requests: list[RequestResult]
    records: dict[tuple[str, str, str], RecordResult]
    produced: dict[str, list[tuple[str, str]]]  # step scenario -> (event name, item type) of its records


def _admin(method: str, path: str, body: Any = None, query: dict[str, str] | None = None) -> dict[str, Any]:
    claims = ADMIN_CLAIMS if required_role(method, path) is Role.ADMIN else STAFF_CLAIMS  # programme rules, erasure
    return http_event(method, path, body=body, query=query, claims=claims)


def _asset(name: str) -> dict[str, Any]:
    event = load_event("staff_page/get_page.json")
    path = f"/admin/assets/{name}"
    return {**event, "routeKey": "GET /admin/assets/{name}", "rawPath": path, "pathParameters": {"name": name},
            "requestContext": {**event["requestContext"], "routeKey": "GET /admin/assets/{name}",
                               "http": {**event["requestContext"]["http"], "path": path}}}


def _redirect(code: str, method: str = "GET", ip: str = "203.0.113.7") -> dict[str, Any]:
    return http_event(method, f"/r/{code}", route="/r/{code}", path_params={"code": code}, source_ip=ip)


def _keep_code(ctx: Context, response: dict[str, Any]) -> None:
    ctx["code"] = json.loads(response["body"])["code"]


def _keep_cid(ctx: Context, response: dict[str, Any]) -> None:
    query = parse_qs(urlsplit(response["headers"]["Location"]).query)
    ctx["cid"] = query["cid"][0]


def _lead(ctx: Context) -> dict[str, Any]:
    event = load_event("capture_lead/post_lead_json.json")
    body = {**json.loads(event["body"]), "ref": ctx["code"], "cid": ctx["cid"],
            "email": f"sam-{uuid.uuid4().hex[:8]}@example.com", "phone": f"0412 {uuid.uuid4().int % 900 + 100} 678"}
    event["body"] = json.dumps(body)
    return event


def _keep(**fields: str) -> Callable[[Context, dict[str, Any]], None]:
    """Keep fields of a JSON answer: ``_keep(version="referral.version")`` (dotted paths, list indexes)."""
    def keep(ctx: Context, response: dict[str, Any]) -> None:
        for name, path in fields.items():
            value: Any = json.loads(response["body"])
            for part in path.split("."):
                value = value[int(part)] if isinstance(value, list) else value.get(part)
            ctx[name] = value
    return keep


_IPS = itertools.cycle(f"192.0.2.{n}" for n in range(1, 255))


def _keep_referral_version(name: str) -> Callable[[Context, dict[str, Any]], None]:
    """The referral's ``version`` from its evidence, to send back as ``expected_version`` (absent: 0)."""
    return lambda ctx, response: ctx.update({name: json.loads(response["body"])["referral"].get("version") or 0})


def _new_email(ctx: Context, key: str, who: str) -> str:
    """An address of this journey run's own (kept in ``ctx[key]``): every run is a new person."""
    return str(ctx.setdefault(key, f"{who}-{uuid.uuid4().hex[:8]}@example.com"))


def _fresh_ip() -> str:
    """A client address no other step used lately (the per-IP lead and sign-in limits, velocity checks)."""
    return next(_IPS)


def _this_year() -> str:
    """The financial year now, as the default programme counts it (July-June, Sydney)."""
    from referral_core.clock import now
    from referral_core.models.program import Statements
    from referral_core.services.statements import year_of

    return year_of(now(), Statements()).label


def _me(method: str, path: str, ctx: Context, route: str | None = None, **kwargs: Any) -> dict[str, Any]:
    return portal_event(method, path, session=ctx["session"], route=route, **kwargs)


def _scheduled(name: str) -> Callable[[Context], dict[str, Any]]:
    return lambda ctx: load_event(name)


def _job(event_type: str) -> Callable[[Context], dict[str, Any]]:
    def build(ctx: Context) -> dict[str, Any]:
        body = json.loads(load_event(f"job_webhook/{event_type}.json")["body"])
        body["data"].update(job_id=ctx.setdefault("job_id", f"J-{uuid.uuid4().hex[:8]}"), lead_id=ctx["lead_id"])
        return signed_event(body)
    return build


def _square(name: str, ctx: Context) -> dict[str, Any]:
    """Square's sample with a fresh event id and order (one job per journey run)."""
    body = square_body(name, event_id=str(uuid.uuid4()))
    target = body["data"]["object"].get("invoice") or body["data"]["object"].get("refund") or {}
    if "order_id" in target:
        target["order_id"] = ctx.setdefault("square_order", f"ORDER{uuid.uuid4().hex[:12]}")
    return square_event(body)


def _jobber(name: str) -> dict[str, Any]:
    """Jobber's sample at a fresh time (a new delivery, not a replay); the webhook only queues its ids."""
    return jobber_event(jobber_body(name, occurredAt=f"2026-11-22T09:{uuid.uuid4().int % 60:02d}:00Z"))


def _stripe(sample: str) -> Callable[[Context], dict[str, Any]]:
    """A Stripe event for the journey's job (its own event id each run: a replay would answer from the
    idempotency record), signed as Stripe signs it."""
    def build(ctx: Context) -> dict[str, Any]:
        body = stripe_body(sample, id=f"evt_{uuid.uuid4().hex[:24]}",
                           object={"metadata": {"job_id": ctx["job_id"], "lead_id": ctx["lead_id"]}})
        return stripe_signed(body)
    return build


def _quick_help_naming(ctx: Context) -> dict[str, Any]:
    """A Quick Help lead without a link that names its referrer in words (staff attribute it)."""
    event = load_event("capture_lead/post_lead_json.json")
    body = {k: v for k, v in json.loads(event["body"]).items() if k not in ("ref", "cid")}
    body.update(email=f"kim-{uuid.uuid4().hex[:8]}@example.com", phone=None, referred_by="Jo Smith")
    event["body"] = json.dumps(body)
    event["requestContext"]["http"]["sourceIp"] = _fresh_ip()
    return event


def _keep_magic_token(ctx: Context, response: dict[str, Any]) -> None:
    ctx["token"] = magic_token(ctx["stack"], ctx["email"])  # from the sign-in email, as the referrer would


def _opt_out(method: str) -> Callable[[Context], dict[str, Any]]:
    # The link of the stage emails the referrer received (notify_status sent them from the stream).
    return lambda ctx: portal_event(method, "/me/notifications/opt-out",
                                    query={"token": opt_out_token(ctx["stack"], ctx["email"])},
                                    headers={"accept": "application/json"} if method == "POST" else None)


def _code_path(prefix: str, suffix: str = "") -> Callable[[Context], str]:
    return lambda ctx: f"{prefix}/{ctx['van_code']}{suffix}"


def _apply(key: str, age_band: str) -> Callable[[Context], dict[str, Any]]:
    """An application from this run's own ``ctx[key]`` address; under 18, with a guardian's address."""
    from referral_core.policy import TERMS_VERSION

    def build(ctx: Context) -> dict[str, Any]:
        guardian = {"guardian_email": _new_email(ctx, "guardian", "parent")} if age_band == "16_17" else {}
        return http_event("POST", "/applications", source_ip=_fresh_ip(), body={
            "name": "Alex Taylor", "email": _new_email(ctx, key, key), "phone": "0412 345 678",
            "postcode": "2000", "how_known": "A customer since 2021", "referrer_type": "campus_helper",
            "age_band": age_band, "accept_terms": True, "terms_version": TERMS_VERSION, **guardian})
    return build


def _application_link(kind: str, to: str) -> Callable[[Context, dict[str, Any]], None]:
    """Keep the token of the newest ``kind`` link (verify/guardian) emailed to ``ctx[to]``, as the person would."""
    def keep(ctx: Context, response: dict[str, Any]) -> None:
        mails = [m for m in ctx["stack"].sent_emails() if m["to"] == [ctx[to]] and f"#{kind}=" in m["body"]]
        match = re.search(rf"#{kind}=([A-Za-z0-9_-]+)&(?:amp;)?application=([A-Za-z0-9_-]+)", mails[-1]["body"])
        assert match, f"no {kind} link"
        ctx.update({f"{kind}_token": match.group(1), "application_id": match.group(2)})
    return keep


def _application_step(suffix: str, body: Callable[[Context], dict[str, Any]]) -> Callable[[Context], dict[str, Any]]:
    def build(ctx: Context) -> dict[str, Any]:
        return http_event("POST", f"/applications/{ctx['application_id']}/{suffix}",
                          route=f"/applications/{{application_id}}/{suffix}",
                          path_params={"application_id": ctx["application_id"]}, body=body(ctx))
    return build


def _guardian_consent(ctx: Context) -> dict[str, Any]:
    from referral_core.policy import TERMS_VERSION

    return {"token": ctx["guardian_token"], "guardian_name": "Sam Taylor", "consent": True,
            "terms_version": TERMS_VERSION}


# A person applies on the "Become a referrer" page (a minor: their guardian consents), confirms their email
# from the link, and staff read the queue, ask a question, then approve (the referrer and their first code;
# the welcome email follows from the stream). A second applicant is declined.
BECOMING_A_REFERRER = [
    Step("GET /become-a-referrer", "apply: the page", "ReferrerPortalFunction",
         lambda ctx: http_event("GET", "/become-a-referrer")),
    Step("GET /applications/terms", "apply: the programme terms", "ReferrerPortalFunction",
         lambda ctx: http_event("GET", "/applications/terms")),
    Step("POST /applications", "apply: a campus helper of 17 applies (verification emailed)",
         "ReferrerPortalFunction", _apply("applicant", "16_17"), _application_link("verify", "applicant"),
         expect=202),
    Step("POST /applications/{application_id}/verification", "apply: the emailed link confirms the address "
         "(the guardian is emailed)", "ReferrerPortalFunction",
         _application_step("verification", lambda ctx: {"token": ctx["verify_token"]}),
         _application_link("guardian", "guardian")),
    Step("POST /applications/{application_id}/guardian-consent", "apply: the guardian consents",
         "ReferrerPortalFunction", _application_step("guardian-consent", _guardian_consent)),
    Step("GET /admin/applications", "staff: the applications queue", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/applications")),
    Step("POST /admin/applications/{application_id}/request-info", "staff: ask the applicant a question (emailed)",
         "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/applications/{ctx['application_id']}/request-info",
                            {"message": "Which campus are you at?"})),
    Step("POST /admin/applications/{application_id}/approve", "staff: approve (referrer, first code; welcome "
         "email from the stream)", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/applications/{ctx['application_id']}/approve", {"note": "Campus ok"})),
    Step("POST /applications", "apply: a second applicant (an adult)", "ReferrerPortalFunction",
         _apply("second", "25_plus"), _application_link("verify", "second"), expect=202),
    Step("POST /applications/{application_id}/verification", "apply: the second applicant confirms",
         "ReferrerPortalFunction", _application_step("verification", lambda ctx: {"token": ctx["verify_token"]})),
    Step("POST /admin/applications/{application_id}/decline", "staff: decline with a reason (emailed)",
         "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/applications/{ctx['application_id']}/decline",
                            {"reason": "Outside our service area"})),
]


# Staff set the programme (no holding period here, so the journey can withdraw), create a referrer and a
# van code for them; the referrer signs in from the emailed link, makes a code of their own and refers a
# friend; the job system reports the job; staff review the referral (a question, then accept: the credit);
# the hourly schedule releases the reward; the referrer withdraws (staff reject, then pay a second request);
# staff open and resolve a dispute, attribute a Quick Help lead that named the referrer, read the reports,
# export and erase the friend's data; the referrer stops stage emails from the link in one.
STAFF_SETUP = [
    Step("GET /admin", "staff: admin page", "StaffPageFunction", lambda ctx: load_event("staff_page/get_page.json")),
    Step("GET /admin/assets/{name}", "staff: the console's script", "StaffPageFunction",
         lambda ctx: _asset("app.js")),
    Step("GET /admin/program/versions", "staff: the saved versions", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/program/versions")),
    Step("GET /admin/program", "staff: programme rules", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/program"), _keep(version="version", rules="rules")),
    Step("PUT /admin/program", "staff: save the rules (new version)", "StaffAdminFunction",
         lambda ctx: _admin("PUT", "/admin/program",
                            {**ctx["rules"], "holding_days": 0, "expected_version": ctx["version"],
                             "payout_file": {"apca_user_id": "301500", "user_name": "Fixit Computers Pty Ltd",
                                             "remitter_name": "FIXIT COMPUTERS", "financial_institution": "CBA",
                                             "bsb": "062-111", "account_number": "10203040"}})),
    Step("GET /admin/branding", "staff: the branding (defaults before a save)", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/branding"), _keep(branding_version="version")),
    Step("PUT /admin/branding", "staff: set the business's name, colour and contact line", "StaffAdminFunction",
         lambda ctx: _admin("PUT", "/admin/branding", {
             "business_name": "Fixit Computers", "tagline": "Repairs in Sydney", "colour": "#aa3300",
             "contact_line": "02 9999 0000", "expected_version": ctx["branding_version"]})),
    Step("POST /admin/referrers", "staff: create the referrer who will sign in", "StaffAdminFunction",
         lambda ctx: _admin("POST", "/admin/referrers",
                            {"name": "Jo Smith", "email": _new_email(ctx, "email", "jo")}),
         _keep(referrer_id="referrer_id", code="code")),
    Step("GET /admin/referrers", "staff: the referrers whose name starts with jo", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/referrers", query={"q": "jo"})),
    Step("GET /admin/referrers/{referrer_id}", "staff: the referrer's page", "StaffAdminFunction",
         lambda ctx: _admin("GET", f"/admin/referrers/{ctx['referrer_id']}")),
    Step("PATCH /admin/referrers/{referrer_id}", "staff: make the referrer a local partner (partner rules)",
         "StaffAdminFunction", lambda ctx: _admin("PATCH", f"/admin/referrers/{ctx['referrer_id']}",
                                                  {"referrer_type": "local_partner",
                                                   "note": "Runs the cafe next door"})),
    Step("POST /admin/referrers/{referrer_id}/adjustments", "staff: a welcome bonus", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/referrers/{ctx['referrer_id']}/adjustments",
                            {"amount_cents": 500, "reason": "Welcome bonus"}), expect=201),
    Step("POST /admin/referrers/{referrer_id}/share-codes", "staff: a van code for the referrer",
         "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/referrers/{ctx['referrer_id']}/share-codes",
                            {"visibility": "public", "placement": "van", "zones": ["2000", "21*"]}),
         _keep(van_code="code")),
    Step("GET /admin/share-codes/{code}/qr.png", "staff: the van code's QR (PNG)", "StaffAdminFunction",
         lambda ctx: _admin("GET", _code_path("/admin/share-codes", "/qr.png")(ctx), query={"placement": "van"})),
    Step("GET /admin/share-codes/{code}/qr.svg", "staff: the van code's QR (SVG)", "StaffAdminFunction",
         lambda ctx: _admin("GET", _code_path("/admin/share-codes", "/qr.svg")(ctx), query={"placement": "van"})),
    Step("GET /admin/share-codes/{code}/flyer.pdf", "staff: the van code's decal (PDF)", "StaffAdminFunction",
         lambda ctx: _admin("GET", _code_path("/admin/share-codes", "/flyer.pdf")(ctx), query={"size": "decal"})),
    Step("POST /admin/share-codes/{code}/disable", "staff: disable the van code", "StaffAdminFunction",
         lambda ctx: _admin("POST", _code_path("/admin/share-codes", "/disable")(ctx))),
    Step("POST /admin/share-codes/{code}/enable", "staff: enable it again", "StaffAdminFunction",
         lambda ctx: _admin("POST", _code_path("/admin/share-codes", "/enable")(ctx))),
]
PORTAL_SIGN_IN_AND_REFER = [
    Step("POST /auth/magic-link", "portal: ask for a sign-in link (300 ms response floor)", "ReferrerPortalFunction",
         lambda ctx: magic_link_event(ctx["email"], source_ip=_fresh_ip()), _keep_magic_token),
    Step("GET /dashboard", "portal: the emailed link opens the dashboard page (token in the fragment)",
         "ReferrerPortalFunction", lambda ctx: portal_event("GET", "/dashboard")),
    Step("POST /auth/session/preview", "portal: whom the link signs in (\"Sign in as Jo S.?\")",
         "ReferrerPortalFunction", lambda ctx: preview_event(ctx["token"])),
    Step("POST /auth/session", "portal: exchange the link for a session", "ReferrerPortalFunction",
         lambda ctx: session_event(ctx["token"]), _keep(session="session_token")),
    Step("GET /me", "portal: dashboard data (profile, balance, codes, referrals)", "ReferrerPortalFunction",
         lambda ctx: _me("GET", "/me", ctx)),
    Step("POST /me/share-codes", "portal: make a flyer code", "ReferrerPortalFunction",
         lambda ctx: _me("POST", "/me/share-codes", ctx, body={"visibility": "private", "placement": "flyer"}),
         _keep(my_code="code")),
    Step("GET /me/share-codes/{code}/qr.png", "portal: the flyer code's QR (PNG)", "ReferrerPortalFunction",
         lambda ctx: _me("GET", f"/me/share-codes/{ctx['my_code']}/qr.png", ctx,
                         route="/me/share-codes/{code}/qr.png", path_params={"code": ctx["my_code"]})),
    Step("GET /me/share-codes/{code}/qr.svg", "portal: the flyer code's QR (SVG)", "ReferrerPortalFunction",
         lambda ctx: _me("GET", f"/me/share-codes/{ctx['my_code']}/qr.svg", ctx,
                         route="/me/share-codes/{code}/qr.svg", path_params={"code": ctx["my_code"]})),
    Step("GET /me/share-codes/{code}/flyer.pdf", "portal: the flyer code's A5 flyer (PDF)", "ReferrerPortalFunction",
         lambda ctx: _me("GET", f"/me/share-codes/{ctx['my_code']}/flyer.pdf", ctx, query={"size": "a5"},
                         route="/me/share-codes/{code}/flyer.pdf", path_params={"code": ctx["my_code"]})),
    Step("PUT /me/preferences", "portal: be named on Quick Help (\"Recommended by Jo S.\")", "ReferrerPortalFunction",
         lambda ctx: _me("PUT", "/me/preferences", ctx, body={"show_name_on_landing": True})),
    Step("PUT /me/payout-method", "portal: add a bank account to be paid to (encrypted; emailed \"changed\")",
         "ReferrerPortalFunction",
         lambda ctx: _me("PUT", "/me/payout-method", ctx, body={
             "type": "bank_account", "bsb": "062-000", "account_number": "40912876", "account_name": "Jo Smith"})),
    Step("GET /me/payout-method", "portal: the payout method on file, masked", "ReferrerPortalFunction",
         lambda ctx: _me("GET", "/me/payout-method", ctx)),
    Step("POST /me/referrals", "portal: refer a friend's job", "ReferrerPortalFunction",
         lambda ctx: _me("POST", "/me/referrals", ctx, source_ip=_fresh_ip(), body={
             "friend_name": "Sam Lee", "friend_email": _new_email(ctx, "friend", "sam"),
             "postcode": "2000", "issue": "Printer jams on every page", "friend_agreed": True}),
         _keep(lead_id="lead_id")),
    Step("GET /me/referrals", "portal: my referrals", "ReferrerPortalFunction",
         lambda ctx: _me("GET", "/me/referrals", ctx), _keep(referral_id="items.0.referral_id")),
    Step("GET /me/referrals/{referral_id}", "portal: one referral", "ReferrerPortalFunction",
         lambda ctx: _me("GET", f"/me/referrals/{ctx['referral_id']}", ctx, route="/me/referrals/{referral_id}",
                         path_params={"referral_id": ctx["referral_id"]})),
]
JOB_REPORTED = [
    Step("POST /webhooks/jobs", "portal referral: job created", "JobWebhookFunction", _job("job.created")),
    Step("POST /webhooks/jobs", "portal referral: job completed", "JobWebhookFunction", _job("job.completed")),
    Step("POST /webhooks/jobs", "portal referral: job paid (held for staff review)", "JobWebhookFunction",
         _job("job.paid")),
]
REVIEW_AND_PAYOUT = [
    Step("GET /admin/reviews/counts", "staff: how many referrals each status holds", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/reviews/counts")),
    Step("GET /admin/reviews", "staff: review queue (open)", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/reviews")),
    Step("GET /admin/referrals/{lead_id}", "staff: a referral's evidence", "StaffAdminFunction",
         lambda ctx: _admin("GET", f"/admin/referrals/{ctx['lead_id']}"), _keep_referral_version("version")),
    Step("POST /admin/referrals/{lead_id}/decisions", "staff: question the referral", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/referrals/{ctx['lead_id']}/decisions",
                            {"decision": "question", "note": "Which printer?", "expected_version": ctx["version"]}),
         _keep(version="version")),
    Step("POST /admin/referrals/{lead_id}/decisions", "staff: accept the referral (the reward is credited)",
         "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/referrals/{ctx['lead_id']}/decisions",
                            {"decision": "accept", "note": "Genuine referral", "expected_version": ctx["version"]})),
    Step("schedule rate(1 hour)", "hourly: release rewards past their holding period", "ReleaseRewardsFunction",
         _scheduled("release_rewards/hourly.json")),
    Step("POST /me/withdrawals", "portal: request a withdrawal", "ReferrerPortalFunction",
         lambda ctx: _me("POST", "/me/withdrawals", ctx, body={"amount_cents": 2_000}),
         _keep(withdrawal_id="withdrawal_id")),
    Step("GET /admin/withdrawals", "staff: withdrawals to pay", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/withdrawals", query={"status": "requested"})),
    Step("POST /admin/withdrawals/{withdrawal_id}/rejected", "staff: reject the withdrawal (amount available again)",
         "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/withdrawals/{ctx['withdrawal_id']}/rejected",
                            {"note": "Bank details missing"})),
    Step("POST /me/withdrawals", "portal: request the withdrawal again", "ReferrerPortalFunction",
         lambda ctx: _me("POST", "/me/withdrawals", ctx, body={"amount_cents": 2_000}),
         _keep(withdrawal_id="withdrawal_id")),
    Step("POST /admin/withdrawals/{withdrawal_id}/payout-details/reveal",
         "staff: reveal the payout details to pay them (audited)", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/withdrawals/{ctx['withdrawal_id']}/payout-details/reveal")),
    Step("POST /admin/payout-batches", "staff: put the withdrawal in a payout batch", "StaffAdminFunction",
         lambda ctx: _admin("POST", "/admin/payout-batches", {"withdrawal_ids": [ctx["withdrawal_id"]]}),
         _keep(batch_id="batch_id")),
    Step("GET /admin/payout-batches", "staff: the payout batches", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/payout-batches")),
    Step("GET /admin/payout-batches/{batch_id}", "staff: one payout batch (masked)", "StaffAdminFunction",
         lambda ctx: _admin("GET", f"/admin/payout-batches/{ctx['batch_id']}")),
    Step("GET /admin/payout-batches/{batch_id}/file.aba", "staff: the batch's ABA bank file (audited)",
         "StaffAdminFunction", lambda ctx: _admin("GET", f"/admin/payout-batches/{ctx['batch_id']}/file.aba")),
    Step("GET /admin/payout-batches/{batch_id}/file.csv", "staff: the batch's payout CSV (audited)",
         "StaffAdminFunction", lambda ctx: _admin("GET", f"/admin/payout-batches/{ctx['batch_id']}/file.csv")),
    Step("POST /admin/withdrawals/{withdrawal_id}/paid", "staff: record the payout (rewards become paid)",
         "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/withdrawals/{ctx['withdrawal_id']}/paid",
                            {"payout_reference": "EFT-2026-11-23-001", "note": "paid by bank transfer"})),
    Step("POST /admin/payout-batches/{batch_id}/paid",
         "staff: mark the batch paid (the withdrawal already paid is skipped, never paid twice)", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/payout-batches/{ctx['batch_id']}/paid",
                            {"payout_reference": "EFT-2026-11-23-001"})),
    Step("GET /me/statements", "portal: the yearly statements", "ReferrerPortalFunction",
         lambda ctx: _me("GET", "/me/statements", ctx)),
    Step("GET /me/statements/{year}/statement.csv", "portal: this year's statement (CSV)", "ReferrerPortalFunction",
         lambda ctx: _me("GET", f"/me/statements/{_this_year()}/statement.csv", ctx,
                         route="/me/statements/{year}/statement.csv", path_params={"year": _this_year()})),
    Step("GET /me/statements/{year}/statement.pdf", "portal: this year's statement (PDF)", "ReferrerPortalFunction",
         lambda ctx: _me("GET", f"/me/statements/{_this_year()}/statement.pdf", ctx,
                         route="/me/statements/{year}/statement.pdf", path_params={"year": _this_year()})),
    Step("GET /admin/referrers/{referrer_id}/statements/{year}/statement.csv",
         "staff: the referrer's statement (CSV)", "StaffAdminFunction",
         lambda ctx: _admin("GET", f"/admin/referrers/{ctx['referrer_id']}/statements/{_this_year()}/statement.csv")),
    Step("GET /admin/referrers/{referrer_id}/statements/{year}/statement.pdf",
         "staff: the referrer's statement (PDF)", "StaffAdminFunction",
         lambda ctx: _admin("GET", f"/admin/referrers/{ctx['referrer_id']}/statements/{_this_year()}/statement.pdf")),
]
STAFF_TOOLS = [
    Step("POST /admin/disputes", "staff: open a dispute", "StaffAdminFunction",
         lambda ctx: _admin("POST", "/admin/disputes", {
             "referral_id": ctx["lead_id"], "referrer_id": ctx["referrer_id"], "subject": "Reward amount",
             "note": "Referrer expected the Silver tier"}),
         _keep(dispute_id="dispute_id")),
    Step("GET /admin/disputes", "staff: open disputes", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/disputes")),
    Step("POST /admin/disputes/{dispute_id}/resolve", "staff: resolve the dispute", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/disputes/{ctx['dispute_id']}/resolve",
                            {"outcome": "not_upheld", "note": "Bronze applies to a first reward"})),
    Step("POST /leads", "Quick Help lead naming its referrer in words", "CaptureLeadFunction", _quick_help_naming,
         _keep(named_lead="lead_id")),
    Step("GET /admin/referrals/{lead_id}", "staff: evidence of the lead that named a referrer",
         "StaffAdminFunction", lambda ctx: _admin("GET", f"/admin/referrals/{ctx['named_lead']}"),
         _keep_referral_version("named_version")),
    Step("POST /admin/referrals/{lead_id}/attribution", "staff: attribute it to the referrer", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/referrals/{ctx['named_lead']}/attribution", {
             "referrer_id": ctx["referrer_id"], "note": "Customer named Jo Smith on the phone",
             "expected_version": ctx["named_version"]})),
    Step("GET /admin/share-codes/{code}", "staff: usage review of the van code", "StaffAdminFunction",
         lambda ctx: _admin("GET", _code_path("/admin/share-codes")(ctx))),
    Step("GET /admin/reports/funnel", "staff: funnel report (first page)", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/reports/funnel")),
    *[Step("GET /admin/exports/{kind}.csv", f"staff: {kind} CSV (this month)", "StaffAdminFunction",
           lambda ctx, kind=kind: _admin("GET", f"/admin/exports/{kind}.csv"))
      for kind in ("referrals", "rewards", "payouts")],
    Step("GET /admin/people/export", "staff: export what is stored about the friend", "StaffAdminFunction",
         lambda ctx: _admin("GET", "/admin/people/export", query={"email": ctx["friend"]})),
    Step("POST /admin/people/erase", "staff: erase the friend", "StaffAdminFunction",
         lambda ctx: _admin("POST", "/admin/people/erase", {"email": ctx["friend"], "note": "Request REQ-42"})),
    Step("schedule rate(1 day)", "daily: flag referrals still without a job", "FlagMissingJobLinksFunction",
         _scheduled("flag_missing_job_links/scheduled.json")),
    Step("GET /me/notifications/opt-out", "portal: the opt-out link of a stage email", "ReferrerPortalFunction",
         _opt_out("GET")),
    Step("POST /me/notifications/opt-out", "portal: stop stage emails", "ReferrerPortalFunction", _opt_out("POST")),
    Step("POST /admin/referrers/{referrer_id}/suspend", "staff: suspend the referrer (sessions and codes)",
         "StaffAdminFunction", lambda ctx: _admin("POST", f"/admin/referrers/{ctx['referrer_id']}/suspend",
                                                  {"note": "Complaint REQ-43: paused while we look"})),
    Step("POST /admin/referrers/{referrer_id}/reactivate", "staff: reactivate the referrer", "StaffAdminFunction",
         lambda ctx: _admin("POST", f"/admin/referrers/{ctx['referrer_id']}/reactivate",
                            {"note": "REQ-43 resolved"})),
]


JOURNEYS: dict[str, list[Step]] = {
    "referrer and link": [
        Step("POST /admin/referrers", "staff create a referrer", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/referrers",
                                {"name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com",
                                 "phone": "0412 345 678"}), _keep_code),
        Step("GET /r/{code}", "first visit (counted)", "LinkRedirectFunction", lambda ctx: _redirect(ctx["code"])),
        Step("GET /r/{code}", "same visitor again within the hour", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"])),
        Step("GET /r/{code}", "unknown code (404)", "LinkRedirectFunction", lambda ctx: _redirect("NOPE234"),
             expect=404),
        Step("HEAD /r/{code}", "HEAD (not counted)", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"], method="HEAD")),
        Step("GET /openapi.json", "API description", "ApiDocsFunction",
             lambda ctx: http_event("GET", "/openapi.json")),
        Step("GET /docs", "API docs page", "ApiDocsFunction", lambda ctx: http_event("GET", "/docs")),
        Step("GET /docs/{asset}", "API docs page's script (Swagger UI, from its package)", "ApiDocsFunction",
             lambda ctx: http_event("GET", "/docs/swagger-ui-bundle.js", route="/docs/{asset}",
                                    path_params={"asset": "swagger-ui-bundle.js"})),
    ],
    "referral": [
        Step("POST /admin/referrers", "referral: staff create a referrer", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/referrers",
                                {"name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com"}), _keep_code),
        Step("GET /r/{code}", "referral: a friend follows the link", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"], ip=f"198.51.100.{uuid.uuid4().int % 250}"), _keep_cid),
        Step("GET /quick-help", "referral: Quick Help page", "CaptureLeadFunction",
             lambda ctx: load_event("capture_lead/get_quick_help_with_ref.json")),
        Step("GET /branding/logo", "referral: the page's logo (the default image)", "CaptureLeadFunction",
             lambda ctx: http_event("GET", "/branding/logo")),
        Step("POST /leads", "referral: the friend asks for help", "CaptureLeadFunction", _lead,
             lambda ctx, response: ctx.update(lead_id=json.loads(response["body"])["lead_id"])),
        Step("POST /webhooks/jobs", "referral: job created", "JobWebhookFunction", _job("job.created")),
        Step("POST /webhooks/jobs", "referral: job completed", "JobWebhookFunction", _job("job.completed")),
        Step("POST /webhooks/jobs", "referral: job paid", "JobWebhookFunction", _job("job.paid")),
        Step("POST /webhooks/stripe", "referral: Stripe invoice paid (the same job)", "StripeWebhookFunction",
             _stripe("invoice.paid")),
        Step("GET /policy", "privacy policy", "CaptureLeadFunction",
             lambda ctx: load_event("capture_lead/get_policy.json")),
    ],
    "referrer portal, review and payout": [*STAFF_SETUP, *PORTAL_SIGN_IN_AND_REFER, *JOB_REPORTED,
                                           *REVIEW_AND_PAYOUT, *STAFF_TOOLS],
    # Outbound webhooks: a subscription hears of a new lead (one delivery queued per subscription); the
    # delivery function's POST is not measured here (it would leave the machine).
    "outbound webhooks": [
        Step("POST /admin/webhooks", "admin: subscribe a CRM to new leads", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/webhooks", {"url": "https://hooks.example.com/referrals",
                                                            "events": ["lead.received"]}),
             _keep(webhook_id="webhook_id"), expect=201),
        Step("POST /admin/referrers", "webhooks: staff create a referrer", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/referrers",
                                {"name": "Jo Smith", "email": f"jo-{uuid.uuid4().hex[:8]}@example.com"}), _keep_code),
        Step("GET /r/{code}", "webhooks: a friend follows the link", "LinkRedirectFunction",
             lambda ctx: _redirect(ctx["code"], ip=f"198.51.100.{uuid.uuid4().int % 250}"), _keep_cid),
        Step("POST /leads", "webhooks: the friend asks for help (a delivery is queued)", "CaptureLeadFunction", _lead),
        Step("GET /admin/webhooks", "staff: the webhook subscriptions", "StaffAdminFunction",
             lambda ctx: _admin("GET", "/admin/webhooks")),
        Step("GET /admin/webhooks/{webhook_id}/deliveries", "staff: a subscription's deliveries", "StaffAdminFunction",
             lambda ctx: _admin("GET", f"/admin/webhooks/{ctx['webhook_id']}/deliveries"),
             _keep(delivery_id="items.0.delivery_id")),
        Step("POST /admin/webhooks/{webhook_id}/deliveries/{delivery_id}/replay",
             "staff: replay a delivery still being attempted (409)", "StaffAdminFunction",
             lambda ctx: _admin("POST", f"/admin/webhooks/{ctx['webhook_id']}/deliveries/{ctx['delivery_id']}/replay"),
             expect=409),
        Step("POST /admin/webhooks/{webhook_id}/rotate", "admin: rotate the signing secret", "StaffAdminFunction",
             lambda ctx: _admin("POST", f"/admin/webhooks/{ctx['webhook_id']}/rotate")),
        Step("DELETE /admin/webhooks/{webhook_id}", "admin: disable the subscription", "StaffAdminFunction",
             lambda ctx: _admin("DELETE", f"/admin/webhooks/{ctx['webhook_id']}")),
    ],
    "becoming a referrer": BECOMING_A_REFERRER,
    # The job-system adapters (issue 20): each provider's documented payloads, signed as the provider signs.
    "job systems": [
        Step("POST /webhooks/square", "square: an invoice is paid", "SquareWebhookFunction",
             lambda ctx: _square("invoice.payment_made", ctx)),
        Step("POST /webhooks/square", "square: a refund completes", "SquareWebhookFunction",
             lambda ctx: _square("refund.updated", ctx)),
        Step("POST /webhooks/square", "square: an event the adapter does not use (ignored)", "SquareWebhookFunction",
             lambda ctx: _square("customer.created", ctx)),
        Step("POST /webhooks/jobber", "jobber: an invoice changes (queued for the API read)", "JobberWebhookFunction",
             lambda ctx: _jobber("INVOICE_UPDATE"), expect=202),
        Step("POST /webhooks/jobber", "jobber: a topic the adapter does not use (ignored)", "JobberWebhookFunction",
             lambda ctx: _jobber("CLIENT_CREATE")),
        Step("POST /webhooks/servicem8", "servicem8: an invoice is paid (queued for the API read)",
             "ServiceM8WebhookFunction", lambda ctx: servicem8_sample("job.invoice_paid"), expect=202),
        Step("POST /webhooks/servicem8", "servicem8: the subscription check", "ServiceM8WebhookFunction",
             lambda ctx: servicem8_sample("subscribe")),
        # Xero's intent-to-receive check and a contact event: neither fetches anything (an invoice event
        # calls Xero's API, which would leave the machine; tests/integration/test_xero_webhook.py has a fake).
        Step("POST /webhooks/xero", "xero: the intent-to-receive check", "XeroWebhookFunction",
             lambda ctx: xero_event(xero_body("intent_to_receive"))),
        Step("POST /webhooks/xero", "xero: a contact event (ignored, not fetched)", "XeroWebhookFunction",
             lambda ctx: xero_event(xero_body("contact.update"))),
    ],
    # The admin's staff management: Cognito calls (not counted here) plus one audit write each.
    "staff management": [
        Step("POST /admin/staff", "admin: invite a technician", "StaffAdminFunction",
             lambda ctx: _admin("POST", "/admin/staff", {"email": _new_email(ctx, "tech", "tech"), "role": "staff"}),
             _keep(username="username"), expect=201),
        Step("GET /admin/staff", "admin: the staff accounts", "StaffAdminFunction",
             lambda ctx: _admin("GET", "/admin/staff")),
        Step("POST /admin/staff/{username}/role", "admin: make them a viewer", "StaffAdminFunction",
             lambda ctx: _admin("POST", f"/admin/staff/{ctx['username']}/role", {"role": "viewer"})),
        Step("POST /admin/staff/{username}/disable", "admin: disable the account", "StaffAdminFunction",
             lambda ctx: _admin("POST", f"/admin/staff/{ctx['username']}/disable")),
        Step("POST /admin/staff/{username}/enable", "admin: enable it again", "StaffAdminFunction",
             lambda ctx: _admin("POST", f"/admin/staff/{ctx['username']}/enable")),
    ],
}


def create_staff_pool(stack: Stack) -> None:
    """The staff user pool and its role groups on moto, for the staff management steps."""
    import boto3

    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = idp.create_user_pool(PoolName="staff", UsernameAttributes=["email"])["UserPool"]["Id"]
    for group in ("admin", "staff", "viewer"):
        idp.create_group(UserPoolId=pool_id, GroupName=group)
    stack.env["STAFF_USER_POOL_ID"] = pool_id
    stack.monkeypatch.setenv("STAFF_USER_POOL_ID", pool_id)


def _gsi_keys() -> tuple[tuple[str, str], ...]:
    kwargs = create_table_kwargs(template(), "Table")
    return tuple((next(k["AttributeName"] for k in g["KeySchema"] if k["KeyType"] == "HASH"), g["IndexName"])
                 for g in kwargs.get("GlobalSecondaryIndexes", []))


def _kind(record: dict[str, Any]) -> str:
    image = record["dynamodb"].get("NewImage") or record["dynamodb"].get("OldImage") or {}
    return str(image.get("type", {}).get("S", "?"))


@contextmanager
def _logs() -> Iterator[io.StringIO]:
    """What the functions log (Powertools' one logger per process) goes to a buffer while the block runs."""
    from referral_core.observability import logger

    buffer = io.StringIO()
    previous = logger.registered_handler.setStream(buffer)
    try:
        yield buffer
    finally:
        logger.registered_handler.setStream(previous)


def _status(step: Step, response: Any) -> int | str:
    """The HTTP status (checked against ``step.expect``), or a scheduled function's counts."""
    if not (isinstance(response, dict) and "statusCode" in response):
        return ", ".join(f"{k} {len(v) if isinstance(v, list) else v}" for k, v in (response or {}).items()) or "-"
    status = int(response["statusCode"])
    if (status != step.expect) if step.expect is not None else status >= 400:
        raise RuntimeError(f"{step.scenario!r} ({step.route}) answered {status}: {response.get('body')}")
    return status


def _deliver(stack: Stack, pump: StreamPump, records: list[dict[str, Any]], measured: bool,
             out: Measurements, gsi: tuple[tuple[str, str], ...]) -> list[dict[str, Any]]:
    """Deliver ``records`` to the consumers whose filters keep them, then the records those consumers wrote,
    until none is left (``CASCADE_ROUNDS`` at most); returns every record delivered. Measured: one record
    per invocation, each consumer's calls counted per (event name, item type)."""
    delivered: list[dict[str, Any]] = []
    for _ in range(CASCADE_ROUNDS):
        if not records:
            break
        delivered += records
        for route in consumers():
            if not measured:
                with _logs():
                    pump.deliver(records, route)
                continue
            for batch in batches(route, records):
                for record in batch:
                    key = (route.name, record["eventName"], _kind(record))
                    result = out.records.setdefault(key, RecordResult())
                    with watch(gsi_keys=gsi) as record_calls, _logs() as log:
                        started = time.perf_counter()
                        stack.consume(route.name, {"Records": [record]})
                        result.ms += (time.perf_counter() - started) * 1000
                    result.log_bytes += len(log.getvalue().encode())
                    r, w = record_calls.capacity()
                    result.records += 1
                    result.calls += len(record_calls.calls)
                    result.rru += r
                    result.wru += w
                    result.ops.update(c.operation for c in record_calls.calls)
        records = pump.new_records()
    return delivered


def _run_journey(stack: Stack, pump: StreamPump, steps: list[Step], measured: bool,
                 out: Measurements, times: dict[str, list[float]]) -> None:
    ctx: Context = {"stack": stack}
    gsi = _gsi_keys()
    for step in steps:
        event = step.event(ctx)
        with watch(gsi_keys=gsi) as calls, _logs() as log:
            started = time.perf_counter()
            response = stack.invoke(step.function_id, event)
            elapsed = (time.perf_counter() - started) * 1000
        status = _status(step, response)
        step.keep(ctx, response)
        times.setdefault(step.scenario, []).append(elapsed)
        delivered = _deliver(stack, pump, pump.new_records(), measured, out, gsi)
        if measured:
            rru, wru = calls.capacity()
            out.requests.append(RequestResult(step, status, calls.summary(), len(calls.calls), rru, wru, elapsed,
                                              len(log.getvalue().encode())))
            out.produced[step.scenario] = [(r["eventName"], _kind(r)) for r in delivered]


def measure(rounds: int = 5) -> Measurements:
    """Warm up, measure calls once, then time ``rounds`` more journeys (request ms are their medians)."""
    out = Measurements([], {}, {})
    with pytest.MonkeyPatch.context() as mp, moto_stack(mp) as stack:
        configure_webhook_secrets(stack)
        configure_providers(stack)
        configure_stripe_secrets(stack)
        create_session_secret()
        create_staff_pool(stack)
        pump = StreamPump(stack)
        for steps in JOURNEYS.values():
            times: dict[str, list[float]] = {}
            _run_journey(stack, pump, steps, measured=False, out=out, times={})
            _run_journey(stack, pump, steps, measured=True, out=out, times=times)
            for _ in range(rounds - 1):
                _run_journey(stack, pump, steps, measured=False, out=out, times=times)
            for result in out.requests:
                if result.step.scenario in times:
                    result.ms = statistics.median(times[result.step.scenario])
    return out


def documented_routes() -> set[str]:
    """Every operation a client can call: the OpenAPI document plus the template's non-proxy routes."""
    spec = json.loads((ROOT / "functions" / "api_docs" / "openapi.json").read_text())
    routes = {f"{method.upper()} {path}" for path, item in spec["paths"].items() for method in item}
    routes |= {r.route_key for r in template().routes() if "{proxy+}" not in r.path}
    return routes


def run(quick: bool = False) -> tuple[Section, Measurements]:
    m = measure(rounds=2 if quick else 5)
    rows = [[r.step.route, r.step.scenario, r.status, r.count, r.calls, f"{r.rru:g}", f"{r.wru:g}",
             f"{r.ms:.0f}", r.log_bytes] for r in m.requests]
    record_rows = [[fn, event, kind, f"{r.calls / r.records:g}", ", ".join(sorted(r.ops)) or "none",
                    f"{r.rru / r.records:g}", f"{r.wru / r.records:g}"]
                   for (fn, event, kind), r in sorted(m.records.items())]
    measured = {r.step.route for r in m.requests}
    missing = sorted(documented_routes() - measured)
    by_consumer: dict[str, int] = defaultdict(int)
    for (fn, _, _), r in m.records.items():
        by_consumer[fn] += r.records
    idle = sorted(route.name for route in consumers() if route.name not in by_consumer)
    body = (
        "Per request (warm container):\n\n"
        + table(["route", "scenario", "status", "calls", "operations", "est. RRU", "est. WRU",
                 "ms (moto, median)", "log bytes"], rows)
        + "\n\nPer stream record delivered to a consumer (records its route's patterns keep; the stream's "
        "reader also reads the parked-changes set, one GetItem per batch: docs/architecture.md):\n\n"
        + table(["consumer", "event", "item type", "calls / record", "operations", "est. RRU", "est. WRU"],
                record_rows or [["(no record reached a consumer)", "", "", "", "", "", ""]])
        + f"\n\nRoutes without a scenario yet: {', '.join(missing) or 'none'}."
        + f"\nConsumers that no journey reached: {', '.join(idle) or 'none'}."
    )
    return Section("DynamoDB calls per request and per stream record", "python -m bench --only calls",
                   body), m
