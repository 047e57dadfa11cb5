"""Cold start of every template function vs a floor, each in a fresh interpreter.

Both sides import only what a deployed function can: the standard library plus :func:`lambda_site`, a
folder holding what the Lambda runtime brings (boto3) and what ``sam build`` puts in the layer
(shared/requirements.txt), at the versions installed here. Not the development venv: it holds test tools
(moto pulls in ``cryptography``, which PyJWT then imports) that the deployed package does not have.

Candidate: ``python -I -S`` with ``sys.path = [CodeUri, *layers, lambda_site]`` and the environment Lambda
would give the function (local.runtime.lambda_environment), importing the handler module (Lambda's init
phase), then building the DynamoDB client if the function uses one (what its first call would otherwise
pay). Floor: the same interpreter importing boto3 and creating one DynamoDB client. Runs alternate floor
and candidate; medians of CPU time (``time.process_time``: steadier than wall time on a shared machine) are
compared. Byte-code caches are warmed first (both sides read .pyc files). Tracing is left on, as deployed.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from importlib import metadata
from pathlib import Path

from bench.support import ROOT, Section, alternate, median, ratio_check, table
from local.runtime import lambda_environment
from local.template import Function, load_template

TARGETS = {"LinkRedirectFunction": 1.15}
DEFAULT_TARGET = 1.6

LAMBDA_SITE = ROOT / ".bench" / "lambda-python"

FLOOR = """
import json, sys, time
sys.path[:0] = {paths!r}
t0, c0 = time.perf_counter(), time.process_time()
import boto3
boto3.client("dynamodb")
print(json.dumps({{"ready": time.process_time() - c0, "wall": time.perf_counter() - t0}}))
"""

CANDIDATE = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
t0, c0 = time.perf_counter(), time.process_time()
importlib.import_module({module!r})
c1 = time.process_time()
if "referral_core.dal.aws" in sys.modules:  # the function talks to AWS: its first call builds the client
    sys.modules["referral_core.dal.aws"].client("dynamodb")
print(json.dumps({{"import": c1 - c0, "ready": time.process_time() - c0, "wall": time.perf_counter() - t0}}))
"""


def _pinned_requirements() -> str:
    """The layer's requirements and the runtime's boto3, each at the version this venv has (and tests)."""
    names = ["boto3"]
    for line in (ROOT / "shared" / "requirements.txt").read_text().splitlines():
        requirement = line.split("#", 1)[0].strip()
        if requirement:
            names.append(requirement)
    pins = []
    for requirement in names:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0]
        extras = requirement[len(name):].split("]", 1)[0] + "]" if requirement[len(name):].startswith("[") else ""
        pins.append(f"{name}{extras}=={metadata.version(name)}")
    return "\n".join(pins) + "\n"


def lambda_site() -> Path:
    """Install (once per set of pins) what a deployed function imports besides the standard library."""
    pins = _pinned_requirements()
    stamp = LAMBDA_SITE / ".pins"
    if stamp.exists() and stamp.read_text() == pins:
        return LAMBDA_SITE
    shutil.rmtree(LAMBDA_SITE, ignore_errors=True)
    with tempfile.NamedTemporaryFile("w", suffix=".txt") as requirements:
        requirements.write(pins)
        requirements.flush()
        subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check",
                        "--target", str(LAMBDA_SITE), "-r", requirements.name], check=True)
    stamp.write_text(pins)
    return LAMBDA_SITE


def _env(function: Function | None) -> dict[str, str]:
    if function is None:
        env = {k: v for k, v in os.environ.items() if k in ("PATH", "LANG")}
        env.update({"AWS_REGION": "us-east-1", "AWS_DEFAULT_REGION": "us-east-1",
                    "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"})
        return env
    env = lambda_environment(function, None)
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # read the .pyc files warmed by the first run
    env.pop("POWERTOOLS_TRACE_DISABLED", None)  # deployed with Tracing: Active, so the tracer is on
    return env


def _run(script: str, env: dict[str, str], cwd: str | None = None) -> dict[str, float]:
    out = subprocess.run([sys.executable, "-I", "-S", "-c", script], env=env, cwd=cwd, check=True,
                         capture_output=True, text=True, timeout=120)
    result: dict[str, float] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def measure(function: Function, rounds: int) -> dict[str, float]:
    site = str(lambda_site())
    paths = [str(function.code_uri), *(str(p) for p in function.layer_dirs), site]
    script = CANDIDATE.format(paths=paths, module=function.module)
    floor_script = FLOOR.format(paths=[site])
    env, floor_env = _env(function), _env(None)
    imports: list[float] = []

    def candidate() -> float:
        result = _run(script, env, cwd=str(function.code_uri))
        imports.append(result["import"])
        return result["ready"]

    ready, floor = alternate(candidate, lambda: _run(floor_script, floor_env)["ready"], rounds)
    return {"import_ms": median(imports[1:]) * 1000, "ready_ms": median(ready) * 1000,
            "floor_ms": median(floor) * 1000, "ratio": median(ready) / median(floor)}


def run(quick: bool = False) -> Section:
    rounds = 5 if quick else 15
    rows = []
    checks: dict[str, bool] = {}
    for logical_id, function in sorted(load_template().functions.items()):
        m = measure(function, rounds)
        target = TARGETS.get(logical_id, DEFAULT_TARGET)
        checks[f"cold start {logical_id}"] = m["ratio"] <= target
        rows.append([logical_id, f"{m['import_ms']:.0f}", f"{m['ready_ms']:.0f}", f"{m['floor_ms']:.0f}",
                     ratio_check(m["ratio"], target)])
    body = (
        f"Median CPU time of {rounds} alternating runs per function (fresh `python -I -S` each, importing only "
        "the standard library and what Lambda would have: the runtime's boto3 and the layer's requirements "
        "at this venv's versions, installed into `.bench/lambda-python`; tracing on as deployed). "
        "*import*: the handler "
        "module alone (Lambda's init phase); *ready*: import plus the DynamoDB client the first call would "
        "build (functions that use AWS); floor: `import boto3; boto3.client('dynamodb')`.\n\n"
        + table(["function", "import ms", "ready ms", "floor ms", "ready / floor vs target"], rows)
    )
    return Section("Cold start of every function", "python -m bench --only cold_start", body, checks)
