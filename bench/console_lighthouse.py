"""Lighthouse (performance, accessibility) over the staff console on the local stack: the sign-in screen
and every signed-in list screen, mobile (Lighthouse's default: a mid-range phone, simulated slow 4G).

Runs ``bench/lighthouse/console.mjs`` (Lighthouse + puppeteer-core, pinned in bench/lighthouse/package.json,
installed with ``npm ci``) with the Chromium that ``make test`` installs, against ``python -m local`` in a
subprocess (a fresh local directory). Targets (issue 18): performance ≥ 90, accessibility ≥ 95 per screen.
"""

from __future__ import annotations

import json
import os
import subprocess
import tempfile
from pathlib import Path

from bench.support import ROOT, Section, table
from local.resources import DEMO_PASSWORD, STAFF_EMAIL
from local.testing import StackProcess

HERE = ROOT / "bench" / "lighthouse"
CHROMIUM = os.environ.get("CHROME_PATH", "/usr/bin/chromium")


def _install() -> None:
    if not (HERE / "node_modules" / "lighthouse").exists():
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=HERE, check=True)


def measure() -> list[dict[str, float | str | None]]:
    _install()
    with tempfile.TemporaryDirectory() as tmp:
        stack = StackProcess(local_dir=Path(tmp) / "local")
        stack.start()
        try:
            out = Path(tmp) / "scores.json"
            subprocess.run(["node", "console.mjs", stack.base_url, STAFF_EMAIL, DEMO_PASSWORD, str(out)], cwd=HERE,
                           check=True, timeout=900, env={**os.environ, "CHROME_PATH": CHROMIUM})
            scores: list[dict[str, float | str | None]] = json.loads(out.read_text())
        finally:
            stack.stop()
    return scores


def _pct(value: float | str | None) -> str:
    return "—" if not isinstance(value, int | float) else f"{round(value * 100)}"


def _ms(value: float | str | None) -> str:
    return "—" if not isinstance(value, int | float) else f"{value:.0f} ms"


def run(quick: bool = False) -> Section:
    scores = measure()
    rows = [[str(s["screen"]), _pct(s["performance"]), _pct(s["accessibility"]),
             _ms(s.get("first-contentful-paint")), _ms(s.get("largest-contentful-paint")),
             _ms(s.get("total-blocking-time")),
             f"{s['cumulative-layout-shift']:.3f}" if isinstance(s.get("cumulative-layout-shift"), float) else "0"]
            for s in scores]
    checks = {
        "performance ≥ 90 on every screen": all(isinstance(s["performance"], int | float) and s["performance"] >= 0.9
                                                for s in scores),
        "accessibility ≥ 95 on every screen": all(isinstance(s["accessibility"], int | float)
                                                  and s["accessibility"] >= 0.95 for s in scores),
    }
    body = table(["screen", "performance", "accessibility", "FCP", "LCP", "TBT", "CLS"], rows) + (
        "\n\nLighthouse's mobile defaults (simulated slow 4G, 4x CPU slowdown) in headless Chromium; the sign-in "
        "screen as a cold navigation, each signed-in screen as a navigation keeping the tab's sessionStorage. "
        "The data comes from the local stack (moto), slower than DynamoDB.")
    return Section("Staff console: Lighthouse (bench/console_lighthouse.py)", "python -m bench --only lighthouse",
                   body, checks)
