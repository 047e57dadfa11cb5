"""Staff routes for the programme rules: ``GET /admin/program``, ``PUT /admin/program`` and the saved
versions, ``GET /admin/program/versions``.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from staff_context import current_actor

from referral_core import deps
from referral_core.dal.program import ProgramRepository
from referral_core.http import json_answer, json_response
from referral_core.models.program import Program, ProgramVersions, UpdateProgramRequest
from referral_core.services.program import current_program, program_versions, update_program

router = APIGatewayHttpRouter()


@router.get("/admin/program", responses={200: json_answer(Program, "The rules in force (version 0: the defaults)")})
def get_program() -> Response[str]:
    return json_response(200, current_program(ProgramRepository(deps.table())).model_dump(mode="json"))


@router.get("/admin/program/versions", responses={200: json_answer(ProgramVersions, "Saved versions, newest first")})
def get_program_versions(cursor: Annotated[str | None, Query()] = None,
                         limit: Annotated[int, Query(ge=1, le=50)] = 10) -> Response[str]:
    page = program_versions(ProgramRepository(deps.table()), cursor=cursor, limit=limit)
    return json_response(200, page.model_dump(mode="json"))


@router.put("/admin/program", responses={200: json_answer(Program, "The rules now in force"),
                                         409: {"description": "expected_version is stale"}})
def put_program(body: UpdateProgramRequest) -> Response[str]:
    saved = update_program(ProgramRepository(deps.table()), body, actor=current_actor(router))
    return json_response(200, saved.model_dump(mode="json"))
