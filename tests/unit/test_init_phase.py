"""Every function loads with the cyclic GC paused and turns it back on (referral_core/init_phase.py)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys

import pytest

from local.runtime import lambda_environment
from local.template import Function, load_template

pytestmark = pytest.mark.unit

FUNCTIONS = load_template().functions
INIT = "referral_core.init_phase"


def _handler_module(function: Function) -> ast.Module:
    path = function.code_uri / f"{function.module}.py"
    return ast.parse(path.read_text(), filename=str(path))


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_the_function_module_pauses_the_gc_first_and_resumes_it_last(logical_id: str) -> None:
    body = _handler_module(FUNCTIONS[logical_id]).body
    imports = [n for n in body if isinstance(n, ast.Import | ast.ImportFrom)
               and not (isinstance(n, ast.ImportFrom) and n.module == "__future__")]
    assert isinstance(imports[0], ast.ImportFrom) and imports[0].module == INIT, "import init_phase first"
    last = body[-1]
    assert isinstance(last, ast.Expr) and isinstance(last.value, ast.Call), "end with init_complete()"
    assert isinstance(last.value.func, ast.Name) and last.value.func.id == "init_complete"


PROBE = """
import gc, json, sys
sys.path[:0] = {paths!r}
import {module}
names = list(sys.modules)
print(json.dumps({{"enabled": gc.isenabled(), "frozen": gc.get_freeze_count(),
                   "before_init": [n for n in names[:names.index({init!r})] if n.split(".")[0] in
                                   ("boto3", "botocore", "pydantic", "aws_lambda_powertools")]}}))
"""


@pytest.mark.parametrize("logical_id", ["LinkRedirectFunction", "StaffAdminFunction"])
def test_after_init_the_collector_is_on_and_what_init_built_is_frozen(logical_id: str) -> None:
    function = FUNCTIONS[logical_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run(
        [sys.executable, "-I", "-c", PROBE.format(paths=paths, module=function.module, init=INIT)],
        env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True, text=True,
        check=True, timeout=60)
    probe = json.loads(out.stdout)
    assert probe["enabled"] is True
    assert probe["frozen"] > 10_000  # the objects init built, out of later collections
    assert probe["before_init"] == []  # nothing heavy loaded before the pause


BUILT = """
import json, sys
sys.path[:0] = {paths!r}
import {module}
built = []
if "referral_core.models.base" in sys.modules:
    pending = list(sys.modules["referral_core.models.base"].Model.__subclasses__())
    while pending:
        model = pending.pop()
        pending.extend(model.__subclasses__())
        if model.__dict__.get("__pydantic_complete__"):
            built.append(f"{{model.__module__}}.{{model.__qualname__}}")
print(json.dumps(sorted(built)))
"""


@pytest.mark.parametrize("logical_id", sorted(FUNCTIONS))
def test_init_builds_no_model(logical_id: str) -> None:
    """Models are built by the request that uses them (``defer_build``): nothing at module level may build
    one, e.g. a JSON schema for the OpenAPI document (scripts/openapi_raw.py builds those)."""
    function = FUNCTIONS[logical_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    out = subprocess.run(
        [sys.executable, "-I", "-c", BUILT.format(paths=paths, module=function.module)],
        env=lambda_environment(function, None), cwd=str(function.code_uri), capture_output=True, text=True,
        check=True, timeout=60)
    assert json.loads(out.stdout) == []


RAW_HANDLERS = ["LinkRedirectFunction", "JobWebhookFunction"]  # one route each, answered without a resolver


@pytest.mark.parametrize("logical_id", RAW_HANDLERS)
def test_raw_handlers_load_no_powertools_event_handler(logical_id: str) -> None:
    """Powertools' event_handler package imports every resolver it has (AppSync, Bedrock, asyncio …):
    ~0.15x of the boto3 floor that a one-route function does not need (docs/quality.md)."""
    function = FUNCTIONS[logical_id]
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs)]
    probe = (f"import sys; sys.path[:0] = {paths!r}; import {function.module}; "
             "print(sorted(m for m in sys.modules if m.startswith('aws_lambda_powertools.event_handler')))")
    out = subprocess.run([sys.executable, "-I", "-c", probe], env=lambda_environment(function, None),
                         cwd=str(function.code_uri), capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "[]"
