"""Funnel counters from referral progress: each milestone once per referral, whatever the replays."""

from __future__ import annotations

import copy

import pytest

from referral_core.dal.dynamo import Table
from referral_core.dal.links import LinkRepository
from referral_core.services.funnel import milestones_passed
from tests.support.events import load_event

pytestmark = pytest.mark.integration


def counters(stack):
    [stats] = LinkRepository(Table(stack.table_name)).code_stats("K7QX3MZ")
    return {name: stats.get(name, 0) for name in ("leads", "jobs", "paid", "rewarded")}


def test_a_referral_that_jumps_to_paid_counts_every_milestone_it_passed_once(stack):
    event = load_event("count_funnel/referral_paid.json")
    assert stack.consume("count_funnel", event) == {"batchItemFailures": []}
    assert stack.consume("count_funnel", copy.deepcopy(event)) == {"batchItemFailures": []}  # replay
    # received was passed before this change (old rank 1): only jobs and paid are new here
    assert counters(stack) == {"leads": 0, "jobs": 1, "paid": 1, "rewarded": 0}


@pytest.mark.parametrize(
    ("old_rank", "new_rank", "expected"),
    [(None, 1, ["leads"]), (1, 1, []), (1, 5, ["jobs", "paid", "rewarded"]), (5, 3, []), (0, 7,
     ["leads", "jobs", "paid", "rewarded"])],
)
def test_milestones_passed(old_rank, new_rank, expected):
    old = None if old_rank is None else {"stage_rank": old_rank}
    assert milestones_passed(old, {"code": "C", "stage_rank": new_rank}) == expected
    assert milestones_passed(old, {"stage_rank": new_rank}) == []  # no code: nothing to count
