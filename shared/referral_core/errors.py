"""Domain errors. Logic raises these; ``referral_core.http_errors`` is the one place that maps them to HTTP
(the error body and its headers, for the resolvers of ``referral_core.http`` and the raw handlers alike)."""

from __future__ import annotations

from typing import Any, ClassVar


class ConfigError(RuntimeError):
    """The deployment is misconfigured (a missing or malformed setting). Never caught: fail fast."""


class DomainError(Exception):
    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init__(self, message: str, *, fields: dict[str, str] | None = None, **extra: Any) -> None:
        super().__init__(message)
        self.message = message
        self.fields = fields or {}
        self.extra = extra


class InvalidInput(DomainError):
    """The request is well-formed but a field is not acceptable (422, naming the field)."""

    status = 422
    code = "invalid_input"


class MalformedRequest(DomainError):
    status = 400
    code = "malformed_request"


class InvalidCursor(MalformedRequest):
    """A page cursor this list did not hand out: garbled, forged, or from another list (400, ``cursor``)."""

    def __init__(self) -> None:
        super().__init__("cursor is not valid", fields={"cursor": "not a cursor from this list"})


class Unauthorized(DomainError):
    status = 401
    code = "unauthorized"


class NotConfigured(Unauthorized):
    """An adapter whose signing key staff have not set yet: no delivery can be verified, so none is taken."""

    code = "not_configured"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"


class AccountSuspended(Forbidden):
    """A referrer whose account staff suspended (403 ``account_suspended``)."""

    code = "account_suspended"


class FreshSignInRequired(Forbidden):
    """A change that needs a session signed in moments ago (payout details): 403 ``fresh_sign_in_required``."""

    code = "fresh_sign_in_required"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class NotConnected(NotFound):
    """A provider account (a Xero organisation...) whose OAuth tokens were never stored: staff connect it."""

    code = "not_connected"


class Conflict(DomainError):
    """A conditional write lost: the thing exists already, or changed since it was read."""

    status = 409
    code = "conflict"


class LimitReached(Conflict):
    """A limit the programme sets is reached (e.g. active share codes per referrer): 409 ``limit_reached``."""

    code = "limit_reached"


class PayloadTooLarge(DomainError):
    status = 413
    code = "payload_too_large"


class UnsupportedMediaType(DomainError):
    status = 415
    code = "unsupported_media_type"


class RateLimited(DomainError):
    status = 429
    code = "rate_limited"

    def __init__(self, message: str, *, retry_after: int, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class Unavailable(DomainError):
    """A dependency is throttling or timing out; the client may retry (503 with Retry-After)."""

    status = 503
    code = "temporarily_unavailable"
