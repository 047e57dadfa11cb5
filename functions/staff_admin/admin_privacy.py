"""Staff privacy routes: export everything about a person, or erase it, by email or phone."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from staff_context import current_actor, settings

from referral_core import deps
from referral_core.dal.privacy import PrivacyRepository
from referral_core.http import json_answer, json_response
from referral_core.models.review import EraseRequest, ErasureSummary, PersonExport
from referral_core.services import privacy

router = Router()


@router.get("/admin/people/export",
            responses={200: json_answer(PersonExport, "Everything stored about the person (an attachment)")})
def get_person_export(
    email: Annotated[str | None, Query(min_length=3, max_length=254)] = None,
    phone: Annotated[str | None, Query(min_length=3, max_length=32)] = None,
) -> Response[str]:
    who = privacy.person(email=email, phone=phone, pepper=deps.pepper(),
                         phone_region=settings().default_phone_region)
    export = privacy.export_person(PrivacyRepository(deps.table()), who, actor=current_actor(router))
    return json_response(200, export.model_dump(mode="json", exclude_unset=True), headers={
        "Content-Disposition": f'attachment; filename="person-{export.request_id}.json"'})


@router.post("/admin/people/erase", responses={200: json_answer(ErasureSummary, "The person is anonymised")})
def post_erasure(body: EraseRequest) -> Response[str]:
    who = privacy.person(email=body.email, phone=body.phone, pepper=deps.pepper(),
                         phone_region=settings().default_phone_region)
    result = privacy.erase_person(PrivacyRepository(deps.table()), who, note=body.note,
                                  actor=current_actor(router))
    return json_response(200, result.model_dump(mode="json"))
