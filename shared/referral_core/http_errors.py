"""The error body of the API as a raw API Gateway result, with no Powertools import (the raw handlers'
cold path uses it: the redirect, Quick Help, the job webhook), their plain JSON answer beside it, and
their one catch of domain errors (``raw_routes``). ``referral_core.http`` builds resolver responses from
the same body and the same field names."""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from typing import Any

from referral_core.errors import DomainError, RateLimited, Unavailable


def retry_headers(exc: DomainError) -> dict[str, str]:
    """``Retry-After`` for errors worth retrying: throttled (429), a busy dependency (503), or any error
    raised with ``retry_after=`` (e.g. the first of two identical requests still running, 409)."""
    retry = getattr(exc, "retry_after", None) or exc.extra.get("retry_after")
    if retry is None and isinstance(exc, RateLimited | Unavailable):
        retry = 1
    return {} if retry is None else {"Retry-After": str(retry)}


def error_body(code: str, message: str, fields: dict[str, str] | None = None) -> str:
    """The API's one error body: ``{"error": {"code", "message", "fields"}}``."""
    return json.dumps({"error": {"code": code, "message": message, "fields": fields or {}}})


def json_payload(status: int, body: Any, headers: dict[str, str] | None = None) -> dict[str, Any]:
    """A JSON answer as an API Gateway proxy result (not cached unless ``headers`` say so)."""
    return {"statusCode": status,
            "headers": {"Content-Type": "application/json", "Cache-Control": "no-store", **(headers or {})},
            "body": json.dumps(body)}


def error_payload(exc: DomainError) -> dict[str, Any]:
    """``exc`` as an API Gateway proxy result."""
    return {**json_payload(exc.status, None, retry_headers(exc)), "body": error_body(exc.code, exc.message, exc.fields)}


def note_unavailable(exc: DomainError) -> None:
    """A 5xx is a dependency's trouble, worth a warning; a 4xx is the caller's and is only answered."""
    if exc.status >= 500:
        from referral_core.observability import logger  # only on this path: the redirect never loads it

        logger.warning("dependency unavailable", extra={"error": exc.message})


RawHandler = Callable[[dict[str, Any], Any], dict[str, Any]]


def raw_routes(*, on_error: Callable[[DomainError], None] | None = None) -> Callable[[RawHandler], RawHandler]:
    """The one place a raw handler (no resolver) turns a ``DomainError`` into the API's error answer;
    ``on_error`` sees it first (e.g. to count rejected webhooks)."""
    def wrap(handler: RawHandler) -> RawHandler:
        @functools.wraps(handler)
        def answered(event: dict[str, Any], context: Any) -> dict[str, Any]:
            try:
                return handler(event, context)
            except DomainError as exc:
                note_unavailable(exc)
                if on_error is not None:
                    on_error(exc)
                return error_payload(exc)
        return answered
    return wrap


def _field_name(loc: tuple[Any, ...] | list[Any]) -> str:
    # Powertools prefixes body errors with ("body", ...); query/path with ("query", name) etc.
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def validation_fields(errors: list[dict[str, Any]]) -> dict[str, str]:
    """pydantic's (or Powertools') validation errors as ``{field: first message}`` for ``error.fields``."""
    fields: dict[str, str] = {}
    for err in errors:
        name = _field_name(err.get("loc", ()))
        fields.setdefault(name, str(err.get("msg", "is not valid")))
    return fields
