"""Pure rules of referrer status (issue 16, item 3): an inactive referrer is never credited by the
resolver, whichever source names them, and their codes redirect without attribution."""

from __future__ import annotations

import pytest

from referral_core.services.attribution import PriorReferral, decide, without_inactive
from referral_core.services.program_defaults import attribution_rules
from referral_core.services.redirect import referrer_active

pytestmark = pytest.mark.unit

AT = "2026-11-23T09:00:00.000000Z"
LEAD = {"lead_id": "L1", "created_at": AT, "source": "quick_help", "ref": "JO-VAN", "ref_status": "attributed",
        "referrer_id": "JO", "code": "JO-VAN", "cid": "c1"}
CLICK = {"click_id": "c1", "code": "JO-VAN", "referrer_id": "JO", "clicked_at": "2026-11-22T09:00:00.000000Z"}
PRIOR = PriorReferral("L0", "code", "JO", "JO-VAN", "2026-11-01T09:00:00.000000Z")


def test_codes_carry_their_referrers_status():
    assert referrer_active({"code": "A"}) and referrer_active({"referrer_status": "active"})
    assert not referrer_active({"referrer_status": "suspended"})
    assert not referrer_active({"referrer_status": "erased"})


@pytest.mark.parametrize(("click", "prior"), [(None, None), (CLICK, None), (None, PRIOR), (CLICK, PRIOR)])
def test_an_inactive_referrer_is_never_credited(click, prior):
    rules = attribution_rules(None)
    lead = LEAD if click else {k: v for k, v in LEAD.items() if k != "cid"}
    active = decide(lead, rules=rules, click=click, prior=prior)
    assert active.referrer_id == "JO"  # the same sources credit an active referrer

    lead_, click_, prior_ = without_inactive(lead, click, prior, {"JO"})
    decision = decide(lead_, rules=rules, click=click_, prior=prior_)
    assert decision.referrer_id is None
    assert not any(e.accepted and e.referrer_id == "JO" for e in decision.evidence)
    assert "referrer_inactive" in {e.reason for e in decision.evidence}
    assert lead["referrer_id"] == "JO" and (click is None or click["referrer_id"] == "JO")  # inputs untouched


def test_another_referrers_sources_still_count():
    other = {**CLICK, "referrer_id": "AL", "code": "AL-CODE"}
    lead_, click_, prior_ = without_inactive(LEAD, other, PRIOR, {"JO"})
    decision = decide(lead_, rules=attribution_rules(None), click=click_, prior=prior_)
    assert decision.referrer_id == "AL"
