"""What every benchmark section shares: medians of alternating runs, machine facts, Markdown output."""

from __future__ import annotations

import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "RESULTS.md"


@dataclass
class Section:
    """One part of RESULTS.md: a title, the command that reproduces it, Markdown, and pass/fail."""

    title: str
    command: str
    body: str
    checks: dict[str, bool] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        return all(self.checks.values())

    def markdown(self) -> str:
        verdict = ""
        if self.checks:
            failed = [name for name, ok in self.checks.items() if not ok]
            verdict = "**PASS**" if not failed else f"**FAIL**: {', '.join(failed)}"
            verdict = f"\n\nVerdict: {verdict}"
        return f"## {self.title}\n\n`{self.command}`\n\n{self.body.strip()}{verdict}\n"


def alternate(candidate: Callable[[], float], floor: Callable[[], float], rounds: int,
              warmup: int = 1) -> tuple[list[float], list[float]]:
    """Run floor and candidate one after the other ``rounds`` times (machine noise hits both alike)."""
    for _ in range(warmup):
        floor()
        candidate()
    cand: list[float] = []
    base: list[float] = []
    for _ in range(rounds):
        base.append(floor())
        cand.append(candidate())
    return cand, base


def median(values: Sequence[float]) -> float:
    return statistics.median(values)


def ratio_check(ratio: float, target: float) -> str:
    return f"{ratio:.2f}x ≤ {target:.2f}x ✅" if ratio <= target else f"{ratio:.2f}x > {target:.2f}x ❌"


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    lines = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def machine() -> str:
    """The facts a reader needs to compare these numbers with their own."""
    versions = ", ".join(f"{name} {metadata.version(name)}"
                         for name in ("boto3", "botocore", "aws-lambda-powertools", "pydantic", "moto"))
    return (f"{platform.system()} {platform.release()} {platform.machine()}, {_cpu_model()}, "
            f"{os.cpu_count()} CPUs; Python {sys.version.split()[0]}; {versions}")
