"""The signed-in referrer's share codes: create one, its QR code as PNG or SVG, and its printable flyers.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import actor, origin, referrer_id, settings, signed_in

from referral_core import deps
from referral_core.dal.branding import BrandingRepository
from referral_core.dal.links import LinkRepository
from referral_core.dal.program import ProgramRepository
from referral_core.flyer_http import PDF_ANSWER, FlyerPlacement, FlyerSizeParam, pdf_answer
from referral_core.http import json_answer, json_response
from referral_core.models.share_codes import CreateShareCodeRequest, ShareCodeView
from referral_core.observability import tracer
from referral_core.placements import Placement
from referral_core.qr_http import DEFAULT_BORDER, DEFAULT_SIZE, Border, Size, qr_image
from referral_core.services import flyers, portal
from referral_core.services.program import share_code_rules
from referral_core.services.share_codes import create_share_code

router = APIGatewayHttpRouter()

@router.post("/me/share-codes", responses={201: json_answer(ShareCodeView, "Code created"),
                                           409: {"description": "That code is taken, or you have the most "
                                                                "active codes the programme allows "
                                                                "(limit_reached)"}})
@tracer.capture_method
def post_share_code(body: CreateShareCodeRequest) -> Response[str]:
    signed_in(router)
    view = create_share_code(LinkRepository(deps.table()), referrer_id(router), body, origin=origin(router),
                             actor=actor(router), allowed_hosts=settings().allowed_redirect_hosts,
                             qr_prefix=portal.QR_PREFIX, rules=share_code_rules(ProgramRepository(deps.table())),
                             landing_choices=settings().referrer_landing_urls)
    return json_response(201, view.model_dump(mode="json"))


def _qr_target(code: str, placement: Placement | None) -> str:
    return portal.my_qr_target(LinkRepository(deps.table()), referrer_id(router), code,
                               placement=placement.value if placement else None, origin=origin(router))


# No return annotations on the image routes (referral_core.qr_http says why).
@router.get("/me/share-codes/<code>/qr.png")
@tracer.capture_method
def get_qr_png(code: str, size: Size = DEFAULT_SIZE, border: Border = DEFAULT_BORDER,
               placement: Annotated[Placement | None, Query()] = None):
    return qr_image("png", _qr_target(code, placement), size=size, border=border)


@router.get("/me/share-codes/<code>/qr.svg")
@tracer.capture_method
def get_qr_svg(code: str, size: Size = DEFAULT_SIZE, border: Border = DEFAULT_BORDER,
               placement: Annotated[Placement | None, Query()] = None):
    return qr_image("svg", _qr_target(code, placement), size=size, border=border)


@router.get("/me/share-codes/<code>/flyer.pdf", responses=PDF_ANSWER)
@tracer.capture_method
def get_flyer(code: str, size: FlyerSizeParam = flyers.FlyerSize.A4, placement: FlyerPlacement = None):
    table = deps.table()
    item = portal.my_share_code(LinkRepository(table), referrer_id(router), code)
    body = flyers.code_flyer(item, size, placement=placement.value if placement else None, origin=origin(router),
                             brands=BrandingRepository(table))
    return pdf_answer(body, filename=f"{item['code']}-{size.value}.pdf")
