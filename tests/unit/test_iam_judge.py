"""How the IAM usage recorder describes AWS calls and judges them against a function's statements
(local/aws_calls.py, local/iam.py): the rules docs/architecture.md ("Least privilege") promises."""

from __future__ import annotations

import pytest

from local.aws_calls import Describer, Request
from local.iam import FunctionPolicy, IamError, Usage, _statement

pytestmark = pytest.mark.unit

TABLE = "arn:aws:dynamodb:us-east-1:123456789012:table/T"
D = Describer(region="us-east-1", account="123456789012", hash_keys={"T": "pk"})


def s(key: str) -> dict[str, str]:
    return {"S": key}


def policy(*statements: dict) -> FunctionPolicy:
    return FunctionPolicy("Fn", "FnRole", [_statement(f"FnRolePolicy{i}", raw) for i, raw in enumerate(statements)])


def test_a_transaction_is_authorised_item_by_item_with_each_partition_key():
    requests = D.describe("dynamodb", "TransactWriteItems", {"TransactItems": [
        {"Put": {"TableName": "T", "Item": {"pk": s("LEAD#1"), "sk": s("LEAD")}}},
        {"Update": {"TableName": "T", "Key": {"pk": s("CODE#A"), "sk": s("CODE")}}},
        {"ConditionCheck": {"TableName": "T", "Key": {"pk": s("RATE#x"), "sk": s("RATE")}}},
        {"Delete": {"TableName": "T", "Key": {"pk": s("LEAD#1"), "sk": s("AWAITING_JOB")}}},
    ]})
    assert requests == [Request("dynamodb:PutItem", TABLE, ("LEAD#1",)),
                        Request("dynamodb:UpdateItem", TABLE, ("CODE#A",)),
                        Request("dynamodb:ConditionCheckItem", TABLE, ("RATE#x",)),
                        Request("dynamodb:DeleteItem", TABLE, ("LEAD#1",))]


def test_queries_name_their_partition_only_on_the_table():
    on_table = D.describe("dynamodb", "Query", {"TableName": "T", "KeyConditionExpression": "#p = :pk AND sk > :s",
                                                "ExpressionAttributeNames": {"#p": "pk"},
                                                "ExpressionAttributeValues": {":pk": s("JOB#1"), ":s": s("A")}})
    on_index = D.describe("dynamodb", "Query", {"TableName": "T", "IndexName": "gsi1",
                                                "KeyConditionExpression": "gsi1pk = :pk",
                                                "ExpressionAttributeValues": {":pk": s("STATS")}})
    assert on_table == [Request("dynamodb:Query", TABLE, ("JOB#1",))]
    assert on_index == [Request("dynamodb:Query", f"{TABLE}/index/gsi1", None)]


def test_a_batch_get_carries_every_partition_key_and_ses_is_authorised_on_identity_and_configuration_set():
    [batch] = D.describe("dynamodb", "BatchGetItem", {"RequestItems": {"T": {"Keys": [
        {"pk": s("CODE#A"), "sk": s("CODE")}, {"pk": s("REFERRER#1"), "sk": s("PROFILE")}]}}})
    assert batch == Request("dynamodb:BatchGetItem", TABLE, ("CODE#A", "REFERRER#1"))
    sent = D.describe("email", "SendEmail", {"Source": "Shop <shop@example.com>", "ConfigurationSetName": "cs"})
    assert [r.resource for r in sent] == ["arn:aws:ses:us-east-1:123456789012:identity/shop@example.com",
                                          "arn:aws:ses:us-east-1:123456789012:configuration-set/cs"]
    assert all(r.action == "ses:SendEmail" for r in sent)


