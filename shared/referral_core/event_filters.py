"""Lambda event-filtering patterns (the EventBridge pattern subset Lambda accepts in FilterCriteria).

One engine for both sides: the stream dispatcher routes each change to the consumers whose patterns match
(functions/dispatch_changes), and the local stack applies a template's FilterCriteria with it (local/streams.py).

A pattern is a JSON object; every key must match (AND). A nested object descends into the event; a list
is a set of alternatives (OR) compared with the event value (or any element when the value is a list).
Alternatives: exact scalars (string, number, boolean, null), `{"prefix"}`, `{"suffix"}`,
`{"equals-ignore-case"}`, `{"anything-but": value | [values] | {"prefix"} | {"suffix"}}`,
`{"numeric": [op, n, ...]}`, `{"exists": bool}`. A record is kept when any filter matches.
"""

from __future__ import annotations

import operator
from collections.abc import Callable, Iterable, Mapping
from typing import Any

_MISSING = object()

_NUMERIC_OPS: dict[str, Callable[[float, float], bool]] = {
    "=": operator.eq,
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def matches_any(patterns: Iterable[Mapping[str, Any]], event: Mapping[str, Any]) -> bool:
    """True when there are no patterns or at least one matches (filters are OR'ed)."""
    patterns = list(patterns)
    return not patterns or any(matches(p, event) for p in patterns)


def matches(pattern: Mapping[str, Any], event: Any) -> bool:
    """True when `event` satisfies every key of `pattern`."""
    if not isinstance(event, Mapping):
        return False
    for key, rule in pattern.items():
        value = event.get(key, _MISSING)
        if isinstance(rule, Mapping):
            if value is _MISSING or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            if not _match_alternatives(rule, value):
                return False
        else:
            raise ValueError(f"filter pattern value for {key!r} must be an object or a list, got {rule!r}")
    return True


def _match_alternatives(alternatives: list[Any], value: Any) -> bool:
    for alt in alternatives:
        if isinstance(alt, Mapping) and "exists" in alt:
            exists = value is not _MISSING
            if exists == bool(alt["exists"]):
                return True
            continue
        if value is _MISSING:
            continue
        values = value if isinstance(value, list) else [value]
        if any(_match_one(alt, v) for v in values):
            return True
    return False


def _match_one(alt: Any, value: Any) -> bool:
    if not isinstance(alt, Mapping):
        return _scalar_equal(alt, value)
    if "prefix" in alt:
        return isinstance(value, str) and value.startswith(str(alt["prefix"]))
    if "suffix" in alt:
        return isinstance(value, str) and value.endswith(str(alt["suffix"]))
    if "equals-ignore-case" in alt:
        return isinstance(value, str) and value.casefold() == str(alt["equals-ignore-case"]).casefold()
    if "anything-but" in alt:
        excluded = alt["anything-but"]
        if isinstance(excluded, Mapping):
            return not _match_one(excluded, value)
        excluded_list = excluded if isinstance(excluded, list) else [excluded]
        return not any(_scalar_equal(e, value) for e in excluded_list)
    if "numeric" in alt:
        return _numeric(alt["numeric"], value)
    raise ValueError(f"unsupported filter rule {dict(alt)!r}")


def _scalar_equal(expected: Any, value: Any) -> bool:
    if isinstance(expected, bool) or isinstance(value, bool) or expected is None or value is None:
        return expected is value or (expected == value and type(expected) is type(value))
    if isinstance(expected, int | float) and isinstance(value, int | float):
        return float(expected) == float(value)
    return type(expected) is type(value) and bool(expected == value)


def _numeric(spec: list[Any], value: Any) -> bool:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return False
    for op, bound in zip(spec[::2], spec[1::2], strict=True):
        if op not in _NUMERIC_OPS:
            raise ValueError(f"unsupported numeric operator {op!r}")
        if not _NUMERIC_OPS[op](float(value), float(bound)):
            return False
    return True
