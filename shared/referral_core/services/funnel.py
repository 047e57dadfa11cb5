"""The referral half of the funnel (clicks → leads → jobs → paid → rewarded) per code and placement.

Counted from referral records as their progress stage passes each milestone, once per referral and
milestone (a marker item in the same transaction as the counter), so replays and no-op writes never
double count and a referral that jumps several stages counts every milestone it passed.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from referral_core.stages import RANK, Stage

#: counter on ``STATS#{CODE}`` ← the stage that reaches it
MILESTONES: tuple[tuple[str, Stage], ...] = (
    ("leads", Stage.RECEIVED), ("jobs", Stage.JOB_BOOKED), ("paid", Stage.CUSTOMER_PAID),
    ("rewarded", Stage.REWARD_PENDING),
)


def milestones_passed(old: Mapping[str, Any] | None, new: Mapping[str, Any]) -> list[str]:
    """Counters whose milestone the referral passed in this change (by ``stage_rank``, progress only)."""
    if not new.get("code"):
        return []
    before = int((old or {}).get("stage_rank") or 0)
    after = int(new.get("stage_rank") or 0)
    return [counter for counter, stage in MILESTONES if before < RANK[stage] <= after]
