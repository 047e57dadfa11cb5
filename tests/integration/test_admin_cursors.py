"""Every staff list that pages: a garbled, forged or foreign cursor is 400 naming ``cursor`` (dal.cursors),
never a DynamoDB ValidationException (500) or a page of another partition."""

from __future__ import annotations

import pytest

from referral_core.dal.applications import QUEUE_GSI
from referral_core.dal.cursors import encode_cursor
from referral_core.dal.disputes import disputes_gsi
from referral_core.dal.keys import REFERRER_DIRECTORY_GSI
from referral_core.dal.program import PROGRAM_PK
from referral_core.dal.referrals import review_gsi
from referral_core.dal.reports import ALL_STATS_GSI
from referral_core.dal.withdrawals import withdrawals_by_status_gsi
from tests.support.events import ADMIN_CLAIMS, http_event, json_body

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"


def gsi(name, partition, sort="2026-11-20T00:00:00.000000Z#x"):
    return {"pk": "LEAD#x", "sk": "REFERRAL", f"{name}pk": partition, f"{name}sk": sort}


#: (path, query, a cursor of this list's own partition, the same cursor moved to another partition)
LISTS = [
    ("/admin/withdrawals", {"status": "requested"},
     gsi("gsi1", withdrawals_by_status_gsi("requested")), gsi("gsi1", withdrawals_by_status_gsi("paid"))),
    ("/admin/program/versions", {}, {"pk": PROGRAM_PK, "sk": "VERSION#0000000003"},
     {"pk": "REFERRER#someone", "sk": "VERSION#0000000003"}),
    ("/admin/referrers", {}, gsi("gsi2", REFERRER_DIRECTORY_GSI, "jo smith#1"),
     gsi("gsi2", "REFERRER#someone#REFERRALS", "jo smith#1")),
    ("/admin/reports/funnel", {}, gsi("gsi1", ALL_STATS_GSI, "ABC2345"), gsi("gsi1", "STATS#other", "ABC2345")),
    ("/admin/disputes", {"status": "open"}, gsi("gsi1", disputes_gsi("open")), gsi("gsi1", disputes_gsi("resolved"))),
    ("/admin/reviews", {"status": "open"}, gsi("gsi2", review_gsi("open")), gsi("gsi2", review_gsi("deferred"))),
    ("/admin/applications", {}, gsi("gsi1", QUEUE_GSI), gsi("gsi1", "APPLICATIONS#DECIDED")),
]
GARBLED = ["not-a-cursor!", "e30", "bnVsbA", "eyJwayI6IDF9", "x" * 2049]


def get(stack, path, query):
    return stack.invoke(ADMIN, http_event("GET", path, query=query, claims=ADMIN_CLAIMS))


def refused(response):
    return response["statusCode"] == 400 and set(json_body(response)["error"]["fields"]) == {"cursor"}


@pytest.mark.parametrize(("path", "query", "own", "foreign"), LISTS, ids=[row[0] for row in LISTS])
def test_a_forged_or_garbled_cursor_is_400_and_its_own_is_read(stack, path, query, own, foreign):
    # A cursor of this list's partition is accepted (a page after it, empty here)
    assert get(stack, path, {**query, "cursor": encode_cursor(own)})["statusCode"] == 200
    # Moved to another partition, missing a key attribute, or with a number for a key: refused
    assert refused(get(stack, path, {**query, "cursor": encode_cursor(foreign)}))
    assert refused(get(stack, path, {**query, "cursor": encode_cursor({k: own[k] for k in ("pk", "sk")}
                                                                      if len(own) > 2 else {"pk": own["pk"]})}))
    assert refused(get(stack, path, {**query, "cursor": encode_cursor({**own, "sk": 7})}))
    for garbled in GARBLED:
        assert refused(get(stack, path, {**query, "cursor": garbled})), garbled


def test_a_program_cursor_outside_the_versions_is_400(stack):
    # pk PROGRAM is the right partition, but CURRENT is outside begins_with(sk, VERSION#): DynamoDB would
    # refuse that start key with a ValidationException
    assert refused(get(stack, "/admin/program/versions", {"cursor": encode_cursor({"pk": PROGRAM_PK,
                                                                                   "sk": "CURRENT"})}))
