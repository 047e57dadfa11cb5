"""Reading the stored programme: the rules staff saved, older shapes migrated, defaults until then.

Rules live in the ``PROGRAM`` / ``CURRENT`` item (docs/data-model.md) as ``rules`` (what
``PUT /admin/program`` stores: :class:`~referral_core.models.program.ProgramRules` as JSON). Every reader
(staff routes, attribution, job linking, the missing-job check, rewards) goes through
:func:`program_rules`, so the rules staff save are the rules applied.

Older shapes still load (docs/rewards.md "Stored shapes"):

- an item without ``rules`` (never saved through the API) gets the default rules;
- before issue 16 the resolver read a top-level ``attribution`` key with its own source names
  (``code, click, refer_a_job, claim``); it is used only when ``rules`` has no ``attribution``, and its
  names are read as today's (``LEGACY_SOURCE_NAMES``);
- a precedence that names a source twice (accepted by saves before issue 16) keeps its first place.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from referral_core.errors import ConfigError
from referral_core.models.program import LEGACY_SOURCE_NAMES, Attribution, ProgramRules, default_rules


def program_rules(program: Mapping[str, Any] | None) -> ProgramRules:
    """The rules of a stored ``PROGRAM``/``CURRENT`` item (``None``: nothing saved yet, the defaults).

    A stored value that cannot be right is a :class:`ConfigError`: saves are validated, so it means the
    item was edited by hand.
    """
    if program is None:
        return default_rules()
    saved: Mapping[str, Any] | None = program.get("rules")
    rules = dict(saved) if saved else default_rules().model_dump(mode="json")
    attribution = (saved or {}).get("attribution") or program.get("attribution")
    if attribution:
        rules["attribution"] = _migrated(attribution)
    try:
        return ProgramRules.model_validate(rules)
    except ValidationError as exc:
        raise ConfigError(f"the stored programme rules are not valid: {exc}") from exc


def attribution_rules(program: Mapping[str, Any] | None) -> Attribution:
    """The attribution rules of a stored programme (see :func:`program_rules`)."""
    return program_rules(program).attribution


def _migrated(attribution: Mapping[str, Any]) -> dict[str, Any]:
    migrated = dict(attribution)
    if "precedence" in migrated and isinstance(migrated["precedence"], list | tuple):
        names = [LEGACY_SOURCE_NAMES.get(str(name), name) for name in migrated["precedence"]]
        migrated["precedence"] = list(dict.fromkeys(names))
    return migrated
