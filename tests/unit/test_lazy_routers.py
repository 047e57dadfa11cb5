"""The staff endpoint loads its route modules on demand (referral_core.http.LazyRouters)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from local.runtime import lambda_environment
from local.template import load_template
from scripts import openapi

pytestmark = pytest.mark.unit

FUNCTION = load_template().functions["StaffAdminFunction"]
ROUTE_MODULES = sorted(p.stem for p in FUNCTION.code_uri.glob("admin_*.py"))

PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import staff_admin
loaded = lambda: sorted(n for n in sys.modules if n.startswith("admin_") or n in ("qrcode", "email_validator"))
report = {{"modules": staff_admin.routers.modules, "at_init": loaded()}}
staff_admin.routers.load_for({{"rawPath": "/admin/nothing-here"}})
report["unknown"] = loaded()
staff_admin.routers.load_for({{"rawPath": "/admin/reviews"}})
report["reviews"] = loaded()
staff_admin.routers.load_for({{"rawPath": "/admin/referrals/L1/decisions"}})
report["again"] = loaded()
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def probe() -> dict:
    paths = [str(FUNCTION.code_uri), *(str(p) for p in FUNCTION.layer_dirs)]
    out = subprocess.run([sys.executable, "-I", "-c", PROBE.format(paths=paths)],
                         env=lambda_environment(FUNCTION, None), cwd=str(FUNCTION.code_uri),
                         capture_output=True, text=True, check=True, timeout=60)
    return json.loads(out.stdout)


def test_a_cold_container_loads_no_route_module_and_a_request_loads_only_its_own(probe: dict) -> None:
    assert probe["at_init"] == []
    assert probe["unknown"] == []
    assert probe["reviews"] == ["admin_reviews"]  # not the QR library, not email-validator
    assert probe["again"] == ["admin_reviews"]


def test_every_route_module_and_every_staff_path_is_mapped(probe: dict) -> None:
    assert sorted(set(probe["modules"].values())) == ROUTE_MODULES
    spec = json.loads(openapi.OUTPUT.read_text())
    for path in spec["paths"]:
        if path.startswith("/admin/") and path != "/admin/referrers":
            assert path.split("/")[2] in probe["modules"], f"{path}: add its first segment to staff_admin.routers"
