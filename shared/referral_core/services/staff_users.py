"""Staff management (admin): list the console's accounts, invite one (Cognito emails a temporary password;
the first sign-in asks for a new one), change its role, disable or enable it. An admin cannot change their
own role or disable themselves (so the last admin cannot lock everyone out by accident)."""

from __future__ import annotations

from referral_core.auth import StaffIdentity
from referral_core.contacts import clean_email
from referral_core.dal.staff_users import StaffUser, StaffUserRepository
from referral_core.errors import Conflict
from referral_core.models.staff import ChangeRoleRequest, InviteStaffRequest, StaffList, StaffMember


def member(user: StaffUser) -> StaffMember:
    role = StaffIdentity(subject=user.username, email=user.email, groups=user.groups).role
    return StaffMember(username=user.username, email=user.email, role=role, enabled=user.enabled,
                       status=user.status, created_at=user.created_at)


def list_staff(repo: StaffUserRepository) -> StaffList:
    return StaffList(items=[member(u) for u in repo.all()])


def invite(repo: StaffUserRepository, request: InviteStaffRequest, *, caller: StaffIdentity) -> StaffMember:
    username = repo.invite(clean_email(request.email), request.role, actor=caller.actor)
    return member(repo.get(username))


def _not_yourself(username: str, caller: StaffIdentity, what: str) -> None:
    if username == caller.subject:
        raise Conflict(f"you cannot {what} yourself: ask another admin", fields={"username": "your own account"})


def change_role(repo: StaffUserRepository, username: str, request: ChangeRoleRequest, *,
                caller: StaffIdentity) -> StaffMember:
    _not_yourself(username, caller, "change the role of")
    current = repo.get(username)
    repo.set_role(username, request.role, current=current.groups, actor=caller.actor)
    return member(repo.get(username))


def set_enabled(repo: StaffUserRepository, username: str, enabled: bool, *, caller: StaffIdentity) -> StaffMember:
    if not enabled:
        _not_yourself(username, caller, "disable")
    repo.get(username)  # 404 for an unknown account
    repo.set_enabled(username, enabled, actor=caller.actor)
    return member(repo.get(username))
