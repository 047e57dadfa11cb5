"""GET /r/{code} hardening and the count_clicks stream consumer, in-process on moto."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from referral_core.dal.dynamo import Table
from tests.support.events import json_body, load_event, stream_record
from tests.support.links import BROWSER, COUNT, click_records, count, create_code, new_referrer, redirect

pytestmark = pytest.mark.integration


@pytest.fixture
def code(stack):
    stack.env["ALLOWED_REDIRECT_HOSTS"] = "www.example.com"
    stack.monkeypatch.setenv("ALLOWED_REDIRECT_HOSTS", "www.example.com")
    created = create_code(stack, new_referrer(stack), landing_url="https://www.example.com/help?lang=en")
    return json_body(created)["code"]


def stats(stack, code):
    return {i["placement"]: i for i in stack.items_of_type("code_stats") if i["code"] == code}


def uses(stack, code):
    return next(i for i in stack.items_of_type("share_code") if i["code"] == code).get("uses")


# -- redirect --------------------------------------------------------------------------------------
def test_redirect_goes_to_the_stored_landing_with_only_ref_and_cid(stack, code):
    response = redirect(stack, code, scenario="link_redirect/get_with_next_param.json")

    assert response["statusCode"] == 302
    location = urlsplit(response["headers"]["Location"])
    assert (location.scheme, location.netloc, location.path) == ("https", "www.example.com", "/help")
    query = parse_qs(location.query)
    assert set(query) == {"lang", "ref", "cid"}
    assert query["ref"] == [code]
    assert "evil" not in response["headers"]["Location"]
    assert response["headers"]["Cache-Control"] == "private, no-store"
    assert response["headers"]["X-Robots-Tag"] == "noindex, nofollow"
    assert response["body"] == ""
    # the bogus ?p= did not become a placement
    assert stack.items_of_type("click")[0]["placement"] == "van"


def test_a_landing_edited_out_of_the_allow_list_falls_back_to_quick_help(stack, code):
    Table(stack.table_name).update(f"CODE#{code}", "CODE", "SET landing_url = :u",
                                   values={":u": "https://evil.example/phish"})
    location = urlsplit(redirect(stack, code)["headers"]["Location"])
    assert (location.netloc, location.path) == ("127.0.0.1:3000", "/quick-help")


def test_spoofed_host_headers_do_not_move_the_fallback_landing(stack):
    new_referrer(stack)
    personal = stack.items_of_type("share_code")[0]["code"]
    event = load_event("link_redirect/get_share_link.json")
    event["rawPath"] = event["requestContext"]["http"]["path"] = f"/r/{personal}"
    event["pathParameters"] = {"code": personal}
    event["headers"].update({"host": "evil.example", "x-forwarded-host": "evil.example",
                             "x-forwarded-proto": "javascript"})
    location = urlsplit(stack.invoke("LinkRedirectFunction", event)["headers"]["Location"])
    assert (location.scheme, location.netloc) == ("http", "127.0.0.1:3000")  # PUBLIC_BASE_URL


@pytest.mark.parametrize(
    "user_agent",
    [
        "WhatsApp/2.23.20.0 A",
        "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
        "facebookexternalhit/1.1 Facebot Twitterbot/1.0",  # iMessage
        "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
        "Twitterbot/1.0",
        "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
        "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
        "TelegramBot (like TwitterBot)",
        "LinkedInBot/1.0",
        "Mozilla/5.0 (Windows NT 6.1; WOW64) SkypeUriPreview Preview/0.5",
        "curl/8.4.0",
        "",
    ],
)
def test_bots_and_link_previews_get_the_redirect_but_are_not_counted(stack, code, user_agent):
    response = redirect(stack, code, user_agent=user_agent)
    assert response["statusCode"] == 302
    assert stack.items_of_type("click") == []


def test_head_is_redirected_but_not_counted(stack, code):
    response = redirect(stack, code, scenario="link_redirect/head_link_preview.json", user_agent=BROWSER)
    assert response["statusCode"] == 302
    assert stack.items_of_type("click") == []


def test_repeat_clicks_count_once_within_the_hour_and_again_after(stack, code):
    first = redirect(stack, code)
    redirect(stack, code)
    clicks = stack.items_of_type("click")
    assert len(clicks) == 1
    assert "203.0.113.7" not in str(clicks[0])  # never the raw IP
    assert clicks[0]["expiration"] - clicks[0]["clicked_epoch"] == 120 * 86400  # ClickTtlDays

    # Given the stored visit is more than an hour old
    table = Table(stack.table_name)
    table.update(clicks[0]["pk"], "CLICK", "SET clicked_epoch = clicked_epoch - :h", values={":h": 3601})
    before = stack.items_of_type("click")[0]
    # When the same visitor comes back
    again = redirect(stack, code)
    after = stack.items_of_type("click")[0]
    # Then it counts again: same click id, new clicked_epoch (a MODIFY the counter will count)
    assert again["headers"]["Location"] == first["headers"]["Location"]
    assert after["clicked_epoch"] > before["clicked_epoch"]
    # and another visitor is another click
    redirect(stack, code, source_ip="198.51.100.9")
    assert len(stack.items_of_type("click")) == 2


def test_qr_scans_are_marked_with_their_placement(stack, code):
    redirect(stack, code, scenario="link_redirect/get_qr_scan.json", query={"src": "qr", "p": "FLYER"})
    click = stack.items_of_type("click")[0]
    assert (click["src"], click["placement"]) == ("qr", "flyer")


# -- count_clicks ----------------------------------------------------------------------------------
def test_a_batch_becomes_one_counter_update_per_code_and_placement(stack, code):
    redirect(stack, code, source_ip="198.51.100.1")
    redirect(stack, code, source_ip="198.51.100.2", query={"src": "qr", "p": "van"})
    redirect(stack, code, source_ip="198.51.100.3", query={"src": "qr", "p": "flyer"})
    records = click_records(stack.items_of_type("click"))

    assert count(stack, *records) == {"batchItemFailures": []}

    counters = stats(stack, code)
    assert {p: (s.get("clicks_link", 0), s.get("clicks_qr", 0)) for p, s in counters.items()} == {
        "van": (1, 1), "flyer": (0, 1)}
    assert counters["van"]["gsi1pk"] == "STATS"
    assert counters["van"]["gsi1sk"] == f"{code}#van"
    assert uses(stack, code) == 3


def test_a_replayed_batch_does_not_double_count(stack, code):
    redirect(stack, code, source_ip="198.51.100.1")
    redirect(stack, code, source_ip="198.51.100.2")
    records = click_records(stack.items_of_type("click"))

    count(stack, *records)
    assert count(stack, *records) == {"batchItemFailures": []}  # the whole batch again
    assert count(stack, records[1]) == {"batchItemFailures": []}  # and a partial retry

    assert stats(stack, code)["van"]["clicks_link"] == 2
    assert uses(stack, code) == 2


def test_a_return_after_the_hour_counts_and_a_no_op_modify_does_not(stack, code):
    redirect(stack, code)
    old = stack.items_of_type("click")[0]
    count(stack, *click_records([old]))
    returned = {**old, "clicked_epoch": old["clicked_epoch"] + 3700}

    count(stack, stream_record("MODIFY", new=old, old=old, sequence="2001"))  # no-op write
    count(stack, stream_record("MODIFY", new=returned, old=old, sequence="2002"))

    assert stats(stack, code)["van"]["clicks_link"] == 2


def test_scenario_events_count_and_replay(stack):
    # events/count_clicks/*.json: a QR scan on VAN-JO, then the same visitor again after the hour
    create_code(stack, new_referrer(stack))
    inserted = load_event("count_clicks/click_inserted.json")
    returned = load_event("count_clicks/click_returned_after_an_hour.json")
    for event in (inserted, returned, inserted, returned):
        assert stack.consume(COUNT, event) == {"batchItemFailures": []}
    assert stats(stack, "VAN-JO")["van"]["clicks_qr"] == 2


def test_a_poison_record_is_reported_alone(stack, code):
    redirect(stack, code, source_ip="198.51.100.1")
    redirect(stack, code, source_ip="198.51.100.2")
    good = stack.items_of_type("click")
    poison = {**good[0], "click_id": "p0is0n", "pk": "CLICK#p0is0n"}
    del poison["clicked_epoch"]
    records = [stream_record("INSERT", new=good[0], sequence="1"),
               stream_record("INSERT", new=poison, sequence="2"),
               stream_record("INSERT", new=good[1], sequence="3")]

    assert count(stack, *records) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert stats(stack, code)["van"]["clicks_link"] == 2


def test_a_failed_counter_write_fails_only_its_group(stack, code):
    redirect(stack, code, source_ip="198.51.100.1")
    good = stack.items_of_type("click")[0]
    orphan = {**good, "click_id": "orphan1", "pk": "CLICK#orphan1", "code": "GONE-1"}  # no such code
    records = [stream_record("INSERT", new=good, sequence="1"),
               stream_record("INSERT", new=orphan, sequence="2")]

    assert count(stack, *records) == {"batchItemFailures": [{"itemIdentifier": "2"}]}
    assert stats(stack, code)["van"]["clicks_link"] == 1
    assert "GONE-1" not in {i["code"] for i in stack.items_of_type("code_stats")}
