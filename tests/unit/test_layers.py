"""The layering rules of docs/architecture.md that import-linter (pyproject.toml, `make lint`) does not check.

import-linter holds every import rule inside referral_core (services over dal, only the dal imports boto3,
pages read no data, models plain, nothing imports functions/). Here: the function modules' imports (plain
modules outside the layer's package, which `lint-imports` does not analyse) and the rules no import graph
shows.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

pytestmark = pytest.mark.unit

ROOT = Path(__file__).resolve().parents[2]
CORE = ROOT / "shared" / "referral_core"
FUNCTIONS = ROOT / "functions"


def imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def sources(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.py"))


def test_no_function_module_imports_boto3():
    """Inside referral_core, import-linter's contracts (pyproject.toml, `make lint`) keep boto3 in the dal;
    the function modules are not a package it can analyse, so they are checked here."""
    offenders = [
        str(path.relative_to(ROOT))
        for path in sources(FUNCTIONS)
        if any(name.split(".")[0] in {"boto3", "botocore"} for name in imports(path))
    ]
    assert offenders == []


def test_only_config_reads_the_environment():
    offenders = [str(p.relative_to(ROOT)) for p in sources(CORE) + sources(FUNCTIONS)
                 if "os.environ" in p.read_text() and p.name != "config.py"]
    assert offenders == []


def test_handler_modules_are_named_after_their_folder():
    for folder in FUNCTIONS.iterdir():
        if folder.is_dir() and not folder.name.startswith(("_", ".")):
            assert (folder / f"{folder.name}.py").exists(), folder.name


def test_no_scan_in_application_code():
    offenders = [str(p.relative_to(ROOT)) for p in sources(CORE) + sources(FUNCTIONS)
                 if ".scan(" in p.read_text()]
    assert offenders == []


def test_every_api_model_is_built_on_first_use_not_at_import():
    """Models derive from referral_core.models.base.Model (``defer_build``): cold starts build none."""
    import importlib
    import inspect
    import pkgutil

    from pydantic import BaseModel

    import referral_core.models
    from referral_core.models.base import Model

    eager = []
    for info in pkgutil.iter_modules(referral_core.models.__path__):
        module = importlib.import_module(f"referral_core.models.{info.name}")
        for name, value in vars(module).items():
            if inspect.isclass(value) and issubclass(value, BaseModel) and value.__module__ == module.__name__ \
                    and value is not Model and not issubclass(value, Model):
                eager.append(f"{module.__name__}.{name}")
    assert eager == []
