"""What API functions depend on: the table and the pepper, each built once per container."""

from __future__ import annotations

from functools import cache

from referral_core.config import base_settings
from referral_core.dal import secrets
from referral_core.dal.dynamo import Table


@cache
def table() -> Table:
    return Table(base_settings().table_name)


def pepper() -> str:
    return secrets.pepper(base_settings().pepper_param)
