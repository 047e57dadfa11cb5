"""Secrets and parameters (SSM Parameter Store, Secrets Manager), cached for the life of a container."""

from __future__ import annotations

from functools import cache

from referral_core.dal.aws import client
from referral_core.dal.dynamo import translate
from referral_core.errors import ConfigError

# The value template.yaml ships in PepperParameter. A deployment must replace it before any data arrives
# (README, "After the first deploy"); the local stack always generates its own.
SHIPPED_PEPPER = "change-me-before-first-use"


@cache
def ssm_parameter(name: str) -> str:
    try:
        out = client("ssm").get_parameter(Name=name, WithDecryption=True)
    except Exception as exc:
        raise translate(exc) from exc
    return str(out["Parameter"]["Value"])


def pepper(name: str) -> str:
    """The pepper of the hashes (duplicate detection, click de-duplication) from SSM parameter ``name``.

    Refuses the shipped placeholder: hashes keyed with a public value would let anyone who reads the
    template match contacts, and changing the pepper later breaks every match made until then.
    """
    value = ssm_parameter(name)
    if value.strip() in ("", SHIPPED_PEPPER):
        raise ConfigError(
            f"SSM parameter {name} still holds the shipped placeholder: set a long random value before first "
            f"use (aws ssm put-parameter --name {name} --type String --overwrite "
            '--value "$(openssl rand -hex 32)")'
        )
    return value


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
