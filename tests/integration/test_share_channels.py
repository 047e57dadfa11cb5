"""Share buttons: a link marked with its channel (``?src=whatsapp``) counts its clicks and the leads it
brings under the placement of that name, in the funnel report and the code's usage review."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.events import json_body
from tests.support.leads import lead_body, post_lead
from tests.support.links import admin, create_code, new_referrer, redirect
from tests.support.stream_pump import StreamPump

pytestmark = pytest.mark.integration


def test_each_share_link_carries_the_code_and_its_channel(stack):
    created = json_body(create_code(stack, new_referrer(stack), placement=None))
    links = {s["channel"]: s for s in created["share_links"]}
    assert list(links) == ["sms", "whatsapp", "email", "copy"]
    for channel, share in links.items():
        assert share["url"] == f"{created['url']}?src={channel}"
        assert share["url"] in share["message"]
        assert "eligible, not guaranteed" in share["message"]


@pytest.mark.parametrize("channel", ["sms", "whatsapp", "email", "copy"])
def test_a_share_link_click_is_placed_under_its_channel(stack, channel):
    code = json_body(create_code(stack, new_referrer(stack)))["code"]  # the scenario's code is placed on a van
    redirect(stack, code, query={"src": channel})
    [click] = stack.items_of_type("click")
    assert (click["src"], click["placement"]) == ("link", channel)


def test_an_unknown_src_is_an_ordinary_link_click(stack):
    code = json_body(create_code(stack, new_referrer(stack)))["code"]
    redirect(stack, code, query={"src": "WhatsApp<script>"})
    [click] = stack.items_of_type("click")
    assert (click["src"], click["placement"]) == ("link", "van")


def test_clicks_and_leads_per_channel_in_the_funnel_and_the_usage_review(stack):
    pump = StreamPump(stack)
    code = json_body(create_code(stack, new_referrer(stack), placement=None))["code"]
    pump.new_records()
    # Given two friends open the WhatsApp link and one the SMS link
    for ip, channel in (("198.51.100.1", "whatsapp"), ("198.51.100.2", "whatsapp"), ("198.51.100.3", "sms")):
        redirect(stack, code, query={"src": channel}, source_ip=ip)
    # and one of the WhatsApp visitors asks for help from the page the link landed on
    location = redirect(stack, code, query={"src": "whatsapp"}, source_ip="198.51.100.1")["headers"]["Location"]
    carried = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    assert post_lead(stack, lead_body(ref=carried["ref"], cid=carried["cid"]))["statusCode"] == 201
    pump.drain()

    report = json_body(admin(stack, "GET", "/admin/reports/funnel", query={"code": code}))
    rows = {row["placement"]: row for row in report["rows"]}
    assert (rows["whatsapp"]["clicks_link"], rows["whatsapp"]["leads"]) == (2, 1)
    assert (rows["sms"]["clicks_link"], rows["sms"]["leads"]) == (1, 0)
    usage = json_body(admin(stack, "GET", f"/admin/share-codes/{code}"))
    per_channel = {p["placement"]: (p["clicks_link"], p["leads"]) for p in usage["placements"]}
    assert per_channel == {"whatsapp": (2, 1), "sms": (1, 0)}
