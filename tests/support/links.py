"""Helpers for the share-code, redirect and click-counting tests (built on the events/ scenario files)."""

from __future__ import annotations

import copy
import json
from typing import Any

from tests.support.events import STAFF_CLAIMS, http_event, json_body, load_event, stream_event, stream_record

ADMIN = "StaffAdminFunction"
REDIRECT = "LinkRedirectFunction"
COUNT = "count_clicks"
BROWSER = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)"


def new_referrer(stack: Any, email: str = "jo@example.com") -> str:
    event = http_event("POST", "/admin/referrers", body={"name": "Jo Smith", "email": email},
                       claims=STAFF_CLAIMS)
    response = stack.invoke(ADMIN, event)
    assert response["statusCode"] == 201, response
    return str(json_body(response)["referrer_id"])


def create_code(stack: Any, referrer_id: str, body: dict[str, Any] | None = None,
                **overrides: Any) -> dict[str, Any]:
    """POST /admin/referrers/{id}/share-codes from the scenario file, with ``body`` or field overrides."""
    event = load_event("staff_admin/post_share_code.json")
    path = f"/admin/referrers/{referrer_id}/share-codes"
    event["rawPath"] = event["requestContext"]["http"]["path"] = path
    event["pathParameters"] = {"proxy": path.removeprefix("/admin/")}
    payload = body if body is not None else {**json.loads(event["body"]), **overrides}
    event["body"] = json.dumps({k: v for k, v in payload.items() if v is not None})
    return stack.invoke(ADMIN, event)  # type: ignore[no-any-return]


def admin(stack: Any, method: str, path: str, query: dict[str, str] | None = None) -> dict[str, Any]:
    event = http_event(method, path, route="/admin/{proxy+}", query=query, claims=STAFF_CLAIMS,
                       path_params={"proxy": path.removeprefix("/admin/")})
    return stack.invoke(ADMIN, event)  # type: ignore[no-any-return]


def redirect(stack: Any, code: str, *, scenario: str = "link_redirect/get_share_link.json",
             method: str | None = None, user_agent: str | None = None, query: dict[str, str] | None = None,
             source_ip: str | None = None) -> dict[str, Any]:
    """GET|HEAD /r/{code} from a scenario file, varied."""
    event = copy.deepcopy(load_event(scenario))
    http = event["requestContext"]["http"]
    event["rawPath"] = http["path"] = f"/r/{code}"
    event["pathParameters"] = {"code": code}
    if method:
        http["method"] = method
    if user_agent is not None:
        http["userAgent"] = event["headers"]["user-agent"] = user_agent
    if source_ip:
        http["sourceIp"] = source_ip
    if query is not None:
        event["queryStringParameters"] = query or None
    return stack.invoke(REDIRECT, event)  # type: ignore[no-any-return]


def click_records(clicks: list[dict[str, Any]], event_name: str = "INSERT",
                  old: list[dict[str, Any]] | None = None) -> list[dict[str, Any]]:
    """Stream records for stored click items, sequence numbers in order."""
    return [stream_record(event_name, new=click, old=(old or [None] * len(clicks))[i], sequence=str(1000 + i))
            for i, click in enumerate(clicks)]


def count(stack: Any, *records: dict[str, Any]) -> dict[str, Any]:
    return stack.consume(COUNT, stream_event(*records))  # type: ignore[no-any-return]
