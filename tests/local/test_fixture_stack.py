"""The local stack over HTTP, serving the fixture template (`python -m local` in a subprocess)."""

from __future__ import annotations

import json
import time
from typing import Any

import jwt
import pytest
from moto.utilities.utils import load_resource

from local.testing import StackProcess
from tests.local.conftest import read_queue

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def echo(stack: StackProcess, path: str, **kwargs: Any) -> dict[str, Any]:
    response = stack.request("GET", path, **kwargs)
    assert response.status == 200, response.body
    return response.json()  # type: ignore[no-any-return]


# ------------------------------------------------------------------ HTTP API


def test_routes_and_event(fixture_stack: StackProcess) -> None:
    exact = echo(fixture_stack, "/echo/me")["event"]
    assert exact["routeKey"] == "GET /echo/me"
    param = echo(fixture_stack, "/echo/42?a=1&a=2", headers={"Cookie": "c=3"})["event"]
    assert param["routeKey"] == "GET /echo/{id}"
    assert param["pathParameters"] == {"id": "42"}
    assert param["queryStringParameters"] == {"a": "1,2"}
    assert param["cookies"] == ["c=3"]
    assert param["requestContext"]["stage"] == "$default"
    assert "authorizer" not in param["requestContext"]
    greedy = echo(fixture_stack, "/files/a/b/c.txt")["event"]
    assert greedy["pathParameters"] == {"proxy": "a/b/c.txt"}


def test_response_mapping(fixture_stack: StackProcess) -> None:
    response = fixture_stack.request("GET", "/echo/1")
    assert response.headers["apigw-requestid"]
    binary = fixture_stack.request("GET", "/files/binary")
    assert binary.body == b"\x89PNG\r\n\x1a\n"
    assert binary.headers["content-type"] == "image/png"
    assert [v for k, v in binary.header_list if k == "set-cookie"] == ["a=1; Path=/", "b=2"]
    plain = fixture_stack.request("GET", "/files/plain")
    assert (plain.status, plain.body) == (200, b"just a string")
    assert fixture_stack.request("GET", "/files/dict").json() == {"hello": "world"}


def test_api_gateway_errors(fixture_stack: StackProcess) -> None:
    crash = fixture_stack.request("GET", "/files/crash")
    assert (crash.status, crash.json()) == (500, {"message": "Internal Server Error"})
    missing = fixture_stack.request("GET", "/nothing/here")
    assert (missing.status, missing.json()) == (404, {"message": "Not Found"})
    wrong_method = fixture_stack.request("DELETE", "/items")
    assert wrong_method.status == 404
    too_big = fixture_stack.request("POST", "/items", body=b"x" * (10 * 1024 * 1024 + 1))
    assert too_big.status == 413
    assert fixture_stack.request("GET", "/echo/1").status == 200  # still serving


def test_cors_preflight(fixture_stack: StackProcess) -> None:
    headers = {"Origin": "http://example.com", "Access-Control-Request-Method": "POST"}
    response = fixture_stack.request("OPTIONS", "/items", headers=headers)
    assert response.status == 204
    assert response.headers["access-control-allow-origin"] == "*"
    assert "POST" in response.headers["access-control-allow-methods"]


# ------------------------------------------------------------------ JWT authorizer


def moto_signed(claims: dict[str, Any]) -> str:
    """A token signed with moto's Cognito key (what moto itself signs with)."""
    key = jwt.PyJWK.from_dict(load_resource("cognitoidp/resources/jwks-private.json"), algorithm="RS256")
    return jwt.encode(claims, key.key, algorithm="RS256", headers={"kid": "dummy"})


def good_claims(stack: StackProcess) -> dict[str, Any]:
    info = stack.info()
    pool = info["user_pools"]["Pool"]
    return {
        "iss": f"https://cognito-idp.us-east-1.amazonaws.com/{pool}",
        "aud": info["user_pool_clients"]["PoolClient"],
        "exp": int(time.time()) + 600,
        "token_use": "id",
    }


