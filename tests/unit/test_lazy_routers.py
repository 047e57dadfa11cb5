"""The staff endpoint and the referrer portal load their route modules on demand
(referral_core.http.LazyRouters): a cold container loads none, a request loads only its own."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from local.runtime import lambda_environment
from local.template import load_template

pytestmark = pytest.mark.unit

TEMPLATE = load_template()
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True)
class Lazy:
    function_id: str
    module: str  # the handler module
    route_prefix: str  # route modules are <route_prefix>*.py
    shared: tuple[str, ...]  # modules of the function every route module imports (not routes)
    on_resolver: tuple[str, ...]  # routes the handler module serves itself
    probes: tuple[tuple[str, str], ...]  # (path, the only route module it loads)


CASES = [
    Lazy("StaffAdminFunction", "staff_admin", "admin_", ("staff_context",), (),
         (("/admin/reviews", "admin_reviews"), ("/admin/referrals/L1/decisions", "admin_reviews"))),
    Lazy("ReferrerPortalFunction", "referrer_portal", "portal_", ("portal_context",), (),
         (("/me/referrals/L1", "portal_referrals"), ("/me/referrals", "portal_referrals"))),
]

PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import {module} as function
loaded = lambda: sorted(n for n in sys.modules
                        if (n.startswith({prefix!r}) and n not in {shared!r})
                        or n in ("qrcode", "email_validator", "fpdf"))
report = {{"modules": function.routers.modules, "prefix": function.routers.prefix, "at_init": loaded(), "probes": []}}
function.routers.load_for({{"rawPath": "/nothing-here/at-all"}})
report["unknown"] = loaded()
for path in {paths_to_probe!r}:
    function.routers.load_for({{"rawPath": path}})
    report["probes"].append(loaded())
print(json.dumps(report))
"""


