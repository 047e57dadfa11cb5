"""Staff management routes (admin): the console's accounts in the Cognito user pool.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Path
from staff_context import current_staff, settings

from referral_core import deps
from referral_core.dal.staff_users import StaffUserRepository
from referral_core.http import json_answer, json_response
from referral_core.models.staff import ChangeRoleRequest, InviteStaffRequest, StaffList, StaffMember
from referral_core.services import staff_users

router = Router()

Username = Annotated[str, Path(min_length=1, max_length=128)]


def _repo() -> StaffUserRepository:
    return StaffUserRepository(settings().staff_user_pool_id, deps.table())


@router.get("/admin/staff", responses={200: json_answer(StaffList, "Every account of the staff pool")})
def get_staff() -> Response[str]:
    return json_response(200, staff_users.list_staff(_repo()).model_dump(mode="json"))


@router.post("/admin/staff", responses={201: json_answer(StaffMember, "Invited: Cognito emails a temporary password"),
                                        409: {"description": "An account with this email exists"}})
def post_staff(body: InviteStaffRequest) -> Response[str]:
    invited = staff_users.invite(_repo(), body, caller=current_staff(router))
    return json_response(201, invited.model_dump(mode="json"))


@router.post("/admin/staff/<username>/role", responses={200: json_answer(StaffMember, "The account's new role"),
                                                        409: {"description": "Your own account"}})
def post_role(username: Username, body: ChangeRoleRequest) -> Response[str]:
    changed = staff_users.change_role(_repo(), username, body, caller=current_staff(router))
    return json_response(200, changed.model_dump(mode="json"))


@router.post("/admin/staff/<username>/disable", responses={
    200: json_answer(StaffMember, "Disabled, and signed out everywhere"), 409: {"description": "Your own account"}})
def post_disable(username: Username) -> Response[str]:
    return json_response(200, staff_users.set_enabled(_repo(), username, False, caller=current_staff(router))
                         .model_dump(mode="json"))


@router.post("/admin/staff/<username>/enable", responses={200: json_answer(StaffMember, "Enabled again")})
def post_enable(username: Username) -> Response[str]:
    return json_response(200, staff_users.set_enabled(_repo(), username, True, caller=current_staff(router))
                         .model_dump(mode="json"))
