"""A deployment that never replaced the shipped pepper refuses to hash anything (issue 22, deploy safely)."""

from __future__ import annotations

import boto3
import pytest

from referral_core.dal import secrets
from referral_core.errors import ConfigError
from tests.support.aws import REGION, template
from tests.support.events import json_body
from tests.support.links import create_code, new_referrer, redirect

pytestmark = pytest.mark.integration


def _ship_the_placeholder() -> str:
    name = template().functions["LinkRedirectFunction"].env["PEPPER_PARAM"]
    boto3.client("ssm", region_name=REGION).put_parameter(Name=name, Value=secrets.SHIPPED_PEPPER, Type="String",
                                                          Overwrite=True)
    secrets.clear_caches()
    return name


def test_the_template_ships_the_placeholder_the_code_refuses():
    assert template().raw["Resources"]["PepperParameter"]["Properties"]["Value"] == secrets.SHIPPED_PEPPER


def test_the_shipped_pepper_is_refused_with_the_fix_in_the_message(stack):
    name = _ship_the_placeholder()

    with pytest.raises(ConfigError) as caught:
        secrets.pepper(name)

    assert name in str(caught.value)
    assert "put-parameter" in str(caught.value)


def test_the_redirect_refuses_the_shipped_pepper_rather_than_counting_with_it(stack):
    code = json_body(create_code(stack, new_referrer(stack)))["code"]
    _ship_the_placeholder()

    with pytest.raises(ConfigError):
        redirect(stack, code)


def test_a_real_pepper_is_returned(stack):
    name = template().functions["LinkRedirectFunction"].env["PEPPER_PARAM"]
    assert secrets.pepper(name) not in ("", secrets.SHIPPED_PEPPER)
