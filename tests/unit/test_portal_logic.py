"""Referrer portal and stage notification logic with in-memory fakes (no AWS)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from referral_core.errors import Unauthorized
from referral_core.hashing import email_hash
from referral_core.services import auth_links
from referral_core.services.notifications import StageNotifier, on_referral_changed, send_due_digests, stage_change
from referral_core.services.portal import referral_view

pytestmark = pytest.mark.unit

KEY = "unit-test-signing-key-" + "k" * 32
LIMITS = auth_links.SignInLimits(window_seconds=900, max_per_email=5, max_per_ip=20, response_floor_seconds=0.25)


class FakeSessions:
    def __init__(self, referrers: dict[str, dict[str, Any]]) -> None:
        self.referrers = referrers  # by email hash
        self.links: list[Any] = []
        self.hits: dict[tuple[str, str], int] = {}

    def count_hit(self, window: Any) -> int:
        key = (window.scope, window.key)
        self.hits[key] = self.hits.get(key, 0) + 1
        return self.hits[key]

    def referrer_by_email_hash(self, email_hash: str) -> dict[str, Any] | None:
        return self.referrers.get(email_hash)

    def save_magic_link(self, link: Any) -> None:
        self.links.append(link)


@pytest.mark.parametrize("known", [True, False])
def test_magic_link_answers_no_sooner_than_the_floor_either_way(known):
    referrer = {"referrer_id": "r1", "email": "jo@example.com", "name": "Jo", "status": "active"}
    repo = FakeSessions({email_hash("p", "jo@example.com"): referrer} if known else {})
    sent, slept = [], []

    auth_links.request_magic_link(repo, "jo@example.com", pepper="p", source_ip="203.0.113.1",  # type: ignore[arg-type]
                                  origin="https://refer.example.com/", limits=LIMITS, send=sent.append,
                                  sleep=slept.append)

    assert len(slept) == 1 and 0 < slept[0] <= 0.25
    assert len(sent) == len(repo.links) == (1 if known else 0)
    assert sorted(scope for scope, _ in repo.hits) == ["signin-email", "signin-ip"]  # counted either way
    assert ("signin-email", email_hash("p", "jo@example.com")) in repo.hits
    if known:
        assert "https://refer.example.com/dashboard#token=" in sent[0].text
        assert repo.links[0].token_hash not in sent[0].text


def test_session_tokens_round_trip_and_audiences_do_not_mix():
    class OneLink:
        def consume_magic_link(self, token_hash: str, *, now_epoch: int, at: str) -> str | None:
            return "r1" if token_hash == auth_links.token_hash("good-token") else None

    class Referrers:
        def get(self, referrer_id: str) -> dict[str, Any]:
            return {"referrer_id": referrer_id, "status": "active"}

    session = auth_links.open_session(OneLink(), Referrers(), "good-token", signing_key=KEY)  # type: ignore[arg-type]
    assert auth_links.session_referrer_id(f"Bearer {session.session_token}", signing_key=KEY) == "r1"
    with pytest.raises(Unauthorized):
        auth_links.open_session(OneLink(), Referrers(), "other-token", signing_key=KEY)  # type: ignore[arg-type]
    opt_out = auth_links.opt_out_token("r1", signing_key=KEY)
    with pytest.raises(Unauthorized):
        auth_links.session_referrer_id(f"Bearer {opt_out}", signing_key=KEY)


@pytest.mark.parametrize(("old", "new", "expected"), [
    (None, {"stage": "received"}, (None, "received")),
    ({"stage": "received"}, {"stage": "job_booked"}, ("received", "job_booked")),
    ({"stage": "job_booked"}, {"stage": "job_booked", "job_id": "j2"}, None),
    ({}, {"review_status": "open"}, None),  # a flag written before attribution: no stage yet
])
def test_stage_change_compares_the_images(old, new, expected):
    assert stage_change(old, new) == expected


class FakeLog:
    def __init__(self) -> None:
        self.claimed: set[str] = set()

    def claim(self, key: str) -> bool:
        if key in self.claimed:
            return False
        self.claimed.add(key)
        return True

    def release(self, key: str) -> None:
        self.claimed.discard(key)


class FakeLimit:
    def __init__(self, sent_before: int = 0, maximum: int = 4) -> None:
        self.sent, self.maximum = sent_before, maximum

    def max_per_hour(self, default: int) -> int:
        return self.maximum

    def count(self, referrer_id: str) -> tuple[int, str]:
        self.sent += 1
        return self.sent, "2026-11-23T11:00:00.000000Z"


class FakeDigests:
    def __init__(self, fail: bool = False) -> None:
        self.added: list[tuple[str, dict[str, Any], str]] = []
        self.fail = fail

    def add(self, referrer_id: str, entry: dict[str, Any], *, due_at: str) -> None:
        if self.fail:
            raise RuntimeError("DynamoDB is down")
        self.added.append((referrer_id, entry, due_at))


def notifier(log: FakeLog, calls: list[str], *, fail_email: bool = False, limit: FakeLimit | None = None,
             digests: FakeDigests | None = None) -> StageNotifier:
    def send(email: Any) -> None:
        calls.append("email")
        if fail_email:
            raise RuntimeError("SES is down")

    class Referrers:
        def get(self, referrer_id: str) -> dict[str, Any]:
            return {"referrer_id": referrer_id, "email": "jo@example.com", "name": "Jo", "origin": "https://x"}

    return StageNotifier(referrers=Referrers(), log=log, send=send,  # type: ignore[arg-type]
                         publish=lambda kind, detail: calls.append("event"), opt_out_url=lambda r: "https://x/o",
                         limit=limit or FakeLimit(), digests=digests or FakeDigests())  # type: ignore[arg-type]


REFERRAL = {"pk": "LEAD#l1", "sk": "REFERRAL", "type": "referral", "lead_id": "l1", "referrer_id": "r1",
            "stage": "job_booked", "masked_name": "Sa L.", "postcode": "2000"}


def test_past_the_hourly_limit_the_change_waits_for_the_digest():
    log, calls, digests = FakeLog(), [], FakeDigests()
    outcome = on_referral_changed({"stage": "received"}, REFERRAL,
                                  notifier(log, calls, limit=FakeLimit(sent_before=4), digests=digests))
    assert outcome == "queued_for_digest"
    assert calls == ["event"]  # the event is never held back; no email now
    assert digests.added == [("r1", {"lead_id": "l1", "stage": "job_booked", "masked_name": "Sa L.",
                                     "postcode": "2000", "at": digests.added[0][1]["at"]},
                              "2026-11-23T11:00:00.000000Z")]
    assert log.claimed == {"stage#l1#job_booked"}


def test_a_failed_queueing_gives_the_marker_back():
    log = FakeLog()
    with pytest.raises(RuntimeError):
        on_referral_changed({"stage": "received"}, REFERRAL,
                            notifier(log, [], limit=FakeLimit(sent_before=9), digests=FakeDigests(fail=True)))
    assert log.claimed == set()  # the stream retry queues it (no stage lost)


def test_the_event_goes_before_the_email_and_a_failed_email_gives_the_marker_back():
    log, calls = FakeLog(), []
    with pytest.raises(RuntimeError):
        on_referral_changed({"stage": "received"}, REFERRAL, notifier(log, calls, fail_email=True))
    assert calls == ["event", "email"]
    assert log.claimed == set()  # the retry may send

    calls.clear()
    assert on_referral_changed({"stage": "received"}, REFERRAL, notifier(log, calls)) == "sent"
    assert on_referral_changed({"stage": "received"}, REFERRAL, notifier(log, calls)) == "already_notified"
    assert calls == ["event", "email"]


def test_referral_view_keeps_only_what_a_referrer_may_see():
    item = {**REFERRAL, "email_hash": "h", "evidence": {"click": "c"}, "flag_types": {"self_referral"},
            "review_status": "open", "created_at": "2026-11-23T09:00:00Z"}
    view = referral_view(item).model_dump()
    assert set(view) == {"referral_id", "masked_name", "suburb", "postcode", "stage", "stage_label", "reason",
                         "reason_label", "created_at", "updated_at"}
    assert view["updated_at"] == view["created_at"]


class FakeQueue:
    """A digest queue with one due referrer and two entries (docs/portal.md, "Stage email digest")."""

    def __init__(self) -> None:
        self.items = [{"pk": "DIGEST#r1", "sk": f"STAGE#l{i}#received", "lead_id": f"l{i}", "stage": "received",
                       "masked_name": "Sa L.", "postcode": "2000", "at": f"2026-11-23T10:0{i}:00.000000Z"}
                      for i in range(2)]
        self.calls: list[str] = []

    def due(self, now: str) -> list[dict[str, Any]]:
        return [{"referrer_id": "r1"}] if self.items else []

    def entries(self, referrer_id: str) -> list[dict[str, Any]]:
        return [dict(item) for item in self.items]

    def claim(self, entries: list[dict[str, Any]], digest_id: str, *, at: str) -> bool:
        self.calls.append("claim")
        return True

    def unclaim(self, entries: list[dict[str, Any]]) -> None:
        self.calls.append("unclaim")

    def finish(self, referrer_id: str, entries: list[dict[str, Any]]) -> None:
        self.calls.append("finish")
        self.items = [i for i in self.items if i["sk"] not in {e["sk"] for e in entries}]


class OneReferrer:
    def get(self, referrer_id: str) -> dict[str, Any]:
        return {"referrer_id": referrer_id, "email": "jo@example.com", "name": "Jo Smith", "origin": "https://x"}


def test_a_failed_digest_gives_its_entries_back_and_the_next_run_sends_them_once():
    queue, sent = FakeQueue(), []

    def failing(email: Any) -> None:
        raise RuntimeError("SES is down")

    counts = send_due_digests(queue, OneReferrer(), failing, opt_out_url=lambda r: "https://x/o")  # type: ignore[arg-type]
    assert counts == {"sent": 0, "dropped": 0, "failed": 1}
    assert queue.calls == ["claim", "unclaim"] and len(queue.items) == 2  # kept for the next run

    counts = send_due_digests(queue, OneReferrer(), sent.append, opt_out_url=lambda r: "https://x/o")  # type: ignore[arg-type]
    assert counts == {"sent": 1, "dropped": 0, "failed": 0}
    [email] = sent
    assert email.subject == "Referral updates: 2 updates"
    assert email.text.count("Sa L. (2000) asked for help") == 2
    assert "https://x/dashboard" in email.text and "https://x/o" in email.text  # links in the text part
    assert queue.items == []


@pytest.mark.parametrize("status", ["suspended", "erased"])
def test_an_inactive_referrer_gets_the_event_only(status):
    log, calls, digests = FakeLog(), [], FakeDigests()
    stage_notifier = notifier(log, calls, limit=FakeLimit(sent_before=9), digests=digests)
    inactive = dataclasses.replace(stage_notifier, referrers=type("R", (), {"get": lambda self, rid: {
        "referrer_id": rid, "email": "[erased]" if status == "erased" else "jo@example.com", "status": status}})())
    assert on_referral_changed({"stage": "received"}, REFERRAL, inactive) == "event_only_inactive"
    assert calls == ["event"] and digests.added == []  # neither an email nor a digest entry