def test_leading_keys_limit_item_actions_to_their_prefixes_and_each_prefix_is_a_grant():
    fn = policy({"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE,
                 "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CODE#*", "CLICK#*"]}}})
    allowed = fn.judge(Request("dynamodb:GetItem", TABLE, ("CODE#A",)))
    assert allowed.allowed
    assert [g.leading_key for g in allowed.grants] == ["CODE#*"]
    assert not fn.judge(Request("dynamodb:GetItem", TABLE, ("LEAD#1",))).allowed
    assert not fn.judge(Request("dynamodb:GetItem", TABLE, ("CODE#A", "LEAD#1"))).allowed  # for ALL values
    assert not fn.judge(Request("dynamodb:GetItem", f"{TABLE}/index/gsi1", None)).allowed  # other resource
    assert not fn.judge(Request("dynamodb:PutItem", TABLE, ("CODE#A",))).allowed
    assert {g.leading_key for g in fn.grants()} == {"CODE#*", "CLICK#*"}


def test_a_wildcard_matches_any_character_a_line_break_too():
    # Given a key built from a search box that held a line break (GET /admin/referrers?q=a%0Ab)
    fn = policy({"Effect": "Allow", "Action": ["dynamodb:GetItem"], "Resource": TABLE,
                 "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["REFERRER#*", "CODE#?"]}}})
    # Then IAM's `*` and `?` match it as they match any other character
    assert fn.judge(Request("dynamodb:GetItem", TABLE, ("REFERRER#a\nb",))).allowed
    assert fn.judge(Request("dynamodb:GetItem", TABLE, ("CODE#\n",))).allowed
    assert not fn.judge(Request("dynamodb:GetItem", TABLE, ("LEAD#\nREFERRER#x",))).allowed


def test_a_call_that_names_no_partition_is_not_allowed_by_a_leading_keys_statement():
    fn = policy({"Effect": "Allow", "Action": "dynamodb:Query", "Resource": TABLE,
                 "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["*"]}}})
    assert not fn.judge(Request("dynamodb:Query", TABLE, None)).allowed


def test_deny_wins_and_actions_match_case_insensitively_with_wildcards():
    fn = policy({"Effect": "Allow", "Action": "sqs:SendMessage*", "Resource": "*"},
                {"Effect": "Deny", "Action": "sqs:sendmessagebatch", "Resource": "*"})
    assert fn.judge(Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:1:q")).allowed
    assert not fn.judge(Request("sqs:SendMessageBatch", "arn:aws:sqs:us-east-1:1:q")).allowed


def test_a_secret_granted_by_its_local_arn_matches_the_arn_with_the_random_suffix():
    fn = policy({"Effect": "Allow", "Action": "secretsmanager:GetSecretValue",
                 "Resource": "arn:aws:secretsmanager:us-east-1:1:secret:S"})
    assert fn.judge(Request("secretsmanager:GetSecretValue",
                            "arn:aws:secretsmanager:us-east-1:1:secret:S-AbC123")).allowed
    assert not fn.judge(Request("secretsmanager:GetSecretValue",
                                "arn:aws:secretsmanager:us-east-1:1:secret:S-other-AbC123")).allowed


def test_conditions_nobody_judges_are_refused_rather_than_guessed():
    with pytest.raises(IamError, match="aws:SourceIp"):
        _statement("P", {"Effect": "Allow", "Action": "ssm:GetParameter", "Resource": "*",
                         "Condition": {"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}}})


def test_moto_gets_actions_on_star_and_the_transaction_actions_their_items_need():
    fn = policy({"Effect": "Allow", "Action": ["dynamodb:PutItem", "dynamodb:GetItem"], "Resource": TABLE,
                 "Condition": {"ForAllValues:StringLike": {"dynamodb:LeadingKeys": ["CODE#*"]}}})
    [statement] = fn.moto_documents()["actions"]["Statement"]
    assert statement == {"Effect": "Allow", "Resource": "*", "Action": [
        "dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:TransactWriteItems"]}
    assert policy().moto_documents() == {}


def test_an_sqs_batch_call_is_authorised_as_its_single_message_action_and_moto_gets_the_batch_name():
    url = "https://sqs.us-east-1.amazonaws.com/123456789012/parked.fifo"
    assert D.describe("sqs", "SendMessageBatch", {"QueueUrl": url, "Entries": []}) == [
        Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:parked.fifo")]
    fn = policy({"Effect": "Allow", "Action": "sqs:SendMessage", "Resource": "arn:aws:sqs:us-east-1:1:q"})
    [statement] = fn.moto_documents()["actions"]["Statement"]
    assert statement["Action"] == ["sqs:SendMessage", "sqs:SendMessageBatch"]


def test_a_cognito_admin_call_is_authorised_on_its_user_pool():
    assert D.describe("cognito-idp", "AdminGetUser", {"UserPoolId": "us-east-1_abc", "Username": "x"}) == [
        Request("cognito-idp:AdminGetUser", "arn:aws:cognito-idp:us-east-1:123456789012:userpool/us-east-1_abc")]


def test_usage_counts_calls_marks_used_grants_and_lists_calls_without_one():
    fn = policy({"Effect": "Allow", "Action": "dynamodb:GetItem", "Resource": TABLE})
    usage = Usage({"Fn": fn})
    assert usage.record("Fn", [Request("dynamodb:GetItem", TABLE, ("CODE#A",))]) == []
    [violation] = usage.record("Fn", [Request("dynamodb:Scan", TABLE)])
    assert violation == {"function": "Fn", "action": "dynamodb:Scan", "resource": TABLE,
                         "reason": "no statement allows it"}
    report = usage.as_json()
    assert report["functions"]["Fn"]["calls"] == {f"dynamodb:GetItem {TABLE} [CODE#…]": 1, f"dynamodb:Scan {TABLE}": 1}
    assert report["functions"]["Fn"]["used_grants"] == [f"FnRolePolicy0: dynamodb:GetItem on {TABLE}"]
    merged = Usage({"Fn": fn})
    merged.merge(report)
    assert merged.as_json() == report


def test_unused_grants_are_judged_only_after_a_complete_green_integration_run():
    from tests.support.iam_usage import Recorder, full_run_problem

    one_file = Recorder(missing_modules=["test_rewards.py"], evidence_items={"a"}, evidence_passed={"a"})
    assert "not every integration module ran" in str(full_run_problem(one_file))
    filtered = Recorder(deselected_evidence=True, evidence_items={"a"}, evidence_passed={"a"})
    assert "deselected" in str(full_run_problem(filtered))
    red = Recorder(evidence_items={"a", "b"}, evidence_passed={"a"})
    assert full_run_problem(red) == "1 integration tests did not pass"
    skipped_after_passing_call = Recorder(evidence_items={"a"}, evidence_passed={"a"}, evidence_not_green={"a"})
    assert full_run_problem(skipped_after_passing_call) is not None
    assert full_run_problem(Recorder()) == "no integration test ran"
    assert full_run_problem(Recorder(evidence_items={"a"}, evidence_passed={"a"})) is None


def test_the_policy_suggestion_groups_item_actions_by_prefix_set_and_lists_indexes():
    from local.template import REPO_ROOT, load_template
    from scripts.iam_policies import suggest

    table = load_template().get_att("Table", "Arn")
    report = {"functions": {"Fn": {"calls": {
        f"dynamodb:GetItem {table} [CODE#…]": 3, f"dynamodb:PutItem {table} [CODE#…]": 1,
        f"dynamodb:UpdateItem {table} [STATS#…, CODE#…]": 1, f"dynamodb:Query {table}/index/gsi1": 2,
        "ssm:GetParameter arn:aws:ssm:us-east-1:123456789012:parameter/p": 1}}}}
    text = suggest(report, REPO_ROOT / "template.yaml", set())
    assert "Action: [dynamodb:GetItem, dynamodb:PutItem], Resource: !GetAtt Table.Arn" in text
    assert '"dynamodb:LeadingKeys": ["CODE#*", "STATS#*"]' in text
    assert 'Resource: !Sub "${Table.Arn}/index/gsi1"' in text
    assert "# and ssm:GetParameter on arn:aws:ssm:us-east-1:123456789012:parameter/p" in text