def test_staff_token_reaches_the_function_with_stringified_claims(fixture_stack: StackProcess) -> None:
    event = echo(fixture_stack, "/secure", headers={"Authorization": f"Bearer {fixture_stack.staff_token}"})["event"]
    authorizer = event["requestContext"]["authorizer"]
    assert authorizer["jwt"]["scopes"] is None
    claims = authorizer["jwt"]["claims"]
    assert claims["cognito:groups"] == "[staff]"
    assert claims["email"] == "staff@example.com"
    assert claims["exp"].isdigit()
    viewer = echo(fixture_stack, "/secure", headers={"Authorization": f"Bearer {fixture_stack.viewer_token}"})
    assert viewer["event"]["requestContext"]["authorizer"]["jwt"]["claims"]["cognito:groups"] == "[viewer]"
    forged_but_valid = moto_signed(good_claims(fixture_stack))
    assert fixture_stack.request("GET", "/secure", headers={"Authorization": forged_but_valid}).status == 200


@pytest.mark.parametrize("case", ["missing", "expired", "bad-signature", "wrong-audience", "wrong-issuer"])
def test_rejected_tokens_get_401_without_invoking(fixture_stack: StackProcess, case: str) -> None:
    claims = good_claims(fixture_stack)
    if case == "expired":
        claims["exp"] = int(time.time()) - 60
    if case == "wrong-audience":
        claims["aud"] = "someone-else"
    if case == "wrong-issuer":
        claims["iss"] = "https://cognito-idp.us-east-1.amazonaws.com/us-east-1_other"
    token = moto_signed(claims)
    if case == "bad-signature":
        head, payload, signature = token.split(".")
        token = f"{head}.{payload}.{signature[::-1]}"
    headers = {} if case == "missing" else {"Authorization": f"Bearer {token}"}
    response = fixture_stack.request("GET", "/secure", headers=headers)
    assert response.status == 401
    assert response.json() == {"message": "Unauthorized"}


# ------------------------------------------------------------------ streams


def test_stream_consumers(fixture_stack: StackProcess) -> None:
    # Given records for the picky consumer (one poison), the crashing consumer (one boom) and others
    read_queue(fixture_stack, "SeenQueue")
    read_queue(fixture_stack, "FailureQueue")
    ddb = fixture_stack.aws("dynamodb")
    table = fixture_stack.info()["tables"]["Table"]
    rows = [
        ("j1", "job", "a"),
        ("j2", "job", "poison"),
        ("j3", "job", "b"),
        ("c1", "crash", "x"),
        ("c2", "crash", "boom"),
        ("c3", "crash", "y"),
        ("o1", "other", "z"),
    ]
    for pk, kind, value in rows:
        ddb.put_item(
            TableName=table,
            Item={"pk": {"S": pk}, "sk": {"S": "1"}, "kind": {"S": kind}, "value": {"S": value}},
        )
    # When the consumers have caught up
    status = fixture_stack.drain(timeout_s=60)
    # Then every consumer saw what its filter lets through, and only the bad records failed
    seen = read_queue(fixture_stack, "SeenQueue")
    by_consumer: dict[str, list[str]] = {}
    for message in seen:
        by_consumer.setdefault(message["consumer"], []).append(message["pk"])
    assert sorted(by_consumer["all"]) == sorted(pk for pk, _, _ in rows)  # no filter, no failures: once each
    assert set(by_consumer["picky"]) == {"j1", "j3"}
    assert set(by_consumer["crash"]) == {"c1", "c3"}
    assert {m["source_arn"] for m in seen} == {c["stream_arn"] for c in status["consumers"]}
    failures = read_queue(fixture_stack, "FailureQueue")
    assert len(failures) == 2
    arns = {f["requestContext"]["functionArn"].rsplit(":", 1)[1] for f in failures}
    assert arns == {"referral-local-PickyConsumer", "referral-local-CrashConsumer"}
    for failure in failures:
        assert failure["requestContext"]["condition"] == "RetryAttemptsExhausted"
        info = failure["DDBStreamBatchInfo"]
        assert info["streamArn"] == status["consumers"][0]["stream_arn"]
        assert info["shardId"]
        assert int(info["startSequenceNumber"]) <= int(info["endSequenceNumber"])
    crash = next(f for f in failures if "Crash" in f["requestContext"]["functionArn"])
    assert crash["DDBStreamBatchInfo"]["batchSize"] == 1  # bisected down to the bad record
    consumers = {c["function"]: c for c in status["consumers"]}
    assert consumers["PickyConsumer"]["filtered_out"] >= 4
    assert all(c["pending"] == 0 and c["in_flight"] == 0 for c in consumers.values())


