"""The HTTP side of printable flyers, shared by the staff and portal routes: the ``size`` and ``placement``
query parameters and the PDF answer. Like the QR images, the route declares no return type (a non-JSON
Response passes through; bytes -> base64 by Powertools). ``fpdf2`` is imported by the drawing itself."""

from typing import Annotated

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from referral_core.placements import Placement
from referral_core.services.flyers import FlyerSize

FlyerSizeParam = Annotated[FlyerSize, Query(description="a4 poster, a5 or dl flyer, card (85 x 55 mm with "
                                                        "bleed and crop marks), decal (large QR, correction H)")]
FlyerPlacement = Annotated[Placement | None, Query(
    description="What the QR code counts scans as (default: the size's own: flyer, business_card, van)")]
PDF_ANSWER = {200: {"description": "The flyer (PDF)",
                    "content": {"application/pdf": {"schema": {"type": "string", "format": "binary"}}}}}


def pdf_answer(body: bytes, *, filename: str) -> Response[bytes]:
    return Response(status_code=200, content_type="application/pdf", body=body,
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, max-age=300"})
