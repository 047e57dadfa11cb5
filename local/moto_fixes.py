"""Three corrections to moto's DynamoDB so it behaves like the real service under the local stack and the
tests (both call :func:`install`). local/README.md has a reproduction of each, ready to report to moto.

1. **Atomic requests.** DynamoDB applies each request atomically; moto applies a transaction item by
   item with no lock, so concurrent requests interleave inside one another. Requests are serialised here
   (whole requests only: the interleavings *between* requests, which the app's conditional writes must
   survive, are untouched).
2. **Rollback keeps the table and its stream.** On a cancelled transaction moto swaps in a copy of the
   table taken before it. That copy has its own stream shard, so stream readers holding the old shard stop
   seeing records, and writes made meanwhile are lost. Here the table object stays: the items the
   transaction touched are put back and the stream records of its cancelled writes are dropped.
3. **A transaction costs what it touches.** moto's backup for that rollback is a deep copy of the whole
   table, stream records included (which moto never trims), taken before every ``TransactWriteItems``:
   each transaction got slower as the table grew, until a few thousand items made requests time out.
   The backup here is a copy of the (at most 100) items named in the request.
"""

from __future__ import annotations

import copy
import threading
import types
from collections.abc import Callable
from typing import Any

_LOCK = threading.RLock()
_installed = False


def install() -> None:
    """Patch moto once per process (idempotent)."""
    global _installed
    if _installed:
        return
    from moto.dynamodb import models
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.responses import DynamoHandler

    call_action = DynamoHandler.call_action
    transact = DynamoDBBackend.transact_write_items

    def deepcopy_but_tables(value: Any, memo: dict[int, Any] | None = None) -> Any:
        # transact_write_items is the only caller that hands this module's ``copy`` a Table (its backup);
        # the tables stay themselves and _transact_keeping_tables restores what was touched.
        return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    def atomic_call_action(self: DynamoHandler) -> Any:
        with _LOCK:
            return call_action(self)

    def transact_keeping_tables(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        with _LOCK:
            _transact_keeping_tables(self, transact_items, transact)

    models.copy = types.SimpleNamespace(deepcopy=deepcopy_but_tables, copy=copy.copy)  # type: ignore[attr-defined]
    DynamoHandler.call_action = atomic_call_action  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = transact_keeping_tables  # type: ignore[method-assign]
    _installed = True


def _touched(backend: Any, transact_items: list[dict[str, Any]]) -> list[tuple[Any, Any, Any]]:
    """(table, hash key, range key) of every item the request names, as moto's DynamoType keys."""
    from moto.dynamodb.models.dynamo_type import DynamoType

    keys = []
    for entry in transact_items:
        for op_type, op in entry.items():
            table = backend.tables.get(op.get("TableName", ""))
            if table is None:
                continue
            attrs = op.get("Item", {}) if op_type == "Put" else op.get("Key", {})
            if table.hash_key_attr not in attrs:
                continue  # moto rejects it before writing anything
            hash_key = DynamoType(attrs[table.hash_key_attr])
            range_key = None
            if table.has_range_key:
                if table.range_key_attr not in attrs:
                    continue
                range_key = DynamoType(attrs[table.range_key_attr])
            keys.append((table, hash_key, range_key))
    return keys


def _restore(table: Any, hash_key: Any, range_key: Any, saved: Any, had_partition: bool) -> None:
    """Put one item back as it was before the transaction (or remove it if it did not exist)."""
    if range_key is None:
        if saved is None:
            table.items.pop(hash_key, None)
        else:
            table.items[hash_key] = saved
        return
    partition = table.items[hash_key]
    if saved is None:
        partition.pop(range_key, None)
        if not partition and not had_partition:
            del table.items[hash_key]
    else:
        partition[range_key] = saved


def _transact_keeping_tables(backend: Any, transact_items: list[dict[str, Any]],
                             transact: Callable[[Any, list[dict[str, Any]]], None]) -> None:
    """moto's transaction with a backup of the touched items only, restored in place when it is cancelled."""
    backup = []
    for table, h, r in _touched(backend, transact_items):
        had_partition = h in table.items  # before get_item, which adds an empty one to the defaultdict
        backup.append((table, h, r, copy.deepcopy(table.get_item(h, r)), had_partition))
    shard_sizes = {name: len(t.stream_shard.items) for name, t in backend.tables.items() if t.stream_shard}
    tables = dict(backend.tables)
    try:
        transact(backend, transact_items)
    except Exception:
        for table, h, r, saved, had_partition in reversed(backup):
            _restore(table, h, r, saved, had_partition)
        for name, table in tables.items():
            backend.tables[name] = table
            if table.stream_shard is not None:
                del table.stream_shard.items[shard_sizes.get(name, 0):]
        raise
