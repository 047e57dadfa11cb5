"""Two corrections to moto's DynamoDB so it behaves like the real service under the local stack and the
tests (both call :func:`install`).

1. **Atomic requests.** DynamoDB applies each request atomically; moto applies a transaction item by
   item with no lock, so concurrent requests interleave inside one another. Requests are serialised here
   (whole requests only: the interleavings *between* requests, which the app's conditional writes must
   survive, are untouched).
2. **Rollback keeps the table and its stream.** On a cancelled transaction moto swaps in a deep copy of
   the table taken before it. That copy has its own stream shard, so stream readers holding the old
   shard stop seeing records, and writes made meanwhile are lost. Here the original table object is kept:
   its items are restored from the copy and the stream records of the cancelled writes are dropped.
"""

from __future__ import annotations

import threading
from typing import Any

_LOCK = threading.RLock()
_installed = False


def install() -> None:
    """Patch moto once per process (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    transact = DynamoDBBackend.transact_write_items

    def atomic_call_action(self: DynamoHandler) -> Any:
        with _LOCK:
            return call_action(self)

    def transact_keeping_tables(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            tables = dict(self.tables)
            shard_sizes = {name: len(t.stream_shard.items) for name, t in tables.items() if t.stream_shard}
            try:
                transact(self, transact_items)
            except Exception:
                for name, original in tables.items():
                    restored = self.tables.get(name)
                    if restored is not None and restored is not original:
                        original.items = restored.items
                        if original.stream_shard is not None:
                            del original.stream_shard.items[shard_sizes.get(name, 0):]
                        self.tables[name] = original
                raise

    DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_keeping_tables  # type: ignore[method-assign]
    _installed = True
