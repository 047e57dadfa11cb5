"""Fixtures for every tier. ``stack``: moto in-process with the template's table and functions.

The IAM usage recorder's session hooks (tests/support/iam_usage.py) judge every function's AWS calls
against its grants and write test-artifacts/iam-usage.json.
"""

from tests.support.aws import stack  # noqa: F401  (fixture)
from tests.support.iam_usage import (  # noqa: F401  (pytest hooks)
    pytest_collection_finish,
    pytest_deselected,
    pytest_runtest_logreport,
    pytest_sessionfinish,
    pytest_terminal_summary,
)
from tests.support.portal import portal_stack  # noqa: F401  (fixture: the stack plus the session signing secret)
