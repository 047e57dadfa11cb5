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
from referral_core.auth import required_role
from scripts import openapi_raw
from scripts.openapi_raw import ERROR_REF

ROOT = Path(__file__).resolve().parents[1]
OUTPUT = ROOT / "functions" / "api_docs" / "openapi.json"
DESCRIPTION = (
    "Referral and reward system for small service businesses. Errors are "
    '`{"error": {"code", "message", "fields"}}` with a 4xx status. Staff routes need a Cognito JWT '
    "in a group that has the route's role (`x-required-role`: `viewer` reads, `staff` changes, `admin` runs "
    "the programme rules, privacy erasure and staff management; docs/admin.md); the API Gateway authorizer "
    "answers 401 `{\"message\": \"Unauthorized\"}` itself, the function 403 for a role too low."
)


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


GATEWAY_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object", "required": ["message"], "properties": {"message": {"type": "string"}},
}
# Powertools documents a ``Response[str]`` return as this: it says nothing about the JSON actually sent.
RETURN_ARTIFACT = {"type": "string", "title": "Return"}
# What the document says instead until the route declares its model: "some JSON", not a wrong "string".
UNDECLARED_BODY = {"description": "JSON; the route does not declare its model yet (docs/api.md describes it)"}
# Answers every resolver route can give (referral_core.http maps them), by status.
COMMON_ERRORS = {
    "422": "A field is not valid (named in error.fields)",
    "503": "A dependency is busy or slow; retry after Retry-After seconds",
}


def _error(description: str, ref: dict[str, str] = ERROR_REF) -> dict[str, Any]:
    return {"description": description, "content": {"application/json": {"schema": ref}}}


def _document_errors(operation: dict[str, Any], *, resolver: bool, session: bool = False) -> None:
    """Error answers carry the one error body (referral_core.http), not Powertools' shapes or its
    ``Response[str]`` placeholder; routes behind the JWT authorizer also answer 401 and 403."""
    responses = operation.setdefault("responses", {})
    if resolver:
        for status, description in COMMON_ERRORS.items():
            responses.setdefault(status, {"description": description})
        if any(param.get("in") == "path" for param in operation.get("parameters", [])):
            responses.setdefault("404", {"description": "Nothing with that id"})
        if "requestBody" in operation or operation.get("parameters"):
            responses.setdefault("400", {"description": "The body is not valid JSON (or nested deeper than 32, "
                                                        "a number over 64 characters, NaN), or a parameter "
                                                        "(a cursor) cannot be read"})
        if "requestBody" in operation:
            responses.setdefault("413", {"description": "The body is larger than 64 KB"})
    if session:  # referrer routes check their session in the function: the one error body
        responses.setdefault("401", {"description": "No valid referrer session"})
    if operation.get("security"):
        responses["401"] = _error("No valid token (answered by API Gateway's JWT authorizer)",
                                  {"$ref": "#/components/schemas/GatewayError"})
        responses.setdefault("403", {"description": "The token's groups do not give the role this route needs"})
    for status, response in responses.items():
        if status.startswith(("4", "5")) and resolver and not (status == "401" and operation.get("security")):
            responses[status] = _error(response.get("description") or COMMON_ERRORS.get(status, "Error"))
    if "422" in responses:
        responses["422"]["description"] = COMMON_ERRORS["422"]
    if resolver and "404" in responses and any(p.get("in") == "path" for p in operation.get("parameters", [])):
        # An id that cannot form a route (an empty or odd segment) is answered by API Gateway itself.
        responses["404"] = _error(responses["404"].get("description", "Nothing with that id"),
                                  {"oneOf": [ERROR_REF, {"$ref": "#/components/schemas/GatewayError"}]})
    for status, response in responses.items():
        json_body = (response.get("content") or {}).get("application/json")
        if status.startswith("2") and json_body and json_body.get("schema") == RETURN_ARTIFACT:
            json_body["schema"] = UNDECLARED_BODY
    operation["responses"] = dict(sorted(responses.items()))


def undocumented_bodies(spec: dict[str, Any]) -> list[str]:
    """Operations whose JSON success answer is documented only as Powertools' ``Response[str]`` placeholder
    (declare the model: ``responses={201: json_answer(Model, "Created")}``, from ``referral_core.http``)."""
    found = []
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation.get("responses", {}).items():
                schema = (response.get("content") or {}).get("application/json", {}).get("schema")
                if status.startswith("2") and schema == UNDECLARED_BODY:
                    found.append(f"{method.upper()} {path} {status}")
    return found


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
        lazy = getattr(module, "routers", None)
        if lazy is not None:  # route modules loaded on first use (referral_core.http.LazyRouters): all of them
            lazy.load_all()
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
    resolver_paths: set[str] = set()  # served by a Powertools resolver (referral_core.http's error mapping)
    secured_paths: set[str] = set()  # served by a function whose routes have the JWT authorizer
    for fn in sorted(template.functions.values(), key=lambda f: f.logical_id):
        if not fn.routes:
            continue
        module = _load(fn)
        paths: dict[str, Any] = {}
        app = getattr(module, "app", None)
        if app is not None and hasattr(app, "get_openapi_schema"):
            schema = app.get_openapi_schema(title="part").model_dump(mode="json", by_alias=True,
                                                                       exclude_none=True)
            resolver_paths.update(schema.get("paths") or {})
            paths.update(schema.get("paths") or {})
            spec["components"]["schemas"].update((schema.get("components") or {}).get("schemas") or {})
        raw = openapi_raw.PATHS.get(Path(fn.code_uri).name)  # routes a resolver does not describe
        for path, item in (raw() if raw else {}).items():
            paths.setdefault(path, {}).update(item)
        for path, item in paths.items():
            spec["paths"].setdefault(path, {}).update(item)
        if any(route.authorizer for route in fn.routes):
            secured_paths.update(paths)
    spec["components"]["schemas"]["ErrorResponse"] = ERROR_SCHEMA
    spec["components"]["schemas"]["GatewayError"] = GATEWAY_ERROR_SCHEMA
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            if path in secured_paths:  # the staff API; not the console's own files (GET /admin, /admin/assets)
                role = required_role(method.upper(), path)
                # OpenAPI 3.1: a non-OAuth scheme may list the roles it needs.
                operation["security"] = [{"staffJwt": [role.value]}]
                operation["x-required-role"] = role.value
                operation["description"] = (f"Role: **{role.value}** or higher (admin > staff > viewer). "
                                            + operation.get("description", "")).strip()
            _document_errors(operation, resolver=path in resolver_paths,
                             session=path in {"/me", "/auth/session"} or path.startswith("/me/"))
    for unused in ("HTTPValidationError", "ValidationError", "ResponseValidationError"):
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
