"""The gateway-level auth matrix of the staff API, over HTTP on the local stack: every /admin/* operation
of the OpenAPI document, each with {no token, bad or expired token, non-staff token, staff token}."""

from __future__ import annotations

import json
import re
import time
from pathlib import Path

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa

from local.testing import StackProcess

pytestmark = pytest.mark.e2e

OPENAPI = Path(__file__).resolve().parents[2] / "functions" / "api_docs" / "openapi.json"
SAMPLE_PATH_VALUES = {"kind": "rewards"}
FOREIGN_KEY = rsa.generate_private_key(public_exponent=65537, key_size=2048)


def admin_operations() -> list[tuple[str, str]]:
    """(METHOD, concrete path) of every staff operation, path parameters filled with sample values."""
    paths = json.loads(OPENAPI.read_text())["paths"]
    return [(method.upper(), re.sub(r"\{(\w+)\}", lambda m: SAMPLE_PATH_VALUES.get(m[1], "E2E-X"), path))
            for path, item in paths.items() if path.startswith("/admin/") for method in item]


OPERATIONS = admin_operations()
IDS = [f"{method} {path}" for method, path in OPERATIONS]


def forged(token: str, *, expires_in: int) -> str:
    """The staff token's claims re-signed with a key the pool never issued, ``exp`` moved by
    ``expires_in`` seconds from now (negative: already expired)."""
    claims = {**jwt.decode(token, options={"verify_signature": False}), "exp": int(time.time()) + expires_in}
    return jwt.encode(claims, FOREIGN_KEY, algorithm="RS256", headers={"kid": jwt.get_unverified_header(token)["kid"]})


def call(stack: StackProcess, method: str, path: str, token: str | None):
    headers = {"authorization": f"Bearer {token}"} if token else {}
    return stack.request(method, path, body={} if method in {"POST", "PUT", "PATCH"} else None, headers=headers)


def test_the_matrix_covers_the_staff_api() -> None:
    assert len(OPERATIONS) >= 20
    assert ("GET", "/admin/exports/rewards.csv") in OPERATIONS


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_no_token_is_401(stack: StackProcess, method: str, path: str) -> None:
    response = call(stack, method, path, None)
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


@pytest.mark.parametrize("expires_in", [3600, -3600], ids=["wrong-key", "wrong-key-and-expired"])
@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_forged_or_expired_token_is_401(stack: StackProcess, method: str, path: str, expires_in: int) -> None:
    assert call(stack, method, path, forged(stack.staff_token, expires_in=expires_in)).status == 401


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_non_staff_token_is_403(stack: StackProcess, method: str, path: str) -> None:
    assert call(stack, method, path, stack.viewer_token).status == 403


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=IDS)
def test_staff_token_is_let_through(stack: StackProcess, method: str, path: str) -> None:
    response = call(stack, method, path, stack.staff_token)
    assert response.status not in (401, 403), (response.status, response.body)


def test_staff_page_loads_without_a_token(stack: StackProcess) -> None:
    response = stack.request("GET", "/admin")
    assert response.status == 200
    assert response.headers["content-type"].startswith("text/html")
