"""Programme rules that several features read, with the defaults used until staff change them.

Rules live in the ``PROGRAM`` / ``CURRENT`` item (docs/data-model.md). Each reader takes that item (or
``None`` when no programme was saved yet) and returns a typed, validated view with the documented
defaults filled in, so callers never handle missing keys.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from referral_core.errors import ConfigError

Source = Literal["code", "click", "refer_a_job", "claim"]
Model = Literal["first_touch", "last_touch"]

SOURCES: tuple[Source, ...] = ("code", "click", "refer_a_job", "claim")


@dataclass(frozen=True)
class AttributionRules:
    """How a lead is tied to a referrer (docs/jobs.md).

    ``precedence``: which source wins when several point at a referrer (a claim is never automatic).
    ``window_days``: how old a click, or an earlier referral of the same customer, may be.
    ``missing_job_days``: after how long a referred lead without a job is flagged for staff.
    """

    model: Model = "first_touch"
    window_days: int = 90
    precedence: tuple[Source, ...] = SOURCES
    missing_job_days: int = 30


DEFAULT_ATTRIBUTION = AttributionRules()


def attribution_rules(program: Mapping[str, Any] | None) -> AttributionRules:
    """The ``attribution`` rules of a stored programme, defaults for anything not set.

    A stored value that cannot be right (unknown model or source, non-positive days) is a
    :class:`ConfigError`: the admin API validates on save, so this means the item was edited by hand.
    """
    raw: Mapping[str, Any] = (program or {}).get("attribution") or {}
    rules = AttributionRules(
        model=raw.get("model", DEFAULT_ATTRIBUTION.model),
        window_days=int(raw.get("window_days", DEFAULT_ATTRIBUTION.window_days)),
        precedence=tuple(raw.get("precedence", DEFAULT_ATTRIBUTION.precedence)),
        missing_job_days=int(raw.get("missing_job_days", DEFAULT_ATTRIBUTION.missing_job_days)),
    )
    if rules.model not in ("first_touch", "last_touch"):
        raise ConfigError(f"programme attribution.model {rules.model!r} is not first_touch or last_touch")
    unknown = set(rules.precedence) - set(SOURCES)
    if unknown or len(set(rules.precedence)) != len(rules.precedence):
        raise ConfigError(f"programme attribution.precedence {list(rules.precedence)!r} is not a list of "
                          f"distinct sources from {list(SOURCES)}")
    if rules.window_days < 1 or rules.missing_job_days < 1:
        raise ConfigError("programme attribution window_days and missing_job_days must be positive")
    return rules
