"""An adapter deployed before staff filled in its secret (the value CloudFormation generates from the
template's SecretStringTemplate): every delivery is refused with a 401 naming why, nothing is written, and
no 5xx reaches the provider (it would retry, and alarm, for a set-up step)."""

from __future__ import annotations

import json

import pytest

from tests.support.events import json_body
from tests.support.providers import (
    JOBBER,
    SQUARE,
    XERO,
    jobber_event,
    put_secret,
    square_body,
    square_event,
    template,
    xero_event,
)

pytestmark = pytest.mark.integration


def placeholder(logical_id: str) -> dict:
    spec = template().properties(logical_id)["GenerateSecretString"]
    return {**json.loads(spec["SecretStringTemplate"]), spec["GenerateStringKey"]: "generated0123456789"}


@pytest.mark.parametrize(("function", "variable", "secret", "event"), [
    pytest.param(SQUARE, "SQUARE_SECRET_ARN", "SquareSecret",
                 lambda: square_event(square_body("invoice.payment_made")), id="square"),
    pytest.param(JOBBER, "JOBBER_SECRET_ARN", "JobberSecret",
                 lambda: jobber_event({"data": {"webHookEvent": {"topic": "INVOICE_UPDATE"}}}), id="jobber"),
    pytest.param(XERO, "XERO_SECRET_ARN", "XeroSecret", lambda: xero_event({"events": []}), id="xero"),
])
def test_a_delivery_before_the_secret_is_set_is_401_not_configured(stack, function, variable, secret, event):
    put_secret(stack, function, variable, placeholder(secret))
    before = stack.items()
    response = stack.invoke(function, event())
    assert response["statusCode"] == 401
    if function == XERO:
        assert not response.get("body")  # Xero's intent-to-receive wants a 401 without a body
    else:
        assert json_body(response)["error"]["code"] == "not_configured"
    assert stack.items() == before
