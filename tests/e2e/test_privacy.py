"""Privacy: no function logged a raw email address, phone number, payout details (a BSB, the account
numbers the e2e tests save) or an applicant's date of birth (the one the e2e tests apply with) during the
e2e session.

The local stack relays every function's log lines to its own output as ``[LogicalId] ...`` (local/runtime.py),
which the e2e fixture writes to stack.log; tests/e2e/conftest.py runs this module last so that it reads what
the whole session logged. The deployment's own identities (template parameters, the local demo viewer)
are not personal data of referrers or customers and are allowed.
"""

from __future__ import annotations

import re

import pytest

from local import resources as local_resources
from local.template import DEFAULT_TEMPLATE, load_template, load_yaml
from local.testing import StackProcess

pytestmark = pytest.mark.e2e

EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}")
# E.164 (+61412345678), and national mobile formats like 0412 345 678 / 0412-345-678.
PHONE = re.compile(r"(?<![\w.])(?:\+\d{8,15}|0\d{3}[ -]?\d{3}[ -]?\d{3})(?![\w.])")
# Payout details (issue 19): a BSB (062-000), and the account numbers the e2e tests save as payout methods.
BSB = re.compile(r"(?<![\w-])\d{3}-\d{3}(?![\w-])")
ACCOUNT_NUMBERS = ("40912876",)
# Applications (issue 19): the date of birth tests/e2e/test_applications_browser.py applies with.
BIRTH_DATES = ("1990-05-01",)
DEMO_USERS = {email for email, _ in local_resources.DEMO_USERS.values()}  # the local stack's staff users


def _allowed_addresses() -> set[str]:
    parameters = load_yaml(DEFAULT_TEMPLATE).get("Parameters") or {}
    return {str(p["Default"]).lower() for p in parameters.values()
            if "@" in str(p.get("Default", ""))} | DEMO_USERS


def function_lines(log: str) -> list[str]:
    ids = tuple(f"[{logical_id}] " for logical_id in load_template().functions)
    return [line for line in log.splitlines() if line.startswith(ids)]


def leaks(lines: list[str], allowed: set[str]) -> list[str]:
    found = []
    for line in lines:
        emails = {e for e in EMAIL.findall(line) if e.lower() not in allowed}
        phones = PHONE.findall(line) + BSB.findall(line) + [a for a in ACCOUNT_NUMBERS + BIRTH_DATES if a in line]
        if emails or phones:
            found.append(f"{sorted(emails) + phones}: {line[:200]}")
    return found


def test_the_patterns_find_what_they_must() -> None:
    lines = ['[X] {"email": "jo@example.com"}', "[X] call +61412345678", "[X] 0412 345 678",
             "[X] staff:staff@example.com", "[X] id 01m83wcncjt62hd2c6qafdhppc at 1795424400",
             '[X] {"bsb": "062-000"}', "[X] account 40912876", "[X] at 2026-12-08T00:38:56Z, 0412-345-678",
             '[X] {"date_of_birth": "1990-05-01"}']
    assert len(leaks(lines, {"staff@example.com"})) == 7


def test_no_function_logged_an_email_or_phone_during_the_session(stack: StackProcess) -> None:
    log = (stack.local_dir / "stack.log").read_text(encoding="utf-8", errors="replace")
    lines = function_lines(log)
    assert lines, "no function log line reached stack.log: the relay changed?"
    assert not leaks(lines, _allowed_addresses()), "\n".join(leaks(lines, _allowed_addresses())[:20])