# ------------------------------------------------------------------ local tools


def test_tick_runs_the_schedules(fixture_stack: StackProcess) -> None:
    ran = fixture_stack.tick()
    assert [(r["function"], r["event"]) for r in ran] == [("Ticker", "Daily")]
    assert ran[0]["payload"] == {"ticked": True, "source": "aws.events", "detail_type": "Scheduled Event"}


def test_outbox_lists_text_and_html_emails_newest_last(fixture_stack: StackProcess) -> None:
    ses = fixture_stack.aws("ses")
    ses.send_email(
        Source="sender@example.com",
        Destination={"ToAddresses": ["first@example.com"]},
        Message={"Subject": {"Data": "First"}, "Body": {"Text": {"Data": "plain body"}}},
    )
    ses.send_email(  # moto keeps only the HTML part of a message sent with both: the text is made from it
        Source="sender@example.com",
        Destination={"ToAddresses": ["second@example.com"]},
        Message={"Subject": {"Data": "Second"},
                 "Body": {"Text": {"Data": "text part"}, "Html": {"Data": "<p>html part</p>"}}},
    )
    outbox = fixture_stack.outbox()
    first, second = outbox[-2:]
    assert (first["to"], first["subject"], first["text"], first["html"]) == (
        ["first@example.com"],
        "First",
        "plain body",
        None,
    )
    assert (second["to"], second["subject"], second["text"].strip(), second["html"].strip()) == (
        ["second@example.com"],
        "Second",
        "html part",
        "<p>html part</p>",
    )
    assert first["sent_at"] <= second["sent_at"]
    assert {"id", "source", "to", "subject", "text", "html", "sent_at"} <= set(first)
    assert json.dumps(outbox)


def test_generated_local_files(fixture_stack: StackProcess) -> None:
    assert fixture_stack.webhook_secret.startswith("whsec_")
    pepper = fixture_stack.read_file("pepper")
    ssm = fixture_stack.aws("ssm")
    assert ssm.get_parameter(Name="/referral-local/pepper")["Parameter"]["Value"] == pepper != "change-me"
    secret_arn = fixture_stack.info()["secrets"]["HookSecret"]
    value = json.loads(fixture_stack.aws("secretsmanager").get_secret_value(SecretId=secret_arn)["SecretString"])
    assert value == {"secrets": [fixture_stack.webhook_secret]}


# ------------------------------------------------------------------ Cognito's public API, same-origin


def cognito(stack: StackProcess, operation: str, body: dict[str, Any]) -> Any:
    return stack.request("POST", "/_local/cognito-idp", body=json.dumps(body), headers={
        "content-type": "application/x-amz-json-1.1",
        "x-amz-target": f"AWSCognitoIdentityProviderService.{operation}"})


