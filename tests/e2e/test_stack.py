"""The real local stack over HTTP: routes, authorizer, stream -> email, local tools."""

from __future__ import annotations

import uuid

import pytest

from local.template import load_template
from local.testing import StackProcess

pytestmark = pytest.mark.e2e


def test_health_and_local_files(stack: StackProcess) -> None:
    assert stack.request("GET", "/_local/health").json() == {"ok": True}
    assert stack.webhook_secret.startswith("whsec_")
    assert stack.staff_token.count(".") == 2
    assert stack.viewer_token.count(".") == 2
    assert (stack.local_dir / "pepper").read_text() not in ("", "change-me-before-first-use")


def test_every_template_route_is_served(stack: StackProcess) -> None:
    template = load_template()
    served = {(r["route_key"], r["function"]) for r in stack.info()["routes"]}
    assert served == {(r.route_key, r.function_id) for r in template.routes()}
    consumers = stack.request("GET", "/_local/streams").json()["consumers"]
    assert {(c["function"], c["event"]) for c in consumers} == {
        (t.function_id, t.event_id) for t in [*template.stream_triggers(), *template.queue_triggers()]
    }


def test_unknown_route_is_404_like_api_gateway(stack: StackProcess) -> None:
    response = stack.request("GET", "/no/such/route")
    assert response.status == 404
    assert response.json() == {"message": "Not Found"}


@pytest.mark.parametrize(
    "headers",
    [{}, {"authorization": "Bearer not-a-jwt"}, {"authorization": "Bearer a.b.c"}],
    ids=["missing", "garbage", "malformed"],
)
def test_staff_routes_need_a_valid_token(stack: StackProcess, headers: dict[str, str]) -> None:
    body = {"name": "X", "email": "x@example.com"}
    response = stack.request("POST", "/admin/referrers", body=body, headers=headers)
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


def test_non_staff_token_passes_the_authorizer_but_not_the_group_check(stack: StackProcess) -> None:
    response = stack.request(
        "POST",
        "/admin/referrers",
        body={"name": "Vee", "email": "vee@example.com"},
        headers={"authorization": f"Bearer {stack.viewer_token}"},
    )
    assert response.status == 403


def test_staff_creates_referrer_then_the_stream_sends_the_welcome_email(stack: StackProcess) -> None:
    # Given a new referrer created by staff
    email = f"e2e-{uuid.uuid4().hex[:8]}@example.com"
    created = stack.request(
        "POST",
        "/admin/referrers",
        body={"name": "Ann Example", "email": email},
        headers={"authorization": f"Bearer {stack.staff_token}"},
    )
    assert created.status == 201, created.body
    code = created.json()["code"]
    # When the stream consumers have caught up
    stack.drain()
    # Then the welcome email is the newest in the outbox and the link redirects
    mails = [m for m in stack.outbox() if email in m["to"]]
    assert len(mails) == 1
    assert code in (mails[0]["text"] or "") + (mails[0]["html"] or "")
    redirect = stack.request("GET", f"/r/{code}")
    assert redirect.status == 302
    assert f"ref={code}" in redirect.headers["location"]


def test_tick_runs_scheduled_functions(stack: StackProcess) -> None:
    ran = stack.tick()
    functions = load_template().functions.values()
    scheduled = {f.logical_id for f in functions if any(s.enabled for s in f.schedules)}
    assert {r["function"] for r in ran} == scheduled
    assert all(r["ok"] for r in ran)
