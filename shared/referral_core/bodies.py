"""Request bodies read by hand, for routes that accept an HTML form as well as JSON.

Powertools' validation parses JSON bodies only, and parses them before any middleware could refuse an
oversized one; these helpers check the media type (415) and the size (413) first, then parse, then
validate with pydantic, raising the project's domain errors (422 naming each field).
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from referral_core.errors import InvalidInput, MalformedRequest, PayloadTooLarge, UnsupportedMediaType
from referral_core.http_errors import validation_fields

JSON = "application/json"
FORM = "application/x-www-form-urlencoded"
MAX_FORM_FIELDS = 50

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Submission:
    media_type: str
    data: dict[str, Any]

    @property
    def is_form(self) -> bool:
        return self.media_type == FORM


def request_headers(event: Mapping[str, Any]) -> dict[str, str]:
    """An HTTP API event's headers by lower-case name (API Gateway sends them so; tests and tools may not)."""
    return {str(name).lower(): value for name, value in (event.get("headers") or {}).items()}


def media_type(event: Mapping[str, Any]) -> str:
    return str(request_headers(event).get("content-type", "")).split(";", 1)[0].strip().lower()


def read_submission(event: Mapping[str, Any], *, max_bytes: int) -> Submission:
    """The body of an HTTP API event as a dict, from JSON or a url-encoded form."""
    kind = media_type(event)
    if kind not in (JSON, FORM):
        raise UnsupportedMediaType(f"send {JSON} or {FORM}", fields={"content-type": kind or "missing"})
    raw = _raw_body(event, max_bytes)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedRequest("the body is not UTF-8", fields={"body": "not UTF-8"}) from None
    if kind == FORM:
        try:
            pairs = parse_qsl(text, keep_blank_values=True, max_num_fields=MAX_FORM_FIELDS)
        except ValueError:
            raise MalformedRequest("too many form fields", fields={"body": "too many fields"}) from None
        return Submission(FORM, dict(pairs))
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        raise MalformedRequest("the body is not valid JSON", fields={"body": "not valid JSON"}) from None
    if not isinstance(data, dict):
        raise MalformedRequest("the body must be a JSON object", fields={"body": "not an object"})
    return Submission(JSON, data)


def _raw_body(event: Mapping[str, Any], max_bytes: int) -> bytes:
    body = event.get("body") or ""
    encoded = bool(event.get("isBase64Encoded"))
    # Refuse by the transported length before decoding anything (base64 is 4/3 of the payload).
    if len(body) > (max_bytes * 4 // 3 + 4 if encoded else max_bytes * 4):
        raise _too_large(max_bytes)
    if encoded:
        try:
            raw = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise MalformedRequest("the body is not valid base64", fields={"body": "bad encoding"}) from None
    else:
        raw = body.encode("utf-8")
    if len(raw) > max_bytes:
        raise _too_large(max_bytes)
    return raw


def _too_large(max_bytes: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the body is larger than {max_bytes} bytes", fields={"body": "too large"})


def validate(model: type[M], data: Mapping[str, Any]) -> M:
    """``model`` from ``data``, or :class:`InvalidInput` naming every bad field."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        fields = validation_fields([dict(error) for error in exc.errors()])
        raise InvalidInput(f"invalid fields: {', '.join(fields)}", fields=fields) from None
