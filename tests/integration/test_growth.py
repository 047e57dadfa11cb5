"""Cost growth (bench/growth.py) at a small scale: a page of the review queue or of the funnel report reads as
many items at 2,000 referrals as at 200, and the bulk-seeded items are shaped like those the real flow writes.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from bench.growth import PROBES, Limits, checks, measure, referral_item, review_of, stats_items
from referral_core.dal.links import STATS_COUNTERS
from referral_core.stages import ReviewStatus
from tests.support.events import STAFF_CLAIMS, http_event, json_body
from tests.support.leads import lead_body, post_lead
from tests.support.links import redirect
from tests.support.stream_pump import StreamPump, consumers

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"


@pytest.mark.slow
def test_a_page_reads_as_many_items_at_2000_referrals_as_at_200():
    # Given one table grown from 200 to 2,000 referrals, read through the staff handler at each size
    growth = measure((200, 2_000), Limits(queue=5, funnel=10))

    # Then every check of the bench section holds
    assert [name for name, ok in checks(growth).items() if not ok] == []
    small, large = growth.readings[200], growth.readings[2_000]
    for probe in PROBES:
        if probe.bound is None:
            assert (large[probe.label].items_read, large[probe.label].calls) == \
                   (small[probe.label].items_read, small[probe.label].calls), probe.label
    # a page without a filter is one Query reading exactly the page
    first = large["review queue, first page"]
    assert (first.items_read, first.calls, dict(first.operations)) == (5, 1, {"Query": 1})
    assert (large["funnel report, one code"].items_read, large["funnel report, one code"].calls) == (2, 1)
    # a filter nothing matches reads the whole open queue (one referral in ten), never more than the budget
    assert large["review queue, flag filter nobody has (refund_hold)"].items_read == 200


def _shape(value: Any) -> Any:
    """Attribute names and value types, nested (a list by its first element)."""
    if isinstance(value, dict):
        return {k: _shape(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_shape(value[0])] if value else []
    return type(value).__name__


def _settle(pump: StreamPump) -> None:
    """Deliver the table's new stream records to every consumer until they write nothing more."""
    for _ in range(10):
        records = pump.new_records()
        if not records:
            return
        for trigger in consumers():
            pump.deliver(records, trigger)
    raise AssertionError("the stream consumers kept writing")


@pytest.mark.slow
def test_bulk_seeded_items_are_shaped_like_the_ones_the_real_flow_writes(stack):
    # Given referrals from the real flow: staff create a referrer, five friends follow the link and ask for
    # help (the last three with an email seen before: the duplicate check flags two), the stream consumers
    # attribute, check and count them, and staff accept one flagged referral and dismiss another
    pump = StreamPump(stack)
    created = stack.invoke(ADMIN, http_event("POST", "/admin/referrers", claims=STAFF_CLAIMS,
                                             body={"name": "Jo Smith", "email": "jo@example.com"}))
    code = json_body(created)["code"]
    lead_ids = []
    for n, email in enumerate(["first@customer.example"] + ["again@customer.example"] * 4):
        ip = f"198.51.100.{n + 1}"
        location = redirect(stack, code, source_ip=ip)["headers"]["Location"]
        cid = parse_qs(urlsplit(location).query)["cid"][0]
        response = post_lead(stack, lead_body(ref=code, cid=cid, email=email, phone=None), source_ip=ip)
        assert response["statusCode"] == 201, response["body"]
        lead_ids.append(json_body(response)["lead_id"])
        _settle(pump)
    for lead_id, decision in [(lead_ids[3], "accept"), (lead_ids[4], "dismiss")]:
        body = {"decision": decision, "note": "checked", "expected_version": 0}
        response = stack.invoke(ADMIN, http_event("POST", f"/admin/referrals/{lead_id}/decisions", body=body,
                                                  claims=STAFF_CLAIMS))
        assert response["statusCode"] == 200, response["body"]
    _settle(pump)
    real = {item["lead_id"]: item for item in stack.items_of_type("referral")}
    by_status = {None: real[lead_ids[0]], ReviewStatus.OPEN: real[lead_ids[2]],
                 ReviewStatus.ACCEPTED: real[lead_ids[3]], ReviewStatus.DISMISSED: real[lead_ids[4]]}
    assert real[lead_ids[2]]["review_status"] == "open"

    # Then every bulk-seeded referral has the attributes, and types, of the real one in its review status
    for row in range(20):
        status = review_of(row)[0]
        assert _shape(referral_item(row)) == _shape(by_status[status]), (row, status)

    # And the code_stats items those of the real counters (the counters the real flow has not reached yet
    # are absent there: ADD creates them)
    [real_stats] = stack.items_of_type("code_stats")
    for seeded in stats_items(code):
        counters = {k for k in seeded if k in STATS_COUNTERS}
        assert counters == set(STATS_COUNTERS)
        assert _shape({k: v for k, v in seeded.items() if k not in STATS_COUNTERS}) == \
               _shape({k: v for k, v in real_stats.items() if k not in STATS_COUNTERS})
        assert {type(seeded[k]) for k in counters} == {type(real_stats[k]) for k in real_stats if k in STATS_COUNTERS}
        assert (seeded["pk"], seeded["gsi1pk"]) == (real_stats["pk"], real_stats["gsi1pk"])
