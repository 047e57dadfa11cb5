"""Roles (referral_core.auth): admin > staff > viewer, one table of which route needs which, checked in the
staff handler before the request is read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from referral_core.auth import Role, authorize, required_role, staff_from_event
from referral_core.errors import Forbidden, Unauthorized

pytestmark = pytest.mark.unit

OPENAPI = Path(__file__).resolve().parents[2] / "functions" / "api_docs" / "openapi.json"


def event(method: str, path: str, groups: str | None) -> dict:
    claims = {"sub": "u-1", "email": "someone@example.com"}
    if groups is not None:
        claims["cognito:groups"] = groups
    return {"rawPath": path, "requestContext": {"http": {"method": method, "path": path},
                                                "authorizer": {"jwt": {"claims": claims}}}}


@pytest.mark.parametrize(("groups", "role"), [
    ("[viewer]", Role.VIEWER), ("[staff]", Role.STAFF), ("[admin]", Role.ADMIN),
    ("[viewer admin]", Role.ADMIN), ("[staff ops]", Role.STAFF), (["viewer", "staff"], Role.STAFF),
])
def test_the_highest_group_is_the_role(groups, role) -> None:
    claims = {"sub": "1", "cognito:groups": groups}
    assert staff_from_event({"requestContext": {"authorizer": {"jwt": {"claims": claims}}}}).role is role


@pytest.mark.parametrize(("method", "path", "role"), [
    ("GET", "/admin/reviews", Role.VIEWER),
    ("GET", "/admin/referrals/L-1", Role.VIEWER),
    ("GET", "/admin/referrals/{lead_id}", Role.VIEWER),
    ("POST", "/admin/referrals/L-1/decisions", Role.STAFF),
    ("POST", "/admin/withdrawals/W-1/paid", Role.STAFF),
    ("GET", "/admin/program", Role.VIEWER),
    ("PUT", "/admin/program", Role.ADMIN),
    ("POST", "/admin/people/erase", Role.ADMIN),
    ("GET", "/admin/people/export", Role.STAFF),
    ("DELETE", "/admin/anything", Role.STAFF),
])
def test_required_role_per_route(method: str, path: str, role: Role) -> None:
    assert required_role(method, path) is role


@pytest.mark.parametrize(("groups", "method", "path", "allowed"), [
    ("[viewer]", "GET", "/admin/reviews", True),
    ("[viewer]", "POST", "/admin/referrals/L-1/decisions", False),
    ("[staff]", "POST", "/admin/referrals/L-1/decisions", True),
    ("[staff]", "PUT", "/admin/program", False),
    ("[admin]", "PUT", "/admin/program", True),
    ("[staff]", "POST", "/admin/people/erase", False),
    ("[admin]", "POST", "/admin/people/erase", True),
    ("[viewer]", "GET", "/admin/people/export", False),
])
def test_authorize(groups: str, method: str, path: str, allowed: bool) -> None:
    if allowed:
        assert authorize(event(method, path, groups)).email == "someone@example.com"
    else:
        with pytest.raises(Forbidden) as raised:
            authorize(event(method, path, groups))
        assert raised.value.fields == {"role": f"{required_role(method, path).value} required"}


def test_no_claims_is_401_and_no_role_group_is_403() -> None:
    with pytest.raises(Unauthorized):
        authorize({"rawPath": "/admin/reviews", "requestContext": {"http": {"method": "GET"}}})
    with pytest.raises(Forbidden):
        authorize(event("GET", "/admin/reviews", "[ops]"))
    with pytest.raises(Forbidden):
        authorize(event("GET", "/admin/reviews", None))


def test_the_openapi_states_the_role_of_every_staff_operation() -> None:
    paths = json.loads(OPENAPI.read_text())["paths"]
    seen = 0
    for path, item in paths.items():
        for method, operation in item.items():
            if "security" not in operation:
                continue
            seen += 1
            role = required_role(method.upper(), path).value
            assert operation["security"] == [{"staffJwt": [role]}], (method, path)
            assert operation["x-required-role"] == role
            assert operation["description"].startswith(f"Role: **{role}**")
    assert seen >= 20
    assert paths["/admin/program"]["put"]["x-required-role"] == "admin"
    assert "security" not in paths["/admin"]["get"] and "security" not in paths["/admin/assets/{name}"]["get"]
