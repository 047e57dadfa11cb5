"""The signed-in referrer's share codes: create one, and its QR code as PNG or SVG.

No ``from __future__ import annotations``: Powertools reads the route signatures at run time.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query
from aws_lambda_powertools.event_handler.router import APIGatewayHttpRouter
from portal_context import actor, origin, referrer_id, settings, signed_in

from referral_core import api
from referral_core.dal.links import LinkRepository
from referral_core.http import json_answer, json_response
from referral_core.models.share_codes import CreateShareCodeRequest, ShareCodeView
from referral_core.observability import tracer
from referral_core.placements import Placement
from referral_core.services import portal, qr
from referral_core.services.share_codes import create_share_code

router = APIGatewayHttpRouter()

Size = Annotated[int, Query(ge=qr.BOX_SIZE[0], le=qr.BOX_SIZE[1], description="Pixels per module")]
Border = Annotated[int, Query(ge=qr.BORDER[0], le=qr.BORDER[1], description="Quiet zone, in modules")]
QR_HEADERS = {"Cache-Control": "private, max-age=86400"}


@router.post("/me/share-codes", responses={201: json_answer(ShareCodeView, "Code created"),
                                           409: {"description": "That code is taken"}})
@tracer.capture_method
def post_share_code(body: CreateShareCodeRequest) -> Response[str]:
    signed_in(router)
    view = create_share_code(LinkRepository(api.table()), referrer_id(router), body, origin=origin(router),
                             actor=actor(router), allowed_hosts=settings().allowed_redirect_hosts,
                             qr_prefix=portal.QR_PREFIX)
    return json_response(201, view.model_dump(mode="json"))


def _qr_target(code: str, placement: Placement | None) -> str:
    return portal.my_qr_target(LinkRepository(api.table()), referrer_id(router), code,
                               placement=placement.value if placement else None, origin=origin(router))


# No return annotations on the image routes: Powertools would validate the body against it as UTF-8 text.
@router.get("/me/share-codes/<code>/qr.png")
@tracer.capture_method
def get_qr_png(code: str, size: Size = qr.BOX_SIZE[2], border: Border = qr.BORDER[2],
               placement: Annotated[Placement | None, Query()] = None):
    png = qr.qr_png(_qr_target(code, placement), box_size=size, border=border)
    return Response(status_code=200, content_type="image/png", body=png, headers=QR_HEADERS)


@router.get("/me/share-codes/<code>/qr.svg")
@tracer.capture_method
def get_qr_svg(code: str, size: Size = qr.BOX_SIZE[2], border: Border = qr.BORDER[2],
               placement: Annotated[Placement | None, Query()] = None):
    svg = qr.qr_svg(_qr_target(code, placement), box_size=size, border=border)
    return Response(status_code=200, content_type="image/svg+xml", body=svg, headers=QR_HEADERS)
