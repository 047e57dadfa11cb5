"""Every route of the API, and a caller that sends a request to the function the template routes it to.

The routes are the generated OpenAPI document's operations plus the template's routes it does not describe
(``/docs``...), so a test parametrised over them covers a new route with no change.
"""

from __future__ import annotations

import json
import re
from typing import Any

from local.gateway import Router
from referral_core.auth import Role, required_role
from scripts import openapi
from tests.support.aws import Stack, template
from tests.support.events import ADMIN_CLAIMS, STAFF_CLAIMS, http_event
from tests.support.jobs import WEBHOOK, signed_event
from tests.support.providers import signed_provider_event
from tests.support.stripe_events import STRIPE
from tests.support.stripe_events import signed as stripe_signed

SPEC: dict[str, Any] = json.loads(openapi.OUTPUT.read_text())


def operations() -> list[tuple[str, str]]:
    """``(METHOD, /path)`` of every operation of the OpenAPI document."""
    return [(method.upper(), path) for path, item in SPEC["paths"].items() for method in item]


def json_operations() -> list[tuple[str, str]]:
    """The operations that read a JSON body."""
    return [(method, path) for method, path in operations()
            if "application/json" in (SPEC["paths"][path][method.lower()].get("requestBody") or {})
            .get("content", {})]


def all_routes() -> list[tuple[str, str]]:
    """The OpenAPI operations, and the template's routes the document does not describe (a ``{proxy+}``
    route is covered by the operations under it)."""
    found = operations()
    for route in template().routes():
        if "{proxy+}" not in route.path and (route.method, route.path) not in found:
            found.append((route.method, route.path))
    return found


def request_schema(method: str, path: str) -> dict[str, Any]:
    return dict(SPEC["paths"][path][method.lower()]["requestBody"]["content"]["application/json"]["schema"])


class Caller:
    """Sends requests as API Gateway would, with what each route needs to get past authentication: staff
    claims on ``/admin/*`` (admin claims on the admin routes: ``referral_core.auth.required_role``),
    ``session`` on ``/me/*``, a signature on the webhooks (the job system's, and each provider's)."""

    def __init__(self, stack: Stack, session: str, path_values: dict[str, str] | None = None) -> None:
        self.stack, self.session = stack, session
        self.path_values = path_values or {}
        self.router = Router(template().routes())

    def concrete(self, path: str) -> str:
        return re.sub(r"\{([^}]+)\}", lambda m: self.path_values.get(m.group(1), "HOSTILE1"), path)

    def send(self, method: str, path: str, raw_body: str | bytes | None = None, *,
             headers: dict[str, str] | None = None, query: dict[str, str] | None = None) -> dict[str, Any]:
        concrete = self.concrete(path)
        matched = self.router.match(method, concrete)
        assert matched, f"{method} {path} is not routed by the template"
        route, params = matched
        text = raw_body.decode() if isinstance(raw_body, bytes) else (raw_body or "")
        provider = signed_provider_event(route.function_id, text)
        if route.function_id == WEBHOOK:
            event = signed_event(text)
        elif route.function_id == STRIPE:
            event = stripe_signed(text)
        elif provider is not None:
            event = provider
        else:
            all_headers = {"content-type": "application/json"} if raw_body is not None else {}
            if path.startswith("/me"):
                all_headers["authorization"] = f"Bearer {self.session}"
            all_headers.update(headers or {})
            event = http_event(method, concrete, raw_body=raw_body, headers=all_headers, query=query,
                               path_params=params or None,
                               claims=staff_claims(method, path) if path.startswith("/admin/") else None)
        event["routeKey"] = event["requestContext"]["routeKey"] = route.route_key
        return dict(self.stack.invoke(route.function_id, event))


def staff_claims(method: str, path: str) -> dict[str, str]:
    """Claims of the least role the route needs: admin claims for the admin routes, staff claims otherwise."""
    return ADMIN_CLAIMS if required_role(method, path) is Role.ADMIN else STAFF_CLAIMS
