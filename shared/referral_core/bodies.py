"""The one body reader: every JSON body of the API is parsed by :func:`loads`, and forms by
:func:`read_submission`.

:func:`loads` bounds what a hostile body can make the parser do: nesting deeper than ``MAX_DEPTH``, a
number literal longer than ``MAX_NUMBER_CHARS`` (Python refuses to read integers of over 4,300 digits with
a bare ``ValueError``), ``NaN``/``Infinity`` and invalid JSON are all the same 400 ``malformed_request``
naming ``body``, before anything is validated or written. The raw handlers (Quick Help, the job webhook)
call it directly; the Powertools resolvers (staff, portal) get it as their ``json_body_deserializer``
(``referral_core.http.create_resolver``), with a size cap of ``MAX_JSON_BYTES``.

:func:`read_submission` is for routes that accept an HTML form as well as JSON: it checks the media type
(415) and the size (413) first, then parses, then :func:`validate` applies pydantic, raising the project's
domain errors (422 naming each field). Every integer field of a request model has a maximum (422 above it).
"""

from __future__ import annotations

import base64
import binascii
import json
import math
import re
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
#: Arrays and objects inside one another: no request of the API needs more than 4 or 5.
MAX_DEPTH = 32
#: Characters of one number literal: 64 is past every field's maximum (and DynamoDB's 38 digits), so a big
#: number still reaches its model and gets a 422 naming the field; a longer one is not read at all.
MAX_NUMBER_CHARS = 64
#: JSON bodies of the resolver routes (staff, portal): far above any request, far below API Gateway's 10 MB.
MAX_JSON_BYTES = 64 * 1024

# A JSON string (escapes included) or one bracket: strings are skipped whole, so brackets inside them
# do not count towards the depth.
_STRING_OR_BRACKET = re.compile(r'"(?:[^"\\]|\\.)*"|[\[\]{}]', re.DOTALL)

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
    data = loads(text)
    if not isinstance(data, dict):
        raise MalformedRequest("the body must be a JSON object", fields={"body": "not an object"})
    return Submission(JSON, data)


def loads(body: str | bytes, *, max_bytes: int | None = None) -> Any:
    """``body`` parsed as JSON within this module's bounds, or :class:`MalformedRequest` (400) naming
    ``body``; :class:`PayloadTooLarge` (413) over ``max_bytes``. Never any other exception."""
    if max_bytes is not None and len(body if isinstance(body, bytes) else body.encode()) > max_bytes:
        raise _too_large(max_bytes)
    if isinstance(body, bytes):
        try:
            body = body.decode("utf-8")
        except UnicodeDecodeError:
            raise MalformedRequest("the body is not UTF-8", fields={"body": "not UTF-8"}) from None
    if _depth(body) > MAX_DEPTH:
        raise _malformed(f"nested deeper than {MAX_DEPTH} levels")
    try:
        return json.loads(body, parse_int=_integer, parse_float=_number, parse_constant=_constant)
    except (json.JSONDecodeError, RecursionError):
        raise _malformed("not valid JSON") from None


def _depth(text: str) -> int:
    depth = deepest = 0
    for token in _STRING_OR_BRACKET.findall(text):
        if token in ("[", "{"):
            depth += 1
            deepest = max(deepest, depth)
        elif token in ("]", "}"):
            depth -= 1
    return deepest


def _integer(literal: str) -> int:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _malformed(f"a number longer than {MAX_NUMBER_CHARS} characters")
    return int(literal)


def _number(literal: str) -> float:
    if len(literal) > MAX_NUMBER_CHARS:
        raise _malformed(f"a number longer than {MAX_NUMBER_CHARS} characters")
    number = float(literal)
    if math.isinf(number):  # 1e400
        raise _malformed("a number out of range")
    return number


def _constant(literal: str) -> Any:
    raise _malformed(f"{literal} is not a JSON number")


def _malformed(problem: str) -> MalformedRequest:
    if problem == "not valid JSON":
        return MalformedRequest("the body is not valid JSON", fields={"body": problem})
    return MalformedRequest(f"the body is not valid JSON: {problem}", fields={"body": problem})


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