@pytest.fixture(scope="module", params=CASES, ids=lambda c: c.function_id)
def case(request: pytest.FixtureRequest) -> tuple[Lazy, dict]:
    lazy: Lazy = request.param
    function = TEMPLATE.functions[lazy.function_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    script = PROBE.format(paths=paths, module=lazy.module, prefix=lazy.route_prefix, shared=list(lazy.shared),
                          paths_to_probe=[p for p, _ in lazy.probes])
    out = subprocess.run([sys.executable, "-I", "-c", script], env=lambda_environment(function, None),
                         cwd=str(function.code_uri), capture_output=True, text=True, check=True, timeout=60)
    return lazy, json.loads(out.stdout)


def test_a_cold_container_loads_no_route_module_and_a_request_loads_only_its_own(case: tuple[Lazy, dict]) -> None:
    lazy, report = case
    assert report["at_init"] == []  # not the QR library, not email-validator, not the PDF library either
    assert report["unknown"] == []
    for (path, module), loaded in zip(lazy.probes, report["probes"], strict=True):
        assert loaded == [module], path


def test_every_route_module_and_every_route_is_mapped(case: tuple[Lazy, dict]) -> None:
    lazy, report = case
    function = TEMPLATE.functions[lazy.function_id]
    route_modules = sorted(p.stem for p in function.code_uri.glob(f"{lazy.route_prefix}*.py")
                           if p.stem not in lazy.shared)
    assert sorted(set(report["modules"].values())) == route_modules
    for route_key in _routes(lazy.function_id):
        path = route_key.split(" ", 1)[1]
        assert route_key in lazy.on_resolver or _mapped(path, report), \
            f"{route_key}: map its path segments in {lazy.module}.routers"


INIT_PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import {module}
print(json.dumps(sorted(n for n in {heavy!r} if n in sys.modules)))
"""


@pytest.mark.parametrize(("function_id", "module", "heavy"), [
    # creating a referrer (models.referrers: the staff function's largest pydantic models) is admin_referrers'
    ("StaffAdminFunction", "staff_admin", ("referral_core.models.referrers", "referral_core.services.referrers")),
    # the mail settings and branding load with the first route that sends an email, the pages' CSP with the
    # first page; neither the payout-details nor the statements code loads with the function
    ("ReferrerPortalFunction", "referrer_portal", (
        "referral_core.referrer_mail", "referral_core.pages.portal", "referral_core.dal.payout_methods",
        "referral_core.services.payout_methods", "referral_core.services.statements")),
])
def test_the_handler_module_loads_no_route_s_models_or_mail(function_id: str, module: str,
                                                           heavy: tuple[str, ...]) -> None:
    function = TEMPLATE.functions[function_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run([sys.executable, "-I", "-c", INIT_PROBE.format(paths=paths, module=module, heavy=heavy)],
                         env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []


FLYER_PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import {module} as function
function.routers.load_for({{"rawPath": {path!r}}})
routed = {{"route_module": {route_module!r} in sys.modules, "fpdf": "fpdf" in sys.modules}}
from referral_core.services import flyers
flyers.render_flyer(flyers.FlyerSize.CARD, target="https://example.com/r/ABC?src=qr&p=business_card",
                    short_url="example.com/r/ABC", brand=flyers.BrandingData(), logo=None)
drawn = sorted({{n.split(".")[0] for n in sys.modules}} & {{"fpdf", "qrcode"}})
print(json.dumps({{"loaded": drawn, "routed": routed}}))
"""


@pytest.mark.parametrize(("function_id", "module", "path", "route_module"), [
    ("StaffAdminFunction", "staff_admin", "/admin/share-codes/ABC/flyer.pdf", "admin_share_codes"),
    ("ReferrerPortalFunction", "referrer_portal", "/me/share-codes/ABC/flyer.pdf", "portal_share_codes")])
def test_the_pdf_library_is_imported_only_when_a_flyer_is_drawn(function_id: str, module: str, path: str,
                                                                route_module: str) -> None:
    """The flyer routes share their functions with many routes whose cold start must not pay for fpdf2:
    not the function, not even the flyer route's module loads it; drawing a flyer does."""
    function = TEMPLATE.functions[function_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run([sys.executable, "-I", "-c", FLYER_PROBE.format(paths=paths, module=module, path=path,
                                                                       route_module=route_module)],
                         env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == {"loaded": ["fpdf", "qrcode"], "routed": {"route_module": True, "fpdf": False}}


STATEMENT_PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import {module} as function
function.routers.load_for({{"rawPath": {path!r}}})
routed = {{"route_module": {route_module!r} in sys.modules, "fpdf": "fpdf" in sys.modules}}
from datetime import UTC, datetime
from referral_core.models.branding import BrandingData
from referral_core.models.program import Statements
from referral_core.services import statements
year = statements.year_of(datetime(2026, 1, 1, tzinfo=UTC), Statements())
statements.statement_pdf(statements.Statement(year=year, referrer_id="R1", referrer_name="Jo", currency="AUD",
                                              rows=()), BrandingData())
print(json.dumps({{"routed": routed, "drawn": "fpdf" in sys.modules}}))
"""


@pytest.mark.parametrize(("function_id", "module", "path", "route_module"), [
    ("StaffAdminFunction", "staff_admin", "/admin/referrers/R1/statements/2025-26/statement.pdf", "admin_statements"),
    ("ReferrerPortalFunction", "referrer_portal", "/me/statements/2025-26/statement.pdf", "portal_statements")])
def test_the_pdf_library_is_imported_only_when_a_statement_is_drawn(function_id: str, module: str, path: str,
                                                                    route_module: str) -> None:
    function = TEMPLATE.functions[function_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run([sys.executable, "-I", "-c", STATEMENT_PROBE.format(
        paths=paths, module=module, path=path, route_module=route_module)],
        env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True, text=True,
        check=True, timeout=60)
    assert json.loads(out.stdout) == {"routed": {"route_module": True, "fpdf": False}, "drawn": True}


def _routes(function_id: str) -> set[str]:
    """The function's routes: the template's, and behind a ``{proxy+}`` route those the OpenAPI lists."""
    routes = {r.route_key for r in TEMPLATE.routes() if r.function_id == function_id}
    others = {r.route_key for r in TEMPLATE.routes() if r.function_id != function_id}  # more specific routes
    spec = json.loads((TEMPLATE.functions["ApiDocsFunction"].code_uri / "openapi.json").read_text())
    for proxy in [r for r in routes if r.endswith("/{proxy+}")]:
        routes.discard(proxy)
        prefix = proxy.split(" ", 1)[1].removesuffix("{proxy+}")
        routes |= {f"{m.upper()} {path}" for path, item in spec["paths"].items() if path.startswith(prefix)
                   for m in item} - others
    return routes


def _mapped(path: str, report: dict) -> bool:
    if not path.startswith(report["prefix"]):
        return False
    segments = path.removeprefix(report["prefix"]).split("/")
    patterns = [key.split("/") for key in report["modules"]]
    return any(len(p) == n and all(a in ("*", b) for a, b in zip(p, segments[:n], strict=True))
               for n in range(len(segments), 0, -1) for p in patterns)


def test_a_star_segment_matches_an_id_and_an_exact_segment_beats_it() -> None:
    from referral_core.http import LazyRouters

    routers = LazyRouters(None, prefix="/admin/", modules={  # type: ignore[arg-type]
        "referrers": "admin_referrers", "referrers/*/share-codes": "admin_share_codes",
        "referrers/new/share-codes": "exact", "reviews": "admin_reviews"})
    assert routers.module_for(["referrers"]) == "admin_referrers"
    assert routers.module_for(["referrers", "R1", "suspend"]) == "admin_referrers"
    assert routers.module_for(["referrers", "R1", "share-codes"]) == "admin_share_codes"
    assert routers.module_for(["referrers", "new", "share-codes"]) == "exact"
    assert routers.module_for(["nothing"]) is None


STRIPE_PROBE = """
import json, sys
sys.path[:0] = {paths!r}
import stripe_webhook
print(json.dumps(sorted(n for n in sys.modules if n.startswith("stripe.") and n.split(".")[1] in
                        ("_stripe_client", "_customer", "_promotion_code", "_customer_service",
                         "_promotion_code_service", "v1"))))
"""


def test_the_stripe_library_is_imported_by_the_stripe_function_only_and_its_api_client_on_a_lookup() -> None:
    """Every Stripe request's signature check needs the library, so the Stripe function imports it at
    init (docs/quality.md); its API client and resources load only when a promotion code is looked up."""
    importers = sorted(str(path.relative_to(ROOT)) for path in [*ROOT.glob("shared/**/*.py"),
                                                                *ROOT.glob("functions/**/*.py")]
                       if re.search(r"^\s*(import stripe\b|from stripe\b)", path.read_text(), re.M))
    assert importers == ["functions/stripe_webhook/stripe_webhook.py"]
    function = TEMPLATE.functions["StripeWebhookFunction"]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run([sys.executable, "-I", "-c", STRIPE_PROBE.format(paths=paths)],
                         env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True,
                         text=True, check=True, timeout=60)
    assert json.loads(out.stdout) == []
