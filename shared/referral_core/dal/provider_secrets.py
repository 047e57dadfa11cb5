"""A job-system provider's credentials in Secrets Manager (one JSON secret each), for the adapters.

Read once per container, with one bounded refresh as :mod:`referral_core.dal.signing_secrets` does: when
a signature matches none of the configured keys, :meth:`ProviderSecret.refreshed` re-reads the secret at
most once per ``min_refresh_s``, so a key regenerated at the provider is picked up without a restart and
bad signatures cannot hammer Secrets Manager. :meth:`ProviderSecret.store` writes a new value (an OAuth
token pair after a refresh).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from typing import Any, TypeVar

from botocore.exceptions import ClientError

from referral_core.dal.aws import client
from referral_core.dal.dynamo import translate
from referral_core.dal.secrets import read_secret_string
from referral_core.errors import ConfigError, NotConfigured, NotConnected

T = TypeVar("T")


def to_verify(read: Callable[[dict[str, Any], str, str], T], value: dict[str, Any], name: str, secret_id: str) -> T:
    """``read`` (:func:`strings` or :func:`text`) of what verifies a delivery: not set yet (an adapter deployed
    before staff filled in its secret) is a 401 for the caller, as no signature can match, not a 500."""
    try:
        return read(value, name, secret_id)
    except ConfigError:
        raise NotConfigured(f"this adapter's {name} is not set yet") from None


class ProviderSecret:
    def __init__(self, secret_id: str, *, min_refresh_s: float = 60.0) -> None:
        self.secret_id = secret_id
        self.min_refresh_s = min_refresh_s
        self._lock = threading.Lock()
        self._value: dict[str, Any] | None = None
        self._read_at = 0.0

    def current(self) -> dict[str, Any]:
        with self._lock:
            if self._value is None:
                self._load()
            assert self._value is not None
            return self._value

    def refreshed(self) -> dict[str, Any] | None:
        """The secret read again now, or None if it was read too recently to ask again."""
        with self._lock:
            if self._value is not None and time.monotonic() - self._read_at < self.min_refresh_s:
                return None
            self._load()
            return self._value

    def store(self, value: dict[str, Any]) -> None:
        """Write ``value`` as the secret's new current version (and keep it)."""
        try:
            client("secretsmanager").put_secret_value(SecretId=self.secret_id, SecretString=json.dumps(value))
        except Exception as exc:
            raise translate(exc) from exc
        with self._lock:
            self._value = dict(value)
            self._read_at = time.monotonic()

    def _load(self) -> None:
        try:
            raw = json.loads(read_secret_string(self.secret_id))
        except json.JSONDecodeError:
            raise ConfigError(f"secret {self.secret_id} must hold a JSON object") from None
        if not isinstance(raw, dict):
            raise ConfigError(f"secret {self.secret_id} must hold a JSON object")
        self._value = raw
        self._read_at = time.monotonic()


def strings(value: dict[str, Any], name: str, secret_id: str) -> tuple[str, ...]:
    """``value[name]``: a list of non-empty strings (signing keys), or a :class:`ConfigError` naming it."""
    found = value.get(name)
    if not isinstance(found, list) or not found or not all(isinstance(s, str) and s for s in found):
        raise ConfigError(f'secret {secret_id} must hold "{name}": ["..."] (at least one)')
    return tuple(found)


def text(value: dict[str, Any], name: str, secret_id: str) -> str:
    found = value.get(name)
    if not isinstance(found, str) or not found:
        raise ConfigError(f'secret {secret_id} must hold "{name}": "..."')
    return found


class TenantTokens:
    """OAuth token pairs, one secret per connected organisation: ``{prefix}/{tenant_id}`` holding
    ``{"access_token": ..., "refresh_token": ...}``. Kept per container, replaced by :meth:`store`."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix.rstrip("/")
        self._secrets: dict[str, ProviderSecret] = {}
        self._lock = threading.Lock()

    def _secret(self, tenant_id: str) -> ProviderSecret:
        with self._lock:
            return self._secrets.setdefault(tenant_id, ProviderSecret(f"{self.prefix}/{tenant_id}"))

    def tokens(self, tenant_id: str) -> dict[str, Any]:
        """The organisation's pair; :class:`NotConnected` when its secret was never created (asked again
        on the next event, so connecting it takes effect without a restart)."""
        try:
            return self._secret(tenant_id).current()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") != "ResourceNotFoundException":
                raise
            raise NotConnected(f"no token pair stored for tenant {tenant_id}") from None

    def store(self, tenant_id: str, tokens: dict[str, Any]) -> None:
        self._secret(tenant_id).store(tokens)
