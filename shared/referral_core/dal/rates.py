"""Fixed-window counters (``rate`` items, docs/data-model.md): ``RATE#{scope}#{key}#{window}``/``RATE``,
expiring (TTL) when their window ends. Used by request limits (leads, sign-in) and velocity checks."""

from __future__ import annotations

from dataclasses import dataclass

from referral_core.clock import epoch
from referral_core.dal.dynamo import Table


def rate_key(scope: str, key: str, window: int) -> tuple[str, str]:
    return f"RATE#{scope}#{key}#{window}", "RATE"


@dataclass(frozen=True)
class Window:
    """One fixed window of a counter: ``RATE#{scope}#{key}#{index}``, expiring after the window ends."""

    scope: str
    key: str
    index: int
    expires_epoch: int

    @property
    def item_key(self) -> tuple[str, str]:
        return rate_key(self.scope, self.key, self.index)

    @classmethod
    def current(cls, scope: str, key: str, seconds: int) -> Window:
        """The window of ``seconds`` that contains now."""
        index = epoch() // seconds
        return cls(scope=scope, key=key, index=index, expires_epoch=(index + 1) * seconds)


def count_hit(table: Table, window: Window) -> int:
    """Add one to the window's counter (one UpdateItem) and return the new count."""
    pk, sk = window.item_key
    new = table.update(pk, sk, "ADD hits :one SET #type = :type, expiration = :exp", names={"#type": "type"},
                       values={":one": 1, ":type": "rate", ":exp": window.expires_epoch}, return_new=True)
    return int((new or {}).get("hits", 1))
