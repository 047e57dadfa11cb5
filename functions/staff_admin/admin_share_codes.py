"""Staff routes for share codes: create for a referrer, disable/enable, usage review, QR images and flyers.
"""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.api_gateway import Router
from aws_lambda_powertools.event_handler.openapi.params import Query
from staff_context import current_actor, settings

from referral_core import deps
from referral_core.dal.branding import BrandingRepository
from referral_core.dal.links import LinkRepository
from referral_core.dal.program import ProgramRepository
from referral_core.flyer_http import PDF_ANSWER, FlyerPlacement, FlyerSizeParam, pdf_answer
from referral_core.http import json_answer, json_response
from referral_core.models.share_codes import CreateShareCodeRequest, ShareCodeView, UsageReview
from referral_core.observability import tracer
from referral_core.origin import request_origin
from referral_core.placements import Placement
from referral_core.qr_http import DEFAULT_BORDER, DEFAULT_SIZE, Border, Size, qr_image
from referral_core.services import flyers, qr
from referral_core.services.program import share_code_rules
from referral_core.services.share_codes import (
    create_share_code,
    get_share_code,
    set_share_code_enabled,
    usage_review,
)

QR_PREFIX = "/admin/share-codes"

router = Router()


def _repo() -> LinkRepository:
    return LinkRepository(deps.table())


def _origin() -> str:
    return request_origin(router.current_event.raw_event, settings().public_base_url)


CREATE_RESPONSES = {201: json_answer(ShareCodeView, "Code created"),
                    409: {"description": "That code is taken, or the referrer has the most active codes the "
                                         "programme allows (limit_reached)"}}


@router.post("/admin/referrers/<referrer_id>/share-codes", responses=CREATE_RESPONSES)
@tracer.capture_method
def post_share_code(referrer_id: str, body: CreateShareCodeRequest) -> Response[str]:
    view = create_share_code(_repo(), referrer_id, body, origin=_origin(), actor=current_actor(router),
                             allowed_hosts=settings().allowed_redirect_hosts, qr_prefix=QR_PREFIX,
                             rules=share_code_rules(ProgramRepository(deps.table())))
    return json_response(201, view.model_dump(mode="json"))


@router.post("/admin/share-codes/<code>/disable", responses={200: json_answer(ShareCodeView, "The code, disabled")})
@tracer.capture_method
def disable_share_code(code: str) -> Response[str]:
    view = set_share_code_enabled(_repo(), code, False, origin=_origin(), actor=current_actor(router),
                                  qr_prefix=QR_PREFIX)
    return json_response(200, view.model_dump(mode="json"))


@router.post("/admin/share-codes/<code>/enable", responses={200: json_answer(ShareCodeView, "The code, active")})
@tracer.capture_method
def enable_share_code(code: str) -> Response[str]:
    view = set_share_code_enabled(_repo(), code, True, origin=_origin(), actor=current_actor(router),
                                  qr_prefix=QR_PREFIX)
    return json_response(200, view.model_dump(mode="json"))


@router.get("/admin/share-codes/<code>",
            responses={200: json_answer(UsageReview, "The code and its counters per placement")})
@tracer.capture_method
def get_usage_review(code: str) -> Response[str]:
    review = usage_review(_repo(), code, origin=_origin(), qr_prefix=QR_PREFIX)
    return json_response(200, review.model_dump(mode="json"))


def _qr_target(code: str, placement: Placement | None) -> str:
    item = get_share_code(_repo(), code)
    chosen = placement.value if placement else str(item.get("placement") or "") or None
    return qr.qr_target(_origin(), str(item["code"]), chosen)


@router.get("/admin/share-codes/<code>/qr.png")
@tracer.capture_method
def get_qr_png(code: str, size: Size = DEFAULT_SIZE, border: Border = DEFAULT_BORDER,
               placement: Annotated[Placement | None, Query()] = None):  # type: ignore[no-untyped-def]
    return qr_image("png", _qr_target(code, placement), size=size, border=border)


@router.get("/admin/share-codes/<code>/qr.svg")
@tracer.capture_method
def get_qr_svg(code: str, size: Size = DEFAULT_SIZE, border: Border = DEFAULT_BORDER,
               placement: Annotated[Placement | None, Query()] = None):  # type: ignore[no-untyped-def]
    return qr_image("svg", _qr_target(code, placement), size=size, border=border)


@router.get("/admin/share-codes/<code>/flyer.pdf", responses=PDF_ANSWER)
@tracer.capture_method
def get_flyer(code: str, size: FlyerSizeParam = flyers.FlyerSize.A4,
              placement: FlyerPlacement = None):  # type: ignore[no-untyped-def]
    item = get_share_code(_repo(), code)
    body = flyers.code_flyer(item, size, placement=placement.value if placement else None, origin=_origin(),
                             brands=BrandingRepository(deps.table()))
    return pdf_answer(body, filename=f"{item['code']}-{size.value}.pdf")
