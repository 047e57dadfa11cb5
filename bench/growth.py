"""Cost growth: the staff review queue and the funnel report read as many items at 100k referrals as at 1k.

One table on moto in-process (created from template.yaml) grows from the smallest size to the largest;
at each size the same requests go through the real StaffAdmin handler with a staff identity, and the
app's DynamoDB client is watched with botocore hooks (tests/support/dynamo_calls.py): calls, items read
(``ScannedCount`` of each Query: what DynamoDB reads and bills, filtered-out items included) and the time
spent in them. A page must cost the same at every size, and nothing may Scan.

Seeding: writing 100k referrals through the real flow (lead capture, then the stream consumers) takes
about a second and a half per referral on moto, so the items are put straight into moto's DynamoDB
backend (``put_item``: what its BatchWriteItem runs for each item, stream record included, minus the HTTP
round trip) in the shapes the real flow writes: referral items as attribution, the duplicate checks and
staff decisions leave them, ``code_stats`` items as ``stats_update`` leaves them.
tests/integration/test_growth.py compares them with items the real flow wrote. Items that neither route
reads (leads, contacts, referrers, jobs) are left out: a Query's cost depends only on the key range it reads.

``make bench`` runs 1k and 100k referrals within ``BENCH_GROWTH_BUDGET`` seconds (default 180): what is
projected to end past it is left out and the section says so; ``--quick`` runs 1k and 10k with no budget.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import os
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pytest

from bench.support import Section, table
from referral_core.clock import iso
from referral_core.dal.dynamo import serialize
from referral_core.dal.keys import code_stats
from referral_core.dal.links import STATS_GSI
from referral_core.dal.referrals import REFERRAL_SK, lead_pk, referrals_of_referrer_gsi, review_gsi
from referral_core.dal.review import QUEUE_READ_BUDGET
from referral_core.ids import new_id
from referral_core.stages import FlagType, ReviewStatus, Severity, Stage
from tests.support.aws import REGION, Stack, moto_stack
from tests.support.dynamo_calls import watch
from tests.support.events import STAFF_CLAIMS, http_event

ADMIN = "StaffAdminFunction"
ACCOUNT = "123456789012"  # moto's default account
FULL_SIZES = (1_000, 100_000)
QUICK_SIZES = (1_000, 10_000)
#: Seconds the whole section may take (``make bench``; ``--quick`` has none).
BUDGET_VARIABLE = "BENCH_GROWTH_BUDGET"
BUDGET_SECONDS = float(os.environ.get(BUDGET_VARIABLE, "180"))
REFERRALS_PER_CODE = 10
PLACEMENTS = ("-", "flyer")  # each code's code_stats items (one per placement)
EPOCH = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Limits:
    """Page sizes of the requests (the routes' defaults unless a test asks for smaller pages)."""

    queue: int = 25
    funnel: int = 100


# --------------------------------------------------------------------------------------------- seeding


def code_of(row: int) -> str:
    return f"GROW{row // REFERRALS_PER_CODE:06d}"


def referrer_of(row: int) -> str:
    return f"01GROWTH{row // REFERRALS_PER_CODE:018d}"


def review_of(row: int) -> tuple[ReviewStatus | None, FlagType, Severity]:
    """One referral in ten waits in the open review queue, one in ten was decided (accepted or dismissed),
    the rest were never flagged. Every other open referral has a velocity flag."""
    kind = (FlagType.VELOCITY, Severity.HIGH) if row % 20 == 0 else (FlagType.DUPLICATE_CONTACT, Severity.LOW)
    match row % 10:
        case 0:
            return ReviewStatus.OPEN, *kind
        case 5:
            return (ReviewStatus.ACCEPTED if row // 10 % 2 else ReviewStatus.DISMISSED), *kind
        case _:
            return None, *kind


def referral_item(row: int) -> dict[str, Any]:
    """Referral ``row`` (0 = oldest) as the attribution consumer, the duplicate checks (``raise_flag``)
    and staff decisions leave it after a lead came in through a share link."""
    lead_id = new_id()
    at = iso(EPOCH + dt.timedelta(seconds=row))
    referrer_id, code = referrer_of(row), code_of(row)
    evidence = [{"source": source, "value": code, "referrer_id": referrer_id, "at": at, "accepted": True,
                 "reason": reason} for source, reason in (("code", "valid code"), ("link", "click within window"))]
    item: dict[str, Any] = {
        "pk": lead_pk(lead_id), "sk": REFERRAL_SK, "type": "referral", "lead_id": lead_id,
        "stage": str(Stage.RECEIVED), "stage_rank": 1, "progress_stage": str(Stage.RECEIVED),
        "masked_name": "Jo S.", "postcode": "2000", "created_at": at, "updated_at": at, "code": code,
        "source": "link", "referrer_id": referrer_id, "gsi1pk": referrals_of_referrer_gsi(referrer_id),
        "gsi1sk": f"{at}#{lead_id}", "attribution_applied_at": at,
        "attribution": {"model": "last_touch", "window_days": 90, "program_version": 0,
                        "outcome": "attributed", "reason": "click within window", "decided_at": at,
                        "evidence": evidence},
    }
    status, flag_type, severity = review_of(row)
    if status is not None:  # raise_flag put it in the open queue; a decision moved it on
        item |= {"review_status": str(status), "gsi2pk": review_gsi(status), "gsi2sk": f"{at}#{lead_id}",
                 "flag_types": {str(flag_type)}, "flag_severities": {str(severity)}}
        if status is ReviewStatus.ACCEPTED:
            item |= {"version": 1, "last_decision": "accept"}
        elif status is ReviewStatus.DISMISSED:  # held at not_eligible
            item |= {"version": 1, "last_decision": "dismiss", "stage": str(Stage.NOT_ELIGIBLE),
                     "hold_stage": str(Stage.NOT_ELIGIBLE), "not_eligible_reason": "staff_decision"}
    return item


def stats_items(code: str) -> list[dict[str, Any]]:
    """A code's ``code_stats`` items (one per placement), as ``stats_update`` ADDs them."""
    items = []
    for n, placement in enumerate(PLACEMENTS):
        pk, sk = code_stats(code, placement)
        items.append({"pk": pk, "sk": sk, "type": "code_stats", "code": code, "placement": placement,
                      "gsi1pk": STATS_GSI, "gsi1sk": f"{code}#{placement}", "updated_at": iso(EPOCH),
                      "clicks_link": 40 + n, "clicks_qr": 7, "leads": 5, "jobs": 3, "paid": 2, "rewarded": 1})
    return items


def rows(start: int, stop: int) -> Iterator[dict[str, Any]]:
    """The items of referrals ``start``..``stop - 1`` and of the codes they bring in."""
    for row in range(start, stop):
        if row % REFERRALS_PER_CODE == 0:
            yield from stats_items(code_of(row))
        yield referral_item(row)


@dataclass
class Seeder:
    """Grows the stack's table one referral at a time, in referral order (newer referrals come later).

    Items go straight to moto's DynamoDB backend (``put_item``, what its BatchWriteItem runs for each
    item, stream record included) without the HTTP round trip, which halves the seeding time.
    """

    stack: Stack
    referrals: int = 0
    items: int = 0
    seconds: float = 0.0

    def grow_to(self, size: int) -> None:
        from moto.backends import get_backend

        started = time.perf_counter()
        backend = get_backend("dynamodb")[ACCOUNT][REGION]
        for item in rows(self.referrals, size):
            backend.put_item(self.stack.table_name, serialize(item))
            self.items += 1
        self.referrals = max(self.referrals, size)
        self.seconds += time.perf_counter() - started

    def projected_seconds(self, size: int) -> float:
        """Seconds to grow to ``size`` at the rate seen so far."""
        return self.seconds / max(self.referrals, 1) * max(size - self.referrals, 0)


# -------------------------------------------------------------------------------------------- requests


@dataclass(frozen=True)
class Probe:
    """One staff request; ``after`` names the probe whose ``next_cursor`` it continues.

    Without ``bound`` a probe must read the same at every size; with it, at most ``bound(limits)``
    (items read, calls) at any size.
    """

    label: str
    path: str
    query: Callable[[Limits], dict[str, str]]
    expected_items: Callable[[Limits], int]
    after: str | None = None
    bound: Callable[[Limits], tuple[int, int]] | None = None


def _no_match_bound(limits: Limits) -> tuple[int, int]:
    """Nothing matches, so every Query asks for a whole page, until the read budget is spent."""
    calls = math.ceil(QUEUE_READ_BUDGET / limits.queue)
    return calls * limits.queue, calls


PROBES = (
    Probe("review queue, first page", "/admin/reviews", lambda lim: {"limit": str(lim.queue)},
          lambda lim: lim.queue),
    Probe("review queue, next page", "/admin/reviews", lambda lim: {"limit": str(lim.queue)},
          lambda lim: lim.queue, after="review queue, first page"),
    Probe("review queue, flag filter (velocity)", "/admin/reviews",
          lambda lim: {"limit": str(lim.queue), "flag_type": str(FlagType.VELOCITY)}, lambda lim: lim.queue),
    Probe("review queue, flag filter nobody has (refund_hold)", "/admin/reviews",
          lambda lim: {"limit": str(lim.queue), "flag_type": str(FlagType.REFUND_HOLD)}, lambda lim: 0,
          bound=_no_match_bound),
    Probe("funnel report, first page", "/admin/reports/funnel", lambda lim: {"limit": str(lim.funnel)},
          lambda lim: lim.funnel),
    Probe("funnel report, next page", "/admin/reports/funnel", lambda lim: {"limit": str(lim.funnel)},
          lambda lim: lim.funnel, after="funnel report, first page"),
    Probe("funnel report, one code", "/admin/reports/funnel", lambda lim: {"code": code_of(0)},
          lambda lim: len(PLACEMENTS)),
)


@dataclass(frozen=True)
class Reading:
    """What one request cost."""

    status: int
    returned: int
    calls: int
    operations: Counter[str]
    items_read: int
    rru: float
    ms: float
    dynamo_ms: float

    @property
    def summary(self) -> str:
        return " + ".join(f"{op} x{n}" for op, n in self.operations.items()) or "none"


def _read(stack: Stack, probe: Probe, limits: Limits, cursors: dict[str, str | None]) -> Reading:
    """Send the probe's request through the handler; ``cursors`` keeps each probe's ``next_cursor``."""
    query = probe.query(limits)
    if probe.after:
        cursor = cursors[probe.after]
        if cursor is None:
            raise AssertionError(f"{probe.after} had no next page: seed more referrals")
        query["cursor"] = cursor
    event = http_event("GET", probe.path, query=query, claims=STAFF_CLAIMS)
    with watch() as calls:
        started = time.perf_counter()
        response = stack.invoke(ADMIN, event)
        ms = (time.perf_counter() - started) * 1000
    body = json.loads(response["body"])
    cursors[probe.label] = body.get("next_cursor")
    rru, _ = calls.capacity()
    return Reading(status=response["statusCode"], returned=len(body.get("items", body.get("rows", []))),
                   calls=len(calls.calls), operations=calls.operations(), items_read=calls.items_read(), rru=rru,
                   ms=ms, dynamo_ms=calls.seconds() * 1000)


@dataclass
class Growth:
    limits: Limits
    readings: dict[int, dict[str, Reading]] = field(default_factory=dict)  # size -> probe label -> reading
    seed_seconds: dict[int, float] = field(default_factory=dict)
    items: dict[int, int] = field(default_factory=dict)  # size -> items in the table
    skipped: list[tuple[int, str | None, float]] = field(default_factory=list)  # size, probe (None: all), s
    seconds: float = 0.0

    @property
    def sizes(self) -> list[int]:
        return sorted(self.readings)

    def per_probe(self, label: str) -> list[Reading | None]:
        """The probe's reading at each size (None where the budget left it out)."""
        return [self.readings[size].get(label) for size in self.sizes]


def measure(sizes: Sequence[int], limits: Limits | None = None, budget: float | None = None) -> Growth:
    """Grow one table through ``sizes`` (referrals) and send the same requests at each size.

    The container is warmed on the smallest table first (route modules imported, models built), so no
    size pays a cold start. With a ``budget`` (seconds), what is projected to end past it is left out: a
    size whose seeding would (at the rate so far), or a bounded probe whose most calls would (at the time
    per call of the other probes on the same table: moto's grows with the table).
    """
    out = Growth(limits or Limits())
    started = time.perf_counter()

    def past_budget(projected: float) -> bool:
        return budget is not None and time.perf_counter() - started + projected > budget

    with pytest.MonkeyPatch.context() as mp, moto_stack(mp) as stack:
        seeder = Seeder(stack)
        seeder.grow_to(sizes[0])
        warm_up: dict[str, str | None] = {}
        for probe in PROBES:
            _read(stack, probe, out.limits, warm_up)
        for size in sizes:
            projected = seeder.projected_seconds(size)
            if past_budget(projected):
                out.skipped.append((size, None, projected))
                continue
            seeded_before = seeder.seconds
            seeder.grow_to(size)
            out.seed_seconds[size], out.items[size] = seeder.seconds - seeded_before, seeder.items
            readings: dict[str, Reading] = {}
            cursors: dict[str, str | None] = {}
            for probe in sorted(PROBES, key=lambda p: p.bound is not None):  # the bounded ones last
                if probe.bound:
                    seconds_per_call = sum(r.ms for r in readings.values()) / 1000 / max(
                        sum(r.calls for r in readings.values()), 1)
                    projected = probe.bound(out.limits)[1] * seconds_per_call
                    if past_budget(projected):
                        out.skipped.append((size, probe.label, projected))
                        continue
                readings[probe.label] = _read(stack, probe, out.limits, cursors)
            out.readings[size] = readings
    out.seconds = time.perf_counter() - started
    return out


# ------------------------------------------------------------------------------------------ the section


def _present(readings: Sequence[Reading | None]) -> list[Reading]:
    return [r for r in readings if r is not None]


def _ratio(values: Sequence[float]) -> str:
    if len(values) < 2:
        return "—"
    return f"{values[-1] / values[0]:.2f}x" if values[0] else ("1.00x" if not values[-1] else "∞")


def _flat(growth: Growth, probe: Probe) -> bool:
    """Same items read, calls and operations at every size; or, for a bounded probe, within its bound."""
    readings = _present(growth.per_probe(probe.label))
    if probe.bound:
        items, calls = probe.bound(growth.limits)
        return all(r.items_read <= items and r.calls <= calls for r in readings)
    return len(growth.sizes) == len(readings) and len(
        {(r.items_read, r.calls, tuple(sorted(r.operations.items()))) for r in readings}) == 1


def checks(growth: Growth) -> dict[str, bool]:
    everything = [r for by_probe in growth.readings.values() for r in by_probe.values()]
    return {
        "two sizes or more measured": len(growth.sizes) >= 2,
        "every request answered 200": all(r.status == 200 for r in everything),
        "every page as full as asked (the measure reads real pages)": all(
            r.returned == p.expected_items(growth.limits)
            for p in PROBES for r in _present(growth.per_probe(p.label))),
        "items read and calls the same at every size": all(_flat(growth, p) for p in PROBES if not p.bound),
        "a filter nothing matches stays within the read budget": all(_flat(growth, p) for p in PROBES if p.bound),
        "no Scan": not any(r.operations.get("Scan") for r in everything),
    }


def _cells(readings: Sequence[Reading | None], cell: Callable[[Reading], str]) -> list[str]:
    return [cell(r) if r else "not run (budget)" for r in readings]


def body(growth: Growth) -> str:
    sizes, limits = growth.sizes, growth.limits
    headers = ["measure", *[f"{n:,} referrals" for n in sizes], "ratio largest / smallest", "target"]
    lines: list[list[object]] = []
    for probe in PROBES:
        readings = growth.per_probe(probe.label)
        present = _present(readings)
        items_target = calls_target = "same at every size"
        if probe.bound:
            items, calls = probe.bound(limits)
            items_target, calls_target = f"≤ {items:,} (read budget)", f"≤ {calls}"
        lines.append([f"GET {probe.path} — {probe.label}: items read (est. RRU)",
                      *_cells(readings, lambda r: f"{r.items_read} ({r.rru:g})"),
                      _ratio([r.items_read for r in present]), items_target])
        lines.append(["… calls", *_cells(readings, lambda r: f"{r.calls} ({r.summary})"),
                      _ratio([r.calls for r in present]), calls_target])
        lines.append(["… handler ms: total / outside DynamoDB calls",
                      *_cells(readings, lambda r: f"{r.ms:.0f} / {r.ms - r.dynamo_ms:.0f}"),
                      _ratio([r.ms - r.dynamo_ms for r in present]).replace("x", "x (outside)"),
                      "— (moto: see below)"])
    lines.append(["items in the table", *[f"{growth.items[n]:,}" for n in sizes], "", ""])
    lines.append(["seconds to seed up to this size", *[f"{growth.seed_seconds[n]:.0f}" for n in sizes], "", ""])
    left_out = "".join(
        f" {f'The request “{label}” at ' if label else ''}{size:,} referrals{'' if label else ' (all requests)'} "
        f"not run: projected to take {seconds:.0f} s more, past this section's budget of {BUDGET_SECONDS:.0f} s "
        f"on this machine (`{BUDGET_VARIABLE}=600 make bench` runs it)."
        for size, label, seconds in growth.skipped)
    defaults = " (the routes' defaults)" if limits == Limits() else ""
    return (
        table(headers, lines)
        + f"\n\nOne table grows from {sizes[0]:,} to {sizes[-1]:,} referrals: one in ten waits in the open "
        "review queue (every other one flagged `velocity`), one in ten was decided (accepted or dismissed), "
        f"the rest were never flagged; a share code per {REFERRALS_PER_CODE} referrals with "
        f"{len(PLACEMENTS)} `code_stats` placements each. Items are put straight into moto's DynamoDB "
        "backend (what its BatchWriteItem runs per item, without the HTTP round trip; the real flow, from "
        "referrer to staff decision with every stream consumer, takes seconds per referral on moto) in the "
        "shapes the real flow writes "
        "(tests/integration/test_growth.py compares them); items neither route reads (leads, contacts, "
        f"referrers) are left out. Pages: {limits.queue} referrals, {limits.funnel} funnel rows{defaults}; "
        "a next page follows the first page's cursor. Items read = `ScannedCount` of each Query, "
        "filtered-out items included (what DynamoDB bills); est. RRU as in the calls section. A filtered "
        f"queue page queries until the page is full or {QUEUE_READ_BUDGET:,} items were read, so a filter "
        "nothing matches reads the whole open queue until that budget, then stops (with a cursor). Handler "
        "ms is wall time through the real handler on a warm container. Moto answers a Query by walking the "
        "whole table and sorting the partition, so on moto the time in DynamoDB calls grows with the table, "
        "which DynamoDB's does not (it reads the key range of one partition); the time outside them is the "
        "handler's own work and stays flat, within this machine's noise."
        + left_out
        + f" Section time {growth.seconds:.0f} s."
    )


def run(quick: bool = False) -> Section:
    growth = measure(QUICK_SIZES if quick else FULL_SIZES, budget=None if quick else BUDGET_SECONDS)
    return Section("Cost growth: review queue and funnel report pages vs table size (bench/growth.py)",
                   "python -m bench --only growth", body(growth), checks(growth))
