"""The shared referral record: forward-only stages, holds, once-only flags (on moto)."""

from __future__ import annotations

import pytest

from referral_core.dal.dynamo import Table
from referral_core.dal.referrals import ReferralRepository
from referral_core.stages import Severity, Stage

pytestmark = pytest.mark.integration


@pytest.fixture
def repo(stack):
    return ReferralRepository(Table(stack.table_name))


def test_stages_only_move_forward_whatever_the_order(repo):
    assert repo.advance_stage("L1", Stage.JOB_COMPLETED, attributes={"job_id": "J1"})
    assert not repo.advance_stage("L1", Stage.JOB_BOOKED)  # late, out-of-order event
    assert not repo.advance_stage("L1", Stage.JOB_COMPLETED)  # replay
    referral = repo.get("L1")
    assert (referral["stage"], referral["stage_rank"], referral["job_id"]) == ("job_completed", 3, "J1")


def test_a_hold_shows_instead_of_progress_until_released(repo):
    repo.advance_stage("L1", Stage.RECEIVED)
    repo.hold("L1", Stage.UNDER_REVIEW)
    repo.advance_stage("L1", Stage.JOB_BOOKED)
    assert repo.get("L1")["stage"] == "under_review"
    repo.release_hold("L1")
    assert repo.get("L1")["stage"] == "job_booked"


def test_a_flag_is_raised_once_and_queues_the_referral(repo, stack):
    assert repo.raise_flag("L1", "duplicate_contact", Severity.MEDIUM, {"other_lead": "L0"})
    assert not repo.raise_flag("L1", "duplicate_contact", Severity.MEDIUM, {"other_lead": "L0"})
    assert repo.raise_flag("L1", "velocity", Severity.LOW, {"count": 6})
    referral = repo.get("L1")
    assert referral["review_status"] == "open" and referral["gsi2pk"] == "REVIEW#open"
    assert referral["flag_types"] == {"duplicate_contact", "velocity"}
    assert len(stack.items_of_type("flag")) == 2
