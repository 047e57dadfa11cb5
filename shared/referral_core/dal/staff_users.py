"""Staff accounts in the Cognito user pool (admin only): list, invite, change role, disable/enable.

Cognito is the truth for accounts and groups; each change is also audited in the table (``STAFF#{username}``)
right after Cognito accepted it (one system cannot join the other's transaction). SDK errors become domain
errors here, like the table's.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from referral_core.auth import Role
from referral_core.dal.audit import audit_entry
from referral_core.dal.aws import client
from referral_core.dal.dynamo import Table
from referral_core.errors import Conflict, InvalidInput, NotFound, Unavailable

ROLE_GROUPS = tuple(role.value for role in Role)


@dataclass(frozen=True)
class StaffUser:
    username: str
    email: str
    enabled: bool
    status: str  # Cognito's: FORCE_CHANGE_PASSWORD until the first sign-in, then CONFIRMED
    created_at: str
    groups: frozenset[str]


def _translate(exc: Exception) -> Exception:
    if isinstance(exc, ClientError):
        code = str(exc.response.get("Error", {}).get("Code", ""))
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code == "UsernameExistsException":
            return Conflict("an account with this email already exists", fields={"email": "already a staff member"})
        if code == "UserNotFoundException":
            return NotFound("no such staff member", fields={"username": "unknown"})
        if code == "InvalidParameterException":
            return InvalidInput(f"Cognito refused it: {message}", fields={"email": message or "not accepted"})
        if code in {"TooManyRequestsException", "LimitExceededException", "InternalErrorException"}:
            return Unavailable("the sign-in service is busy, please retry", retry_after=1)
    if isinstance(exc, BotoCoreError):
        return Unavailable("the sign-in service did not answer in time, please retry", retry_after=1)
    return exc


def _attribute(user: dict[str, Any], name: str) -> str:
    for attribute in user.get("Attributes") or user.get("UserAttributes") or []:
        if attribute["Name"] == name:
            return str(attribute["Value"])
    return ""


class StaffUserRepository:
    def __init__(self, pool_id: str, table: Table) -> None:
        self.pool_id = pool_id
        self.table = table

    @property
    def idp(self) -> Any:
        return client("cognito-idp")

    def _call(self, operation: str, **kwargs: Any) -> dict[str, Any]:
        try:
            answer: dict[str, Any] = getattr(self.idp, operation)(UserPoolId=self.pool_id, **kwargs)
        except Exception as exc:
            raise _translate(exc) from exc
        return answer

    def _pages(self, operation: str, key: str, **kwargs: Any) -> Iterator[dict[str, Any]]:
        token: str | None = None
        while True:
            page = self._call(operation, **kwargs, **({"NextToken": token} if token else {}))
            yield from page.get(key, [])
            token = page.get("NextToken") or page.get("PaginationToken")
            if not token:
                return

    def all(self) -> list[StaffUser]:
        """Every account with its role groups: ListUsers plus ListUsersInGroup per role (a staff pool is small)."""
        groups: dict[str, set[str]] = {}
        for group in ROLE_GROUPS:
            for user in self._pages("list_users_in_group", "Users", GroupName=group):
                groups.setdefault(user["Username"], set()).add(group)
        users = []
        token: str | None = None
        while True:
            page = self._call("list_users", **({"PaginationToken": token} if token else {}))
            for user in page.get("Users", []):
                users.append(StaffUser(
                    username=user["Username"], email=_attribute(user, "email"), enabled=bool(user.get("Enabled", True)),
                    status=str(user.get("UserStatus", "")), created_at=str(user.get("UserCreateDate", "")),
                    groups=frozenset(groups.get(user["Username"], set()))))
            token = page.get("PaginationToken")
            if not token:
                return sorted(users, key=lambda u: u.email.lower())

    def get(self, username: str) -> StaffUser:
        user = self._call("admin_get_user", Username=username)
        groups = {g["GroupName"] for g in self._call("admin_list_groups_for_user", Username=username).get("Groups", [])}
        return StaffUser(username=user["Username"], email=_attribute(user, "email"), enabled=bool(user.get("Enabled")),
                         status=str(user.get("UserStatus", "")), created_at=str(user.get("UserCreateDate", "")),
                         groups=frozenset(groups))

    def invite(self, email: str, role: Role, *, actor: str) -> str:
        """A new account (Cognito emails a temporary password) in ``role``'s group; its username."""
        user = self._call("admin_create_user", Username=email, DesiredDeliveryMediums=["EMAIL"],
                          UserAttributes=[{"Name": "email", "Value": email},
                                          {"Name": "email_verified", "Value": "true"}])
        username = str(user["User"]["Username"])
        self._call("admin_add_user_to_group", Username=username, GroupName=role.value)
        self._audit(username, actor, "staff.invited", {"role": role.value})
        return username

    def set_role(self, username: str, role: Role, *, current: frozenset[str], actor: str) -> None:
        self._call("admin_add_user_to_group", Username=username, GroupName=role.value)
        for group in current & set(ROLE_GROUPS) - {role.value}:
            self._call("admin_remove_user_from_group", Username=username, GroupName=group)
        self._audit(username, actor, "staff.role_changed", {"role": role.value})

    def set_enabled(self, username: str, enabled: bool, *, actor: str) -> None:
        if enabled:
            self._call("admin_enable_user", Username=username)
        else:
            self._call("admin_disable_user", Username=username)
            self._call("admin_user_global_sign_out", Username=username)  # its refresh tokens stop working
        self._audit(username, actor, "staff.enabled" if enabled else "staff.disabled", {})

    def _audit(self, username: str, actor: str, action: str, detail: dict[str, Any]) -> None:
        self.table.transact([audit_entry(f"STAFF#{username}", actor=actor, action=action, detail=detail)])
