"""Typed settings read once from the environment, failing fast on anything missing.

Frozen dataclasses instead of pydantic-settings: the redirect function's cold-start budget (bench/) has
no room for importing pydantic, and one mechanism for every function is simpler than two.
"""

from __future__ import annotations

import dataclasses
import os
import types
import typing
from collections.abc import Mapping
from functools import cache
from typing import Any, TypeVar

from referral_core.errors import ConfigError

T = TypeVar("T")


def _convert(name: str, raw: str, kind: Any) -> Any:
    origin = typing.get_origin(kind)
    if kind is str:
        return raw
    if kind is int:
        try:
            return int(raw)
        except ValueError:
            raise ConfigError(f"{name} must be an integer, got {raw!r}") from None
    if kind is bool:
        if raw.lower() in {"1", "true", "yes"}:
            return True
        if raw.lower() in {"0", "false", "no"}:
            return False
        raise ConfigError(f"{name} must be true or false, got {raw!r}")
    if origin is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    if origin in (types.UnionType, typing.Union):
        inner = [arg for arg in typing.get_args(kind) if arg is not type(None)]
        return None if raw == "" else _convert(name, raw, inner[0])
    raise ConfigError(f"unsupported setting type for {name}: {kind!r}")


def read_settings(cls: type[T], environ: Mapping[str, str] | None = None) -> T:
    """Build ``cls`` (a dataclass whose field names are lower-case env names) from the environment.

    A field with a default may be absent; every missing required variable is reported at once.
    """
    env = os.environ if environ is None else environ
    hints = typing.get_type_hints(cls)
    values: dict[str, Any] = {}
    missing: list[str] = []
    for field in dataclasses.fields(cls):  # type: ignore[arg-type]
        name = field.name.upper()
        if name in env:
            values[field.name] = _convert(name, env[name], hints[field.name])
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            missing.append(name)
    if missing:
        raise ConfigError(f"missing environment variables: {', '.join(sorted(missing))}")
    return cls(**values)


@dataclasses.dataclass(frozen=True, kw_only=True)
class BaseSettings:
    """What every function gets from the template's Globals. Subclass with ``kw_only=True`` too."""

    table_name: str
    stage: str
    currency: str
    pepper_param: str
    public_base_url: str = ""


@dataclasses.dataclass(frozen=True, kw_only=True)
class LeadCaptureSettings(BaseSettings):
    """What capturing a lead is configured by (``services.leads.CaptureRules``): the settings of Quick Help
    (functions/capture_lead) and of the referrer portal's refer-a-job, which the template gives both."""

    default_phone_region: str
    postcode_pattern: str
    rate_window_seconds: int
    max_leads_per_ip: int
    max_leads_per_code: int


@cache
def base_settings() -> BaseSettings:
    return read_settings(BaseSettings)
