"""Generate the OpenAPI document of every JSON route from the code (Powertools resolvers) and the
template's routes, into functions/api_docs/openapi.json (served at GET /openapi.json).

    python -m scripts.openapi --write   # regenerate (make openapi)
    python -m scripts.openapi --check   # exit 1 when the committed file is stale (tests do this)
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import sys
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from local.template import Function, load_template

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "functions" / "api_docs" / "openapi.json"
DESCRIPTION = (
    "Referral and reward system for small service businesses. Errors are "
    '`{"error": {"code", "message", "fields"}}` with a 4xx status. Staff routes need a Cognito JWT '
    "(group `staff`); the API Gateway authorizer answers 401 `{\"message\": \"Unauthorized\"}` itself."
)


ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {"error": {
        "type": "object",
        "required": ["code", "message", "fields"],
        "properties": {
            "code": {"type": "string"},
            "message": {"type": "string"},
            "fields": {"type": "object", "additionalProperties": {"type": "string"}},
        },
    }},
}


@contextmanager
def _function_env(fn: Function):
    saved = dict(os.environ)
    os.environ.update(fn.env)
    sys.path.insert(0, str(fn.code_uri))
    try:
        yield
    finally:
        sys.path.remove(str(fn.code_uri))
        os.environ.clear()
        os.environ.update(saved)


def _load(fn: Function) -> Any:
    with _function_env(fn):
        spec = importlib.util.spec_from_file_location(f"_openapi_{fn.logical_id}", fn.code_uri / f"{fn.module}.py")
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
    return module


def build() -> dict[str, Any]:
    template = load_template()
    spec: dict[str, Any] = {
        "openapi": "3.1.0",
        "info": {"title": "Referral system API", "version": "1.0.0", "description": DESCRIPTION},
        "paths": {},
        "components": {
            "schemas": {},
            "securitySchemes": {"staffJwt": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}},
        },
    }
    for fn in sorted(template.functions.values(), key=lambda f: f.logical_id):
        if not fn.routes:
            continue
        module = _load(fn)
        app = getattr(module, "app", None)
        if app is not None and hasattr(app, "get_openapi_schema"):
            schema = app.get_openapi_schema(title="part").model_dump(mode="json", by_alias=True,
                                                                       exclude_none=True)
            for path, item in (schema.get("paths") or {}).items():
                spec["paths"].setdefault(path, {}).update(item)
            spec["components"]["schemas"].update((schema.get("components") or {}).get("schemas") or {})
        for path, item in getattr(module, "OPENAPI_PATHS", {}).items():
            spec["paths"].setdefault(path, {}).update(item)
    spec["components"]["schemas"]["ErrorResponse"] = ERROR_SCHEMA
    for path, item in spec["paths"].items():
        for operation in item.values():
            if path.startswith("/admin/"):  # GET /admin, the staff page itself, is public
                operation["security"] = [{"staffJwt": []}]
            responses = operation.setdefault("responses", {})
            if "422" in responses:  # ours, not Powertools' default validation body (referral_core.http)
                responses["422"] = {"description": "A field is not valid (named in error.fields)",
                                    "content": {"application/json": {"schema": ERROR_REF}}}
    for unused in ("HTTPValidationError", "ValidationError"):
        spec["components"]["schemas"].pop(unused, None)
    spec["paths"] = dict(sorted(spec["paths"].items()))
    spec["components"]["schemas"] = dict(sorted(spec["components"]["schemas"].items()))
    return spec


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=False) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    text = render()
    if args.check:
        if not OUTPUT.exists() or OUTPUT.read_text() != text:
            print(f"{OUTPUT.relative_to(ROOT)} is stale: run `make openapi`", file=sys.stderr)
            return 1
        return 0
    if args.write:
        OUTPUT.write_text(text)
        print(f"wrote {OUTPUT.relative_to(ROOT)} ({len(text)} bytes)")
        return 0
    print(text, end="")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
