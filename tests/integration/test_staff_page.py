"""GET /admin: the static staff page, served without a token and without data."""

from __future__ import annotations

import re

import pytest

from local.template import load_template
from tests.support.events import load_event

pytestmark = pytest.mark.integration


def test_staff_page_is_static_html_without_data(stack):
    seeded = {"pk": "LEAD#L-SECRET", "sk": "REFERRAL", "type": "referral", "masked_name": "Jo C."}
    stack.dynamodb.put_item(TableName=stack.table_name, Item={k: {"S": v} for k, v in seeded.items()})

    response = stack.invoke("StaffPageFunction", load_event("staff_page/get_page.json"))

    assert response["statusCode"] == 200
    headers = response["headers"]
    assert headers["Content-Type"] == "text/html; charset=utf-8"
    assert "connect-src 'self'" in headers["Content-Security-Policy"]
    assert re.search(r"script-src 'sha256-[A-Za-z0-9+/=]+'", headers["Content-Security-Policy"])
    page = response["body"]
    assert page.startswith("<!doctype html>")
    assert '<label for="token">' in page and "sessionStorage" in page
    assert "L-SECRET" not in page and "Jo C." not in page  # nothing from the table
    assert "innerHTML" not in page  # data goes in with textContent only


def test_staff_page_route_has_no_authorizer():
    (route,) = load_template().functions["StaffPageFunction"].routes
    assert (route.method, route.path, route.authorizer) == ("GET", "/admin", None)
