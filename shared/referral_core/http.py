"""The one place where domain errors become HTTP responses, and the resolver every API function uses.

Error body (../shared/API.md): ``{"error": {"code", "message", "fields"}}``. Routes never try/except.
"""

from __future__ import annotations

import importlib
import json
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayHttpResolver, Response
from aws_lambda_powertools.event_handler.openapi.exceptions import RequestValidationError

from referral_core.bodies import MAX_JSON_BYTES, loads
from referral_core.errors import DomainError
from referral_core.http_errors import error_body, note_unavailable, retry_headers, validation_fields

JSON = "application/json"


def error_response(status: int, code: str, message: str, fields: dict[str, str] | None = None,
                   headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=error_body(code, message, fields),
                    headers={"Cache-Control": "no-store", **(headers or {})})


def json_response(status: int, body: Any, headers: dict[str, str] | None = None) -> Response[str]:
    return Response(status_code=status, content_type=JSON, body=json.dumps(body, default=str),
                    headers={"Cache-Control": "no-store", **(headers or {})})


def json_answer(model: type[Any], description: str) -> dict[str, Any]:
    """A route's documented JSON answer, for ``responses={201: json_answer(Model, "Created")}``: the OpenAPI
    document shows ``model``'s schema. Build the body through the same model (``.model_dump(mode="json")``)
    so that what is documented is what is sent (tests/support/response_models.py checks every answer)."""
    return {"description": description, "content": {JSON: {"model": model}}}


def create_resolver() -> APIGatewayHttpResolver:
    """An HTTP API resolver with pydantic validation and this project's error mapping registered. Its JSON
    bodies are read by the one bounded body reader (``referral_core.bodies.loads``): a hostile body is a
    400 before validation, never a 500."""
    app = APIGatewayHttpResolver(enable_validation=True, json_body_deserializer=_read_json)

    @app.exception_handler(RequestValidationError)
    def _invalid(exc: RequestValidationError) -> Response[str]:
        errors = list(exc.errors())
        if any(e.get("type") == "json_invalid" for e in errors):
            return error_response(400, "malformed_request", "the body is not valid JSON",
                                  {"body": "not valid JSON"})
        fields = validation_fields(errors)
        return error_response(422, "invalid_input", f"invalid fields: {', '.join(fields)}", fields)

    @app.exception_handler(ValueError)
    def _unreadable(exc: ValueError) -> Response[str]:
        # Powertools' body parsing raises bare ValueErrors: a body that is not UTF-8, a multipart
        # Content-Type without a boundary. Anything else is a bug: let it fail loudly.
        if not isinstance(exc, UnicodeDecodeError) and "boundary" not in str(exc):
            raise exc
        return error_response(400, "malformed_request", "the body cannot be read as its Content-Type says",
                              {"body": "unreadable"})

    @app.not_found
    def _no_route(exc: Exception) -> Response[str]:
        return error_response(404, "not_found", "no such resource")

    @app.exception_handler(DomainError)
    def _domain(exc: DomainError) -> Response[str]:
        note_unavailable(exc)
        return error_response(exc.status, exc.code, exc.message, exc.fields, retry_headers(exc))

    return app


def _read_json(body: str) -> Any:
    return loads(body, max_bytes=MAX_JSON_BYTES)


class LazyRouters:
    """The route modules of one resolver, each imported and included on the first request it serves.

    A function that serves many routes (the staff endpoint, the portal) would otherwise load every module,
    model and library of every route at each cold start, while one request needs one module. ``modules``
    maps path segments after ``prefix`` (``"reviews"``, or ``"me/referrals"``: the longest match wins; a
    ``*`` segment matches any one segment, e.g. an id in ``"referrers/*/share-codes"``, and an exact
    segment beats it) to the module (with a module-level Powertools ``router``) serving them; a path
    matching none loads nothing
    and is served by the routes on the resolver itself, or gets its 404. ``load_all`` is for the OpenAPI
    generator and for tests that look at the whole route table.
    """

    def __init__(self, app: APIGatewayHttpResolver, *, prefix: str, modules: Mapping[str, str]) -> None:
        self.app, self.prefix, self.modules = app, prefix, dict(modules)
        self._included: set[str] = set()

    def load_for(self, event: Mapping[str, Any]) -> None:
        path = str(event.get("rawPath") or event.get("path") or "")
        if not path.startswith(self.prefix):
            return
        name = self.module_for(path[len(self.prefix):].split("/"))
        if name is not None:
            self._include(name)

    def module_for(self, segments: list[str]) -> str | None:
        """The module of the longest mapped prefix of ``segments`` (fewest ``*`` first), or None."""
        for n in range(len(segments), 0, -1):
            head = segments[:n]
            matches = [(key.count("*"), name) for key, name in self.modules.items()
                       if _matches(key.split("/"), head)]
            if matches:
                return min(matches)[1]
        return None

    def load_all(self) -> None:
        for name in dict.fromkeys(self.modules.values()):
            self._include(name)

    def _include(self, name: str) -> None:
        if name not in self._included:
            self.app.include_router(importlib.import_module(name).router)
            self._included.add(name)


def _matches(pattern: list[str], segments: list[str]) -> bool:
    return len(pattern) == len(segments) and all(p in ("*", s) for p, s in zip(pattern, segments, strict=True))
