"""Fixtures for every tier. ``stack``: moto in-process with the template's table and functions."""

from tests.support.aws import stack  # noqa: F401  (fixture)
from tests.support.portal import portal_stack  # noqa: F401  (fixture: the stack plus the session signing secret)
