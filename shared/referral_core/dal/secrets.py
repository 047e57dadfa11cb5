"""Secrets and parameters (SSM Parameter Store, Secrets Manager), cached for the life of a container."""

from __future__ import annotations

import json
from functools import cache
from typing import Any

from referral_core.dal.aws import client
from referral_core.dal.dynamo import translate


@cache
def ssm_parameter(name: str) -> str:
    try:
        out = client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise translate(exc) from exc
    return str(out["Parameter"]["Value"])


def secret_json(secret_id: str) -> Any:
    return json.loads(secret_string(secret_id))


def read_secret_string(secret_id: str) -> str:
    """The secret's current value, uncached (for a deliberate refresh, e.g. after a rotation)."""
    try:
        out = client("secretsmanager").get_secret_value(SecretId=secret_id)
    except Exception as exc:
        raise translate(exc) from exc
    return str(out["SecretString"])


secret_string = cache(read_secret_string)


def clear_caches() -> None:
    """Forget cached values (after a rotation, and between tests)."""
    ssm_parameter.cache_clear()
    secret_string.cache_clear()
