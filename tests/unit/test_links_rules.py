"""Pure rules of share codes, landing URLs, QR images, bots and click aggregation: no AWS."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from referral_core.dal.links import CountedClick, stats_update
from referral_core.errors import InvalidInput
from referral_core.origin import request_origin
from referral_core.placements import known_placement
from referral_core.services.click_counts import UnreadableClick, click_event, group_by_stats_key
from referral_core.services.landing import landing_problem
from referral_core.services.qr import qr_png, qr_svg, qr_target
from referral_core.services.redirect import CodeCache, is_bot
from referral_core.services.share_codes import custom_code_problem, share_message
from referral_core.zones import zone_allows

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    ("zones", "postcode", "allowed"),
    [
        ([], "9999", True),  # no zone lock
        ([], None, True),
        (["2000", "2010"], "2010", True),
        (["2000", "2010"], "2011", False),
        (["2000"], None, False),  # a zoned code needs a postcode
        (["2000"], "", False),
        (["2000"], " 2000 ", True),
        (["21*"], "2150", True),
        (["21*"], "2250", False),
        (["2200-2234"], "2234", True),
        (["2200-2234"], "2235", False),
        (["2200-2234"], "22AB", False),
        (["2200-2234"], "22000", False),  # different length: not in the range
        (["SW1A"], "sw1a", True),  # alphanumeric postcodes, case-insensitive
        (["SW*"], "SW1A 1AA", True),
        (["2000", "30*"], "3052", True),
        ([" 2000 "], "2000", True),  # stored before zones were cleaned on write
    ],
)
def test_zone_rule(zones, postcode, allowed):
    assert zone_allows({"zones": zones}, postcode) is allowed


@pytest.mark.parametrize(
    ("code", "problem"),
    [("VAN-JO", None), ("ABCD", None), ("A" * 20, None), ("ABC", "must be 4 to 20 characters"),
     ("A" * 21, "must be 4 to 20 characters"), ("-ABCD", "may contain"), ("AB_CD", "may contain"),
     ("ADMIN", "is a reserved word"), ("QUICK-HELP", "is a reserved word")],
)
def test_custom_codes(code, problem):
    found = custom_code_problem(code)
    assert found == problem if problem is None else (found or "").startswith(problem)


ALLOWED = ("www.example.com", "shop.example.com:8443")


@pytest.mark.parametrize(
    ("url", "ok"),
    [
        ("https://www.example.com/x?y=1", True),
        ("https://WWW.EXAMPLE.COM/", True),
        ("https://www.example.com:443/", True),
        ("https://shop.example.com:8443/", True),
        ("https://refer.example.org/quick-help", True),  # the API's own host
        ("http://127.0.0.1:3000/quick-help", False),  # not the own host here, and http
        ("http://localhost/x", False),  # loopback may use http, but must still be allowed
        ("https://shop.example.com/", False),
        ("http://www.example.com/", False),
        ("//www.example.com/", False),
        ("https://user:pw@www.example.com/", False),
        ("https://www.example.com@evil.example/", False),
        ("https://evil.example\\.www.example.com/", False),
        ("https://%77ww.example.com/", False),
        ("https:%2F%2Fwww.example.com", False),
        ("javascript://www.example.com/%0aalert(1)", False),
        ("https://www.example.com/\r\nSet-Cookie:x", False),
        ("https://www.example.com:0x1bb/", False),
        ("https://" + "a" * 2050, False),
        # credentials: a share link must never sign its visitors in (issue 16, item 7)
        ("https://refer.example.org/dashboard?token=abc", False),
        ("https://refer.example.org/dashboard#token=abc", False),
        ("https://refer.example.org/dashboard?x=1&%74oken=abc", False),
        ("https://refer.example.org/dashboard?TOKEN=abc", False),
        ("https://www.example.com/cb?code_verifier=v&state=s", False),
        ("https://www.example.com/cb?session_id=s", False),
        ("https://www.example.com/cb?access-token=s", False),
        ("https://www.example.com/cb?code=s", False),
        ("https://www.example.com/help?lang=en&utm_source=van#top", True),
    ],
)
def test_landing_rules(url, ok):
    assert (landing_problem(url, allowed_hosts=ALLOWED, own_host="refer.example.org") is None) is ok


def test_loopback_landing_may_use_http_when_it_is_the_own_host():
    assert landing_problem("http://127.0.0.1:3000/q", allowed_hosts=(), own_host="127.0.0.1:3000") is None
    problem = landing_problem("http://10.0.0.1:3000/q", allowed_hosts=(), own_host="10.0.0.1:3000")
    assert problem == "must use https"


def test_share_message_is_honest():
    message = share_message("https://r.example/r/VAN-JO", "VAN-JO")
    assert "https://r.example/r/VAN-JO" in message
    assert "VAN-JO" in message
    assert "not guaranteed" in message
    assert "No pressure" in message


def test_qr_images_and_their_bounds():
    target = qr_target("https://r.example/", "VAN-JO", "van")
    assert target == "https://r.example/r/VAN-JO?src=qr&p=van"
    assert qr_png(target)[:8] == b"\x89PNG\r\n\x1a\n"
    small, large = qr_png(target, box_size=2), qr_png(target, box_size=20)
    assert len(small) < len(large)
    assert qr_svg(target, border=1).lstrip().startswith(("<?xml", "<svg"))
    with pytest.raises(InvalidInput) as err:
        qr_png(target, box_size=41)
    assert err.value.fields == {"size": "must be between 1 and 40"}
    with pytest.raises(InvalidInput):
        qr_svg(target, border=0)


@pytest.mark.parametrize(
    ("agent", "bot"),
    [("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) Safari/604.1", False),
     ("Mozilla/5.0 (Linux; Android 14) Chrome/120.0 Mobile Safari/537.36", False),
     ("WhatsApp/2.23.20.0 A", True), ("Google-InspectionTool/1.0", True), ("GoogleOther", True),
     ("Mozilla/5.0 (compatible; bingbot/2.0)", True), ("python-requests/2.32", True), ("   ", True)],
)
def test_bot_detection(agent, bot):
    assert is_bot(agent) is bot


def test_placements_are_a_closed_list():
    assert known_placement("Yard_Sign") == "yard_sign"
    assert known_placement("https://evil") is None
    assert known_placement(None) is None


CLICK = {"type": "click", "code": "VAN-JO", "click_id": "c1", "clicked_epoch": 100, "src": "qr",
         "placement": "van"}


def test_which_stream_records_are_clicks():
    assert click_event("INSERT", CLICK, None) is not None
    assert click_event("MODIFY", CLICK, CLICK) is None  # no-op write
    assert click_event("MODIFY", {**CLICK, "clicked_epoch": 4000}, CLICK) is not None  # back after an hour
    assert click_event("REMOVE", CLICK, None) is None  # TTL
    assert click_event("INSERT", {**CLICK, "type": "click_counted"}, None) is None
    with pytest.raises(UnreadableClick):
        click_event("INSERT", {**CLICK, "src": "email"}, None)


def test_a_batch_groups_by_code_and_placement():
    events = [click_event("INSERT", {**CLICK, "click_id": f"c{i}", "placement": p}, None)
              for i, p in enumerate(["van", "van", "flyer"])]
    groups = group_by_stats_key((e, i) for i, e in enumerate(events) if e)
    assert {k: [i for _, i in v] for k, v in groups.items()} == {("VAN-JO", "van"): [0, 1],
                                                                ("VAN-JO", "flyer"): [2]}
    assert groups[("VAN-JO", "van")][0][0].click == CountedClick("c0", 100, "qr")


def test_stats_update_names_only_known_counters():
    update = stats_update("VAN-JO", "", leads=1, jobs=0)
    assert update.key == {"pk": "STATS#VAN-JO", "sk": "PLACEMENT#-"}
    assert "ADD #leads :leads" in update.expression
    assert "jobs" not in update.expression
    with pytest.raises(ValueError, match="unknown"):
        stats_update("VAN-JO", "van", likes=1)


def test_request_origin_only_trusts_http_or_https():
    event = {"requestContext": {"domainName": "abc.execute-api.example"},
             "headers": {"x-forwarded-proto": "javascript"}}
    assert request_origin(event, "") == "https://abc.execute-api.example"
    assert request_origin({**event, "headers": {"x-forwarded-proto": "http"}}, "") == \
        "http://abc.execute-api.example"
    assert request_origin(event, "https://refer.example.com/") == "https://refer.example.com"


def test_the_code_cache_reads_a_found_code_once_per_ttl():
    now = [0.0]
    reads: list[str] = []
    items = {"VAN-JO": {"code": "VAN-JO"}}

    def load(code):
        reads.append(code)
        return items.get(code)

    cache = CodeCache(30, clock=lambda: now[0])
    assert cache.get("VAN-JO", load) == {"code": "VAN-JO"}
    assert cache.get("VAN-JO", load) == {"code": "VAN-JO"}
    assert cache.get("NOPE", load) is None
    assert cache.get("NOPE", load) is None  # misses are not cached: a new code works at once
    now[0] = 30.0
    cache.get("VAN-JO", load)
    assert reads == ["VAN-JO", "NOPE", "NOPE", "VAN-JO"]
    off = CodeCache(0, clock=lambda: now[0])
    off.get("VAN-JO", load)
    off.get("VAN-JO", load)
    assert reads[-2:] == ["VAN-JO", "VAN-JO"]


def test_the_redirect_cold_path_imports_no_pydantic_powertools_or_xray():
    root = Path(__file__).resolve().parents[2]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(root / "functions" / "link_redirect"),
                                                         str(root / "shared")])}
    probe = ("import sys, link_redirect; print(sorted({m.split('.')[0] for m in sys.modules} & "
             "{'pydantic', 'aws_lambda_powertools', 'aws_xray_sdk', 'qrcode'}))")
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
