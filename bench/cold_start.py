"""Cold start of every template function vs a floor, each in a fresh interpreter.

Both sides import only what a deployed function can: the standard library plus :func:`lambda_site`, a
folder holding what the Lambda runtime brings (boto3) and what ``sam build`` puts in the layer
(shared/requirements.txt), at the versions installed here. Not the development venv: it holds test tools
(moto pulls in ``cryptography``, which PyJWT then imports) that the deployed package does not have.

Each run is one fresh ``python -I -S`` with ``sys.path = [CodeUri, *layers, lambda_site]`` and the
environment Lambda would give the function (local.runtime.lambda_environment). It first does the floor's
work, ``import boto3; boto3.client("dynamodb")``, timed on its own, then imports the handler module
(Lambda's init phase), timed on its own. A function that talks to AWS pays both (its first call builds
that client: the floor's client stands in for it, so it is built once), also when only its route modules,
loaded on first use (``routers``: referral_core.http.LazyRouters), import the AWS layer; one that does not
(the staff page, the API document) pays only the second. The ratio is taken run by run, both parts measured within the
same second of the same process, and the median of those ratios is checked against the target.

Why pair inside one process: on this shared machine the floor alone moves 300-500 ms from one process to
the next, so a ratio of medians of separate processes (also reported: the same runs' whole cold start
over the medians of separate floor processes) wanders ±0.15 between repeated runs, while the paired ratio
stays within ±0.02 (docs/quality.md). Both count CPU time (``time.process_time``: steadier than
wall time). Byte-code caches are warmed first (both sides read .pyc files). Tracing is left on, as
deployed.
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
c0 = time.process_time()
import boto3
boto3.client("dynamodb")
print(json.dumps({{"floor": time.process_time() - c0}}))
"""

CANDIDATE = """
import importlib, json, sys, time
sys.path[:0] = {paths!r}
c0 = time.process_time()
import boto3
boto3.client("dynamodb")
c1 = time.process_time()
function = importlib.import_module({module!r})
c2 = time.process_time()
aws = "referral_core.dal.aws" in sys.modules
if not aws and hasattr(function, "routers"):  # route modules loaded on first use (not timed): do they use AWS?
    function.routers.load_all()
    aws = "referral_core.dal.aws" in sys.modules
print(json.dumps({{"floor": c1 - c0, "import": c2 - c1, "aws": aws}}))
"""


def _pinned_requirements() -> str:
    """The layer's requirements, the functions' own (e.g. the Stripe library: in that function's package
    only, never imported by the others) and the runtime's boto3, each at the version this venv has."""
    names = ["boto3"]
    files = [ROOT / "shared" / "requirements.txt", *sorted((ROOT / "functions").glob("*/requirements.txt"))]
    for line in (line for path in files for line in path.read_text().splitlines()):
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
    runs: list[dict[str, float]] = []

    def candidate() -> float:
        run = _run(script, env, cwd=str(function.code_uri))
        run["ready"] = run["import"] + (run["floor"] if run["aws"] else 0.0)
        runs.append(run)
        return run["ready"]

    ready, floors = alternate(candidate, lambda: _run(floor_script, floor_env)["floor"], rounds)
    runs = runs[-rounds:]  # not the warm-up
    return {"import_ms": median([r["import"] for r in runs]) * 1000, "ready_ms": median(ready) * 1000,
            "floor_ms": median([r["floor"] for r in runs]) * 1000,
            "ratio": median([r["ready"] / r["floor"] for r in runs]),
            "separate_ratio": median(ready) / median(floors)}


def run(quick: bool = False) -> Section:
    rounds = 5 if quick else 15
    rows = []
    checks: dict[str, bool] = {}
    for logical_id, function in sorted(load_template().functions.items()):
        m = measure(function, rounds)
        target = TARGETS.get(logical_id, DEFAULT_TARGET)
        checks[f"cold start {logical_id}"] = m["ratio"] <= target
        rows.append([logical_id, f"{m['import_ms']:.0f}", f"{m['ready_ms']:.0f}", f"{m['floor_ms']:.0f}",
                     ratio_check(m["ratio"], target), f"{m['separate_ratio']:.2f}x"])
    body = (
        f"{rounds} runs per function, each a fresh `python -I -S` importing only the standard library and "
        "what Lambda would have (the runtime's boto3 and the layer's requirements at this venv's versions, "
        "installed into `.bench/lambda-python`; tracing on as deployed). Each run times the floor, "
        "`import boto3; boto3.client('dynamodb')`, then the handler module's import (Lambda's init phase) "
        "in the same process. *import*: the handler module after the floor; *ready*: what a cold start "
        "pays, import plus the floor for functions that use AWS (their first call builds that client), the "
        "import alone for the others; medians of CPU time. *ready / floor*: the median of the per-run "
        "ratios (checked). *separate*: median ready over the median of as many floor-only processes run "
        "alternately, for reference (it moves ±0.15 between runs on this machine: bench/cold_start.py).\n\n"
        + table(["function", "import ms", "ready ms", "floor ms", "ready / floor vs target", "separate"], rows)
    )
    return Section("Cold start of every function", "python -m bench --only cold_start", body, checks)
