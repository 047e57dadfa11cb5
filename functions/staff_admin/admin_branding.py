"""Staff routes for the business's branding: ``GET /admin/branding`` and ``PUT /admin/branding`` (admin).
"""

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from staff_context import current_actor

from referral_core import deps
from referral_core.dal.branding import BrandingRepository
from referral_core.http import json_answer, json_response
from referral_core.models.branding import Branding, UpdateBrandingRequest
from referral_core.services import branding

router = APIGatewayHttpRouter()


def _view(data: branding.BrandingData) -> Response[str]:
    view = Branding(business_name=data.business_name, tagline=data.tagline, colour=data.colour,
                    contact_line=data.contact_line, logo_type=data.logo_type,  # type: ignore[arg-type]
                    logo_url=branding.LOGO_PATH, version=data.version, updated_at=data.updated_at,
                    updated_by=data.updated_by)
    return json_response(200, view.model_dump(mode="json"))


@router.get("/admin/branding", responses={200: json_answer(Branding, "The branding in force (version 0: defaults)")})
def get_branding() -> Response[str]:
    return _view(branding.current_branding(BrandingRepository(deps.table()), cached=False))


@router.put("/admin/branding", responses={200: json_answer(Branding, "The branding now in force"),
                                          409: {"description": "expected_version is stale"}})
def put_branding(body: UpdateBrandingRequest) -> Response[str]:
    saved = branding.update_branding(
        BrandingRepository(deps.table()), business_name=body.business_name, tagline=body.tagline,
        colour=body.colour, contact_line=body.contact_line,
        logo=(body.logo.content_type, body.logo.data_base64) if body.logo else None, keep_logo=body.keep_logo,
        expected_version=body.expected_version, actor=current_actor(router))
    return _view(saved)
