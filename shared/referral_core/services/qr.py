"""QR codes of share links, as PNG (pure-Python pypng writer) or SVG, with bounded size options.

``qrcode`` is imported by the functions that draw, not by this module: the functions that serve QR images
serve other routes too, whose cold starts should not load the library (with its image back ends).
"""

from __future__ import annotations

import io
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from referral_core.errors import InvalidInput

if TYPE_CHECKING:
    import qrcode

BOX_SIZE = (1, 40, 10)  # min, max, default pixels per module
BORDER = (1, 16, 4)  # min, max, default modules of quiet zone (the QR standard asks for 4)


def qr_target(origin: str, code: str, placement: str | None) -> str:
    """What a printed QR code encodes: the share link marked as a QR scan, with its placement."""
    params = {"src": "qr", **({"p": placement} if placement else {})}
    return f"{origin.rstrip('/')}/r/{code}?{urlencode(params)}"


def _checked(name: str, value: int, bounds: tuple[int, int, int]) -> int:
    low, high, _ = bounds
    if not low <= value <= high:
        raise InvalidInput(f"{name} must be between {low} and {high}",
                           fields={name: f"must be between {low} and {high}"})
    return value


def _qr(url: str, box_size: int, border: int) -> qrcode.QRCode:  # type: ignore[type-arg]
    import qrcode

    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M,
                         box_size=_checked("size", box_size, BOX_SIZE),
                         border=_checked("border", border, BORDER))
    code.add_data(url)
    code.make(fit=True)
    return code


def qr_png(url: str, *, box_size: int = BOX_SIZE[2], border: int = BORDER[2]) -> bytes:
    from qrcode.image.pure import PyPNGImage

    buffer = io.BytesIO()
    _qr(url, box_size, border).make_image(image_factory=PyPNGImage).save(buffer)
    return buffer.getvalue()


def qr_svg(url: str, *, box_size: int = BOX_SIZE[2], border: int = BORDER[2]) -> str:
    from qrcode.image.svg import SvgPathImage

    image = _qr(url, box_size, border).make_image(image_factory=SvgPathImage)
    return str(image.to_string(encoding="unicode"))
