"""Staff management (admin): /admin/staff on a moto Cognito pool, in-process."""

from __future__ import annotations

import boto3
import pytest

from tests.support.admin import staff_pool
from tests.support.events import STAFF_CLAIMS, http_event, json_body

pytestmark = pytest.mark.integration

ADMIN = "StaffAdminFunction"


@pytest.fixture
def pool(stack):
    """The staff pool with its role groups and one admin; the function is pointed at it."""
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    pool_id = staff_pool(stack)
    me = idp.admin_create_user(UserPoolId=pool_id, Username="owner@example.com", MessageAction="SUPPRESS",
                               UserAttributes=[{"Name": "email", "Value": "owner@example.com"}])["User"]["Username"]
    idp.admin_add_user_to_group(UserPoolId=pool_id, Username=me, GroupName="admin")
    claims = {"sub": me, "email": "owner@example.com", "cognito:groups": "[admin]"}
    return idp, pool_id, me, claims


def call(stack, claims, method, path, body=None):
    return stack.invoke(ADMIN, http_event(method, path, body=body, claims=claims))


def test_an_admin_invites_changes_the_role_of_disables_and_enables_staff(stack, pool):
    idp, pool_id, _, admin = pool

    # When the admin invites a technician as staff
    invited = call(stack, admin, "POST", "/admin/staff", {"email": "Tech@Example.com", "role": "staff"})
    assert invited["statusCode"] == 201, invited["body"]
    tech = json_body(invited)
    assert (tech["email"], tech["role"], tech["enabled"], tech["status"]) == (
        "Tech@example.com", "staff", True, "FORCE_CHANGE_PASSWORD")
    again = call(stack, admin, "POST", "/admin/staff", {"email": "Tech@example.com", "role": "viewer"})
    assert again["statusCode"] == 409
    assert json_body(again)["error"]["fields"] == {"email": "already a staff member"}
    bad = call(stack, admin, "POST", "/admin/staff", {"email": "nope", "role": "staff"})
    assert (bad["statusCode"], list(json_body(bad)["error"]["fields"])) == (422, ["email"])
    wrong_role = call(stack, admin, "POST", "/admin/staff", {"email": "x@example.com", "role": "owner"})
    assert (wrong_role["statusCode"], list(json_body(wrong_role)["error"]["fields"])) == (422, ["role"])

    # Then the list has both, by email, with their roles
    listed = json_body(call(stack, admin, "GET", "/admin/staff"))["items"]
    assert [(m["email"], m["role"]) for m in listed] == [("owner@example.com", "admin"), ("Tech@example.com", "staff")]

    # When the role changes to viewer, the account is in that group only
    username = tech["username"]
    changed = call(stack, admin, "POST", f"/admin/staff/{username}/role", {"role": "viewer"})
    assert json_body(changed)["role"] == "viewer"
    groups = {g["GroupName"] for g in idp.admin_list_groups_for_user(UserPoolId=pool_id, Username=username)["Groups"]}
    assert groups == {"viewer"}

    # And disabled then enabled again
    assert json_body(call(stack, admin, "POST", f"/admin/staff/{username}/disable"))["enabled"] is False
    assert idp.admin_get_user(UserPoolId=pool_id, Username=username)["Enabled"] is False
    assert json_body(call(stack, admin, "POST", f"/admin/staff/{username}/enable"))["enabled"] is True

    # Every change is audited under the account
    actions = sorted(i["action"] for i in stack.items() if i["pk"] == f"STAFF#{username}")
    assert actions == ["staff.disabled", "staff.enabled", "staff.invited", "staff.role_changed"]
    assert {i["actor"] for i in stack.items() if i["pk"] == f"STAFF#{username}"} == {"staff:owner@example.com"}


def test_an_admin_cannot_demote_or_disable_themselves_and_unknown_accounts_are_404(stack, pool):
    _, _, me, admin = pool
    for path, body in ((f"/admin/staff/{me}/role", {"role": "staff"}), (f"/admin/staff/{me}/disable", None)):
        response = call(stack, admin, "POST", path, body)
        assert response["statusCode"] == 409, response["body"]
        assert json_body(response)["error"]["fields"] == {"username": "your own account"}
    assert call(stack, admin, "POST", "/admin/staff/nobody-here/enable")["statusCode"] == 404


def test_staff_management_is_for_admins_only(stack, pool):
    for method, path, body in (("GET", "/admin/staff", None),
                               ("POST", "/admin/staff", {"email": "a@b.co", "role": "admin"}),
                               ("POST", "/admin/staff/x/role", {"role": "admin"})):
        response = call(stack, STAFF_CLAIMS, method, path, body)
        assert response["statusCode"] == 403
        assert json_body(response)["error"]["fields"] == {"role": "admin required"}
