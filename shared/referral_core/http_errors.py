"""The error body of the API as a raw API Gateway result, with no Powertools import (the redirect's cold
path uses it). ``referral_core.http`` builds resolver responses from the same shape."""

from __future__ import annotations

import json
from typing import Any

from referral_core.errors import DomainError, RateLimited, Unavailable


def error_payload(exc: DomainError) -> dict[str, Any]:
    """``exc`` as an API Gateway proxy result: ``{"error": {"code", "message", "fields"}}``."""
    headers = {"Content-Type": "application/json", "Cache-Control": "no-store"}
    if isinstance(exc, RateLimited | Unavailable):
        headers["Retry-After"] = str(getattr(exc, "retry_after", None) or exc.extra.get("retry_after", 1))
    return {"statusCode": exc.status, "headers": headers,
            "body": json.dumps({"error": {"code": exc.code, "message": exc.message, "fields": exc.fields}})}
