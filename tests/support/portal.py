"""Helpers for the referrer portal tests: the session signing secret, referrers, signed-in requests and
referral items shaped like the ones attribution writes (docs/data-model.md)."""

from __future__ import annotations

import copy
import json
import re
from typing import Any

import boto3
import pytest

from referral_core.contacts import mask_name
from referral_core.dal.dynamo import Table
from referral_core.stages import RANK, Stage
from tests.support.aws import REGION, Stack, template
from tests.support.events import STAFF_CLAIMS, http_event, json_body, load_event

PORTAL = "ReferrerPortalFunction"
NOTIFY = "notify_status"
ADMIN = "StaffAdminFunction"
SIGNING_KEY = "test-session-signing-key-" + "x" * 40


@pytest.fixture
def portal_stack(stack: Stack) -> Stack:
    """The moto stack plus the session signing secret (named as the template's ARN resolves locally).

    The sign-in response-time floor is switched off to keep the suite fast; a unit test covers it.
    """
    stack.env["SIGNIN_RESPONSE_FLOOR_MS"] = "0"
    stack.monkeypatch.setenv("SIGNIN_RESPONSE_FLOOR_MS", "0")
    create_session_secret()
    return stack


def create_session_secret() -> None:
    """The session signing secret (sessions, opt-out links), named as the template's ARN resolves locally."""
    arn = template().functions[PORTAL].env["SESSION_SECRET_ARN"]
    boto3.client("secretsmanager", region_name=REGION).create_secret(Name=arn.rsplit(":", 1)[-1],
                                                                     SecretString=SIGNING_KEY)


def create_referrer(stack: Stack, name: str = "Jo Smith", email: str = "jo@example.com") -> dict[str, Any]:
    response = stack.invoke(ADMIN, http_event("POST", "/admin/referrers", body={"name": name, "email": email},
                                              claims=STAFF_CLAIMS))
    assert response["statusCode"] == 201, response
    return dict(json_body(response))


def portal_event(method: str, path: str, *, session: str | None = None, route: str | None = None,
                 **kwargs: Any) -> dict[str, Any]:
    """A portal request, signed in with ``session`` when given (``http_event``'s other arguments apply)."""
    headers = dict(kwargs.pop("headers", {}) or {})
    if session:
        headers["authorization"] = f"Bearer {session}"
    return http_event(method, path, route=route, headers=headers, **kwargs)


def portal(stack: Stack, method: str, path: str, *, session: str | None = None, route: str | None = None,
           **kwargs: Any) -> dict[str, Any]:
    return stack.invoke(PORTAL, portal_event(method, path, session=session, route=route, **kwargs))


def magic_link_event(email: str, source_ip: str | None = None) -> dict[str, Any]:
    event = load_event("referrer_portal/post_magic_link.json")
    event["body"] = json.dumps({"email": email})
    if source_ip is not None:
        event["requestContext"]["http"]["sourceIp"] = source_ip
    return event


def ask_magic_link(stack: Stack, email: str, **kwargs: Any) -> dict[str, Any]:
    return stack.invoke(PORTAL, magic_link_event(email, kwargs.get("source_ip")))


def magic_token(stack: Stack, to: str) -> str:
    """The token of the newest sign-in email sent to ``to``."""
    links = [m for m in stack.sent_emails() if m["to"] == [to] and m["subject"] == "Your sign-in link"]
    assert links, f"no sign-in email to {to}"
    match = re.search(r"/dashboard#token=([A-Za-z0-9_-]+)", links[-1]["body"])
    assert match
    return match.group(1)


def opt_out_token(stack: Stack, to: str) -> str:
    """The opt-out token of the newest email to ``to`` that carries an opt-out link (stage updates)."""
    links = [m for m in stack.sent_emails() if m["to"] == [to] and "/me/notifications/opt-out?token=" in m["body"]]
    assert links, f"no email with an opt-out link to {to}"
    match = re.search(r"/me/notifications/opt-out\?token=([\w.-]+)", links[-1]["body"])
    assert match
    return match.group(1)


