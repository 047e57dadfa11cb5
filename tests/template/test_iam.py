"""Least privilege in template.yaml, read from the SAM-translated roles (docs/architecture.md, "Least
privilege"). What each function actually calls is judged by the IAM usage recorder (tests/support/iam_usage.py)
over the integration and e2e tests; these checks hold for every function, including ones added later."""

from __future__ import annotations

from functools import cache

import pytest

from local.iam import FunctionPolicy, function_policies, translate
from local.template import load_template
from tests.template.test_template import TEMPLATE, functions

pytestmark = pytest.mark.template

#: SAM policy templates that grant more than any function here calls (each replaced by an exact statement).
TOO_BROAD = {"DynamoDBCrudPolicy", "DynamoDBReadPolicy", "DynamoDBWritePolicy", "SESCrudPolicy",
             "SSMParameterReadPolicy", "AmazonDynamoDBFullAccess"}


@cache
def policies() -> dict[str, FunctionPolicy]:
    # Builds every statement: a condition the recorder cannot judge raises here (local.iam.IamError).
    return function_policies(translate(TEMPLATE), load_template(TEMPLATE))


def test_every_function_has_its_own_role_built_from_exact_grants():
    assert set(policies()) == set(functions())
    for logical_id, fn in functions().items():
        for entry in fn["Properties"].get("Policies") or []:
            named = set(entry) if isinstance(entry, dict) else {entry}
            assert not named & TOO_BROAD, f"{logical_id} uses {named & TOO_BROAD}: grant only what it calls"


def test_no_function_may_scan_or_use_wildcard_actions_or_resources():
    for logical_id, policy in policies().items():
        for statement in policy.statements:
            for action in statement.actions:
                assert not action.lower().startswith("dynamodb:scan"), f"{logical_id} may Scan"
                assert action != "*" and not action.endswith(":*"), f"{logical_id} grants {action}"
            assert "*" not in statement.resources, f"{logical_id}: {statement.policy} grants on every resource"


def test_table_item_actions_are_limited_to_partition_prefixes():
    """On the table itself (not an index), item reads and writes carry a dynamodb:LeadingKeys condition."""
    tables = {str(load_template(TEMPLATE).get_att("Table", "Arn"))}
    for logical_id, policy in policies().items():
        for statement in policy.statements:
            if statement.effect != "Allow" or not set(statement.resources) & tables:
                continue
            assert statement.leading_keys, f"{logical_id}: {statement.policy} has no dynamodb:LeadingKeys condition"
            assert all(k != "*" for k in statement.leading_keys), f"{logical_id}: {statement.policy} allows any key"


def test_functions_that_send_email_may_send_through_the_configuration_set():
    tpl = load_template(TEMPLATE)
    for logical_id, fn in tpl.functions.items():
        sends = any(a.lower() == "ses:sendemail" for s in policies()[logical_id].statements for a in s.actions)
        if "SES_CONFIGURATION_SET" not in fn.env:
            assert not sends, f"{logical_id} may send email but has no configuration set"
            continue
        config_set = f"arn:aws:ses:us-east-1:123456789012:configuration-set/{fn.env['SES_CONFIGURATION_SET']}"
        identity = f"arn:aws:ses:us-east-1:123456789012:identity/{fn.env['SENDER_EMAIL']}"
        granted = {r for s in policies()[logical_id].statements if "ses:SendEmail" in s.actions for r in s.resources}
        assert {config_set, identity} <= granted, logical_id
