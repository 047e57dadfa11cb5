"""The HTTP side of QR images, shared by the staff and portal routes: the ``size``/``border`` query
parameters and the image answer.

Image routes declare no return type on purpose: with one, Powertools' response validation would
JSON-serialise the body; without, a non-JSON Response passes through (bytes -> base64 by Powertools).
"""

from typing import Annotated, Literal

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.event_handler.openapi.params import Query

from referral_core.services import qr

Size = Annotated[int, Query(ge=qr.BOX_SIZE[0], le=qr.BOX_SIZE[1], description="Pixels per module")]
Border = Annotated[int, Query(ge=qr.BORDER[0], le=qr.BORDER[1], description="Quiet zone, in modules")]
DEFAULT_SIZE, DEFAULT_BORDER = qr.BOX_SIZE[2], qr.BORDER[2]
# A QR image depends only on the code, placement and options: cacheable, but only by the caller's browser.
CACHE_CONTROL = "private, max-age=86400"


def qr_image(kind: Literal["png", "svg"], url: str, *, size: int, border: int) -> Response[bytes | str]:
    """The QR code of ``url`` as a PNG or SVG answer."""
    if kind == "png":
        body: bytes | str = qr.qr_png(url, box_size=size, border=border)
        content_type = "image/png"
    else:
        body, content_type = qr.qr_svg(url, box_size=size, border=border), "image/svg+xml"
    return Response(status_code=200, content_type=content_type, body=body, headers={"Cache-Control": CACHE_CONTROL})