def application_link(stack: Stack, to: str, kind: str) -> tuple[str, str]:
    """``(application_id, token)`` of the newest application link of ``kind`` (``verify``: the applicant's,
    ``guardian``: the consent link) emailed to ``to``."""
    mails = [m for m in stack.sent_emails() if m["to"] == [to] and f"#{kind}=" in m["body"]]
    assert mails, f"no {kind} link emailed to {to}"
    match = re.search(rf"/become-a-referrer#{kind}=([A-Za-z0-9_-]+)&(?:amp;)?application=([A-Za-z0-9_-]+)",
                      mails[-1]["body"])
    assert match
    return match.group(2), match.group(1)


def session_event(token: str) -> dict[str, Any]:
    event = load_event("referrer_portal/post_session.json")
    event["body"] = json.dumps({"token": token})
    return event


def preview_event(token: str) -> dict[str, Any]:
    """``POST /auth/session/preview``: whom the link signs in (the dashboard's confirm step)."""
    event = load_event("referrer_portal/post_session_preview.json")
    event["body"] = json.dumps({"token": token})
    return event


def exchange(stack: Stack, token: str) -> dict[str, Any]:
    return stack.invoke(PORTAL, session_event(token))


def sign_in(stack: Stack, email: str) -> str:
    assert ask_magic_link(stack, email)["statusCode"] == 202
    response = exchange(stack, magic_token(stack, email))
    assert response["statusCode"] == 200, response
    return str(json_body(response)["session_token"])


def seed_referral(stack: Stack, lead_id: str, referrer_id: str | None, *, name: str = "Sam Lee",
                  email: str = "sam.lee@example.net", phone: str = "+61498765432", postcode: str = "2000",
                  stage: Stage = Stage.RECEIVED, created_at: str = "2026-11-23T09:00:00.000000Z"
                  ) -> dict[str, Any]:
    """A lead (the only item with raw contact details) and its referral, as capture and attribution write."""
    table = Table(stack.table_name)
    table.put({"pk": f"LEAD#{lead_id}", "sk": "LEAD", "type": "lead", "lead_id": lead_id, "name": name,
               "email": email, "phone": phone, "postcode": postcode, "created_at": created_at,
               "referrer_id": referrer_id})
    referral = {
        "pk": f"LEAD#{lead_id}", "sk": "REFERRAL", "type": "referral", "lead_id": lead_id,
        "referrer_id": referrer_id, "stage": str(stage), "stage_rank": RANK.get(stage, 1),
        "masked_name": mask_name(name), "postcode": postcode, "created_at": created_at, "updated_at": created_at,
    }
    if referrer_id:
        referral.update(gsi1pk=f"REFERRER#{referrer_id}#REFERRALS", gsi1sk=f"{created_at}#{lead_id}")
    table.put(referral)
    return referral


def moved(referral: dict[str, Any], stage: Stage, **changes: Any) -> dict[str, Any]:
    """A copy of ``referral`` at ``stage`` (a later write)."""
    new = copy.deepcopy(referral)
    new.update(stage=str(stage), stage_rank=RANK.get(stage, referral["stage_rank"]),
               updated_at="2026-11-23T10:00:00.000000Z", **changes)
    return new


class EventCapture:
    """An EventBridge rule on the default bus that copies ``referrals`` events to an SQS queue."""

    def __init__(self) -> None:
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.url = self.sqs.create_queue(QueueName="captured-events")["QueueUrl"]
        arn = self.sqs.get_queue_attributes(QueueUrl=self.url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
        events = boto3.client("events", region_name=REGION)
        events.put_rule(Name="capture-referrals", EventPattern=json.dumps({"source": ["referrals"]}))
        events.put_targets(Rule="capture-referrals", Targets=[{"Id": "queue", "Arn": arn}])

    def received(self) -> list[dict[str, Any]]:
        out = self.sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10, WaitTimeSeconds=0)
        return [json.loads(m["Body"]) for m in out.get("Messages", [])]
