"""The job system's Standard Webhooks signing secrets (Secrets Manager JSON ``{"secrets": [...]}``).

Kept for the life of the container, with one bounded refresh: when no configured secret matches a
delivery, :meth:`SigningSecrets.refreshed` re-reads the secret at most once per ``min_refresh_s``, so a
rotation is picked up without a restart and bad signatures cannot hammer Secrets Manager.
"""

from __future__ import annotations

import json
import threading
import time

from referral_core.dal.secrets import read_secret_string
from referral_core.errors import ConfigError


class SigningSecrets:
    def __init__(self, secret_id: str, *, min_refresh_s: float = 60.0) -> None:
        self.secret_id = secret_id
        self.min_refresh_s = min_refresh_s
        self._lock = threading.Lock()
        self._secrets: tuple[str, ...] | None = None
        self._read_at = 0.0

    def current(self) -> tuple[str, ...]:
        with self._lock:
            if self._secrets is None:
                self._load()
            assert self._secrets is not None
            return self._secrets

    def refreshed(self) -> tuple[str, ...] | None:
        """The secrets read again now, or None if they were read too recently to ask again."""
        with self._lock:
            if self._secrets is not None and time.monotonic() - self._read_at < self.min_refresh_s:
                return None
            self._load()
            return self._secrets

    def _load(self) -> None:
        raw = json.loads(read_secret_string(self.secret_id))
        found = raw.get("secrets") if isinstance(raw, dict) else None
        if not isinstance(found, list) or not all(isinstance(s, str) for s in found):
            raise ConfigError(f'secret {self.secret_id} must be JSON {{"secrets": ["whsec_..."]}}')
        self._secrets = tuple(found)
        self._read_at = time.monotonic()