def test_cognito_proxy_signs_in_resets_passwords_and_mails_the_code(fixture_stack: StackProcess) -> None:
    # Given a new user with a temporary password, as `admin-create-user` makes one after a deploy
    idp = fixture_stack.aws("cognito-idp")
    (pool_id,) = fixture_stack.info()["user_pools"].values()
    (client_id,) = fixture_stack.info()["user_pool_clients"].values()
    email = f"new-{time.time_ns()}@example.com"
    idp.admin_create_user(UserPoolId=pool_id, Username=email, TemporaryPassword="Temp-Passw0rd-1",
                          UserAttributes=[{"Name": "email", "Value": email}], MessageAction="SUPPRESS")
    sign_in = {"AuthFlow": "USER_PASSWORD_AUTH", "ClientId": client_id,
               "AuthParameters": {"USERNAME": email, "PASSWORD": "Temp-Passw0rd-1"}}

    # When they sign in through the gateway, the first answer is the new-password challenge
    first = cognito(fixture_stack, "InitiateAuth", sign_in)
    assert first.status == 200 and first.json()["ChallengeName"] == "NEW_PASSWORD_REQUIRED"
    done = cognito(fixture_stack, "RespondToAuthChallenge", {
        "ChallengeName": "NEW_PASSWORD_REQUIRED", "ClientId": client_id, "Session": first.json()["Session"],
        "ChallengeResponses": {"USERNAME": email, "NEW_PASSWORD": "Chosen-Passw0rd-2"}})
    tokens = done.json()["AuthenticationResult"]
    assert {"IdToken", "AccessToken", "RefreshToken"} <= set(tokens)
    refreshed = cognito(fixture_stack, "InitiateAuth", {"AuthFlow": "REFRESH_TOKEN_AUTH", "ClientId": client_id,
                                                        "AuthParameters": {"REFRESH_TOKEN": tokens["RefreshToken"]}})
    assert "IdToken" in refreshed.json()["AuthenticationResult"]

    # And a forgotten password: the code arrives in the outbox, a wrong one is refused, the right one works
    assert cognito(fixture_stack, "ForgotPassword", {"ClientId": client_id, "Username": email}).status == 200
    (mail,) = [m for m in fixture_stack.outbox() if m["to"] == [email]]
    code = mail["text"].rsplit(" ", 1)[-1]
    assert code.isdigit() and len(code) == 6
    confirm = {"ClientId": client_id, "Username": email, "Password": "Reset-Passw0rd-3"}
    other = "000000" if code != "000000" else "111111"
    wrong = cognito(fixture_stack, "ConfirmForgotPassword", {**confirm, "ConfirmationCode": other})
    assert wrong.status == 400 and wrong.json()["__type"] == "ExpiredCodeException"
    assert cognito(fixture_stack, "ForgotPassword", {"ClientId": client_id, "Username": email}).status == 200
    code = [m for m in fixture_stack.outbox() if m["to"] == [email]][-1]["text"].rsplit(" ", 1)[-1]
    assert cognito(fixture_stack, "ConfirmForgotPassword", {**confirm, "ConfirmationCode": code}).status == 200
    again = cognito(fixture_stack, "InitiateAuth",
                    {**sign_in, "AuthParameters": {"USERNAME": email, "PASSWORD": "Reset-Passw0rd-3"}})
    assert "AuthenticationResult" in again.json()

    # And sign-out revokes the refresh token
    access = again.json()["AuthenticationResult"]["AccessToken"]
    assert cognito(fixture_stack, "GlobalSignOut", {"AccessToken": access}).status == 200


@pytest.mark.parametrize("target", ["AWSCognitoIdentityProviderService.AdminCreateUser",
                                    "AWSCognitoIdentityProviderService.ListUsers", "DynamoDB_20120810.Scan", ""])
def test_cognito_proxy_forwards_only_the_public_operations(fixture_stack: StackProcess, target: str) -> None:
    response = fixture_stack.request("POST", "/_local/cognito-idp", body="{}", headers={
        "content-type": "application/x-amz-json-1.1", "x-amz-target": target})
    assert response.status == 400
    assert response.json()["__type"] == "InvalidParameterException"


# ------------------------------------------------------------------ IAM


def test_each_function_has_its_own_role_and_moto_refuses_what_it_is_not_granted(fixture_stack: StackProcess) -> None:
    # Granted (dynamodb:PutItem on the table): the write goes through.
    assert fixture_stack.request("POST", "/items", body={"pk": "iam", "sk": "1"}).status == 201
    # Not granted (no secretsmanager statement): moto denies it, as AWS would.
    denied = fixture_stack.request("GET", "/files/secret")
    assert (denied.status, denied.json()) == (403, {"error": "AccessDeniedException"})
    report = fixture_stack.request("GET", "/_local/iam").json()
    assert report["enforced"] is True
    echo_calls = report["functions"]["EchoFunction"]["calls"]
    assert any(k.startswith("dynamodb:PutItem arn:aws:dynamodb:") for k in echo_calls)
    [violation] = [v for v in report["violations"] if v["function"] == "EchoFunction"]
    assert violation["action"] == "secretsmanager:GetSecretValue"
    assert violation["resource"] == fixture_stack.info()["secrets"]["HookSecret"]
    # The stack's own tools still sign as the local admin.
    assert fixture_stack.aws("dynamodb").get_item(
        TableName=fixture_stack.info()["tables"]["Table"], Key={"pk": {"S": "iam"}, "sk": {"S": "1"}})["Item"]
