"""The auth matrix of the staff API over HTTP on the local stack: every operation of the OpenAPI document
behind the JWT authorizer, times {no token, a forged or expired token, an account in no role's group, viewer,
staff, admin}. The gateway answers 401 itself; the function answers 403 when the role is too low
(``x-required-role``, from referral_core.auth) and otherwise lets the request through to the route."""

from __future__ import annotations

import json
import re
import time
import uuid
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.resources import DEMO_PASSWORD
from local.testing import StackProcess

pytestmark = pytest.mark.e2e

OPENAPI = Path(__file__).resolve().parents[2] / "functions" / "api_docs" / "openapi.json"
SAMPLE_PATH_VALUES = {"kind": "rewards"}
FOREIGN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)
RANK = {"viewer": 1, "staff": 2, "admin": 3}


def staff_operations() -> list[tuple[str, str, str]]:
    """(METHOD, concrete path, required role) of every operation behind the authorizer, path parameters
    filled with sample values."""
    paths = json.loads(OPENAPI.read_text())["paths"]
    return [(method.upper(), re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m[1], "E2E-X"), path),
             operation["x-required-role"])
            for path, item in paths.items() for method, operation in item.items() if operation.get("security")]


OPERATIONS = staff_operations()
IDS = [f"{method} {path}" for method, path, _ in OPERATIONS]


def forged(token: str, *, expires_in: int) -> str:
    """The staff token's claims re-signed with a key the pool never issued, ``exp`` moved by
    ``expires_in`` seconds from now (negative: already expired)."""
    claims = {**jwt.decode(token, options={"verify_signature": False}), "exp": int(time.time()) + expires_in}
    return jwt.encode(claims, FOREIGN_KEY, algorithm="RS256", headers={"kid": jwt.get_unverified_header(token)["kid"]})


def call(stack: StackProcess, method: str, path: str, token: str | None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return stack.request(method, path, body={} if method in {"POST", "PUT", "PATCH"} else None, headers=headers)


@pytest.fixture(scope="module")
def no_role_token(stack: StackProcess) -> str:
    """A valid ID token of a pool user in no group (signed in through the pool's public API)."""
    idp = stack.aws("cognito-idp")
    info = stack.info()
    pool_id, client_id = info["user_pools"]["StaffUserPool"], info["user_pool_clients"]["StaffUserPoolClient"]
    email = f"nobody-{uuid.uuid4().hex[:8]}@example.com"
    idp.admin_create_user(UserPoolId=pool_id, Username=email, MessageAction="SUPPRESS",
                          UserAttributes=[{"Name": "email", "Value": email}])
    idp.admin_set_user_password(UserPoolId=pool_id, Username=email, Password=DEMO_PASSWORD, Permanent=True)
    answer = idp.initiate_auth(ClientId=client_id, AuthFlow="USER_PASSWORD_AUTH",
                               AuthParameters={"USERNAME": email, "PASSWORD": DEMO_PASSWORD})
    return str(answer["AuthenticationResult"]["IdToken"])


def test_the_matrix_covers_the_staff_api() -> None:
    assert len(OPERATIONS) >= 20
    assert ("GET", "/admin/exports/rewards.csv", "viewer") in OPERATIONS
    assert ("PUT", "/admin/program", "admin") in OPERATIONS
    assert ("POST", "/admin/people/erase", "admin") in OPERATIONS
    assert {role for *_, role in OPERATIONS} == {"viewer", "staff", "admin"}


@pytest.mark.parametrize(("method", "path", "role"), OPERATIONS, ids=IDS)
def test_no_token_is_401(stack: StackProcess, method: str, path: str, role: str) -> None:
    response = call(stack, method, path, None)
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("expires_in", [3600, -3600], ids=["wrong-key", "wrong-key-and-expired"])
@pytest.mark.parametrize(("method", "path", "role"), OPERATIONS, ids=IDS)
def test_forged_or_expired_token_is_401(stack: StackProcess, method: str, path: str, role: str,
                                        expires_in: int) -> None:
    assert call(stack, method, path, forged(stack.admin_token, expires_in=expires_in)).status == 401


@pytest.mark.parametrize(("method", "path", "role"), OPERATIONS, ids=IDS)
def test_an_account_in_no_role_group_is_403(stack: StackProcess, no_role_token: str, method: str, path: str,
                                            role: str) -> None:
    response = call(stack, method, path, no_role_token)
    assert response.status == 403
    assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("caller", ["viewer", "staff", "admin"])
@pytest.mark.parametrize(("method", "path", "role"), OPERATIONS, ids=IDS)
def test_each_role_gets_exactly_the_routes_of_its_rank(stack: StackProcess, caller: str, method: str, path: str,
                                                       role: str) -> None:
    token = {"viewer": stack.viewer_token, "staff": stack.staff_token, "admin": stack.admin_token}[caller]
    response = call(stack, method, path, token)
    if RANK[caller] >= RANK[role]:
        assert response.status not in (401, 403), (response.status, response.body)
    else:
        assert response.status == 403, (response.status, response.body)
        assert response.json()["error"]["fields"] == {"role": f"{role} required"}


def test_staff_console_files_load_without_a_token(stack: StackProcess) -> None:
    page = stack.request("GET", "/admin")
    assert page.status == 200
    assert page.headers["content-type"].startswith("text/html")
    script = stack.request("GET", "/admin/assets/app.js")
    assert script.status == 200
    assert script.headers["content-type"].startswith("text/javascript")
    config = stack.request("GET", "/admin/assets/config.json").json()
    assert config["auth_endpoint"] == f"{stack.base_url}/_local/cognito-idp/"
