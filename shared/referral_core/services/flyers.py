"""Printable QR flyers (PDF): an A4 poster, A5 and DL flyers, a business card (85 x 55 mm with 3 mm bleed
and crop marks) and a van or shop-window decal (a large QR at error correction H, which survives dirt,
scratches and a logo sticker).

Each carries the business's name and short line (``PUT /admin/branding``), the logo when staff set one, a
QR code drawn as vector rectangles from the ``qrcode`` matrix (sharp at any print size: never a scaled
bitmap) encoding the code's QR target for the flyer's placement (``services.qr.qr_target``: scans count per
placement), the short link printed under it, the contact line and the honest reward wording.

``fpdf2`` (pure Python) and ``qrcode`` are imported only when a flyer is drawn: the functions serving the
flyer routes serve many other routes, whose cold starts must not pay for a PDF library.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from referral_core.dal.branding import BrandingRepository
from referral_core.models.branding import BrandingData
from referral_core.placements import Placement
from referral_core.services import branding
from referral_core.services.notifications import POLICY_LINE
from referral_core.services.qr import qr_target
from referral_core.services.referrers import short_link

if TYPE_CHECKING:
    from fpdf import FPDF

CROP_MARK_MM = 5.0  # length of a crop mark, drawn outside the bleed
SLUG_MM = 8.0  # paper around the bleed for the crop marks
QUIET_MODULES = 4  # the QR standard's quiet zone


class FlyerSize(StrEnum):
    A4 = "a4"
    A5 = "a5"
    DL = "dl"
    CARD = "card"
    DECAL = "decal"


@dataclass(frozen=True)
class Layout:
    title: str
    width_mm: float  # the trimmed size
    height_mm: float
    qr_mm: float  # the QR code's side, quiet zone included
    name_pt: float
    text_pt: float
    placement: Placement  # what its QR code counts scans as, unless the request names another
    error_correction: str = "M"
    bleed_mm: float = 0.0  # > 0: bleed and crop marks (professional printing)


LAYOUTS: dict[FlyerSize, Layout] = {
    FlyerSize.A4: Layout("A4 poster", 210, 297, 120, 34, 14, Placement.FLYER),
    FlyerSize.A5: Layout("A5 flyer", 148, 210, 85, 24, 11, Placement.FLYER),
    FlyerSize.DL: Layout("DL flyer", 99, 210, 70, 20, 10, Placement.FLYER),
    FlyerSize.CARD: Layout("Business card", 85, 55, 34, 11, 6, Placement.BUSINESS_CARD, bleed_mm=3),
    FlyerSize.DECAL: Layout("Van / shop-window decal", 300, 380, 220, 40, 16, Placement.VAN, error_correction="H"),
}

#: Characters outside Latin-1 (the PDF core fonts) that text commonly holds, and what prints instead.
_PRINTABLE = str.maketrans({"\u2018": "'", "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2013": "-",
                            "\u2014": "-", "\u2026": "...", "\u2022": "\u00b7", "\u00a0": " "})


def printable(text: str) -> str:
    """``text`` in the core fonts' Latin-1; anything else becomes ``?`` rather than failing the flyer."""
    return text.translate(_PRINTABLE).encode("latin-1", "replace").decode("latin-1")


def placement_for(size: FlyerSize, requested: str | None) -> str:
    return requested or LAYOUTS[size].placement.value


def qr_matrix(target: str, error_correction: str) -> list[list[bool]]:
    """The QR modules of ``target`` (True: dark), without the quiet zone."""
    import qrcode

    levels = {"M": qrcode.constants.ERROR_CORRECT_M, "H": qrcode.constants.ERROR_CORRECT_H}
    code = qrcode.QRCode(error_correction=levels[error_correction], border=0)
    code.add_data(target)
    code.make(fit=True)
    return [list(row) for row in code.get_matrix()]


def draw_qr(pdf: FPDF, matrix: list[list[bool]], *, x: float, y: float, side: float) -> None:
    """The QR code as filled rectangles, one per horizontal run of dark modules, with a white quiet zone."""
    count = len(matrix) + 2 * QUIET_MODULES
    module = side / count
    pdf.set_fill_color(255, 255, 255)
    pdf.rect(x, y, side, side, style="F")
    pdf.set_fill_color(0, 0, 0)
    for r, row in enumerate(matrix):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x + (QUIET_MODULES + start) * module, y + (QUIET_MODULES + r) * module,
                     (c - start) * module, module, style="F")


def _rgb(colour: str) -> tuple[int, int, int]:
    value = colour.lstrip("#")
    return int(value[0:2], 16), int(value[2:4], 16), int(value[4:6], 16)


def _crop_marks(pdf: FPDF, *, left: float, top: float, width: float, height: float, bleed: float) -> None:
    """Thin marks at the trim lines, outside the bleed, on every corner."""
    pdf.set_draw_color(0, 0, 0)
    pdf.set_line_width(0.1)
    gap = bleed + 1
    for x in (left, left + width):
        for y, direction in ((top, -1), (top + height, 1)):
            pdf.line(x, y + direction * gap, x, y + direction * (gap + CROP_MARK_MM))
    for y in (top, top + height):
        for x, direction in ((left, -1), (left + width, 1)):
            pdf.line(x + direction * gap, y, x + direction * (gap + CROP_MARK_MM), y)


def _logo(pdf: FPDF, logo: tuple[str, bytes], *, x: float, y: float, height: float) -> float:
    """Draws the logo centred on ``x`` within a box ``height`` high; returns the height used."""
    info: Any = pdf.image(io.BytesIO(logo[1]), x=x - height, y=y, w=2 * height, h=height, keep_aspect_ratio=True)
    return float(getattr(info, "rendered_height", height) or height)


def render_flyer(size: FlyerSize, *, target: str, short_url: str, brand: BrandingData,
                 logo: tuple[str, bytes] | None = None) -> bytes:
    """The PDF of one flyer. ``target``: what its QR code encodes; ``short_url``: printed under it."""
    from fpdf import FPDF

    layout = LAYOUTS[size]
    margin = (layout.bleed_mm + SLUG_MM) if layout.bleed_mm else 0.0
    page_w, page_h = layout.width_mm + 2 * margin, layout.height_mm + 2 * margin
    pdf = FPDF(unit="mm", format=(page_w, page_h))
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    pdf.set_title(printable(f"{brand.business_name}: {layout.title}"))
    pdf.set_creator("referral system")
    pdf.add_page()
    left, top, width, height = margin, margin, layout.width_mm, layout.height_mm
    pad = min(width, height) * 0.07
    accent = _rgb(brand.colour)

    # A band of the business's colour across the top, printed into the bleed
    band = height * (0.16 if size != FlyerSize.CARD else 0.22)
    pdf.set_fill_color(*accent)
    pdf.rect(left - layout.bleed_mm, top - layout.bleed_mm, width + 2 * layout.bleed_mm,
             band + layout.bleed_mm, style="F")
    pdf.set_text_color(255, 255, 255)
    pdf.set_font("Helvetica", "B", layout.name_pt)
    pdf.set_xy(left + pad, top)
    pdf.cell(width - 2 * pad, band, printable(brand.business_name), align="C")

    cursor = top + band + pad * 0.6
    pdf.set_text_color(20, 20, 20)
    if brand.tagline and size != FlyerSize.CARD:  # a card has no room for it
        pdf.set_font("Helvetica", "", layout.text_pt * 1.2)
        pdf.set_xy(left + pad, cursor)
        pdf.multi_cell(width - 2 * pad, layout.text_pt * 0.6, printable(brand.tagline), align="C")
        cursor = pdf.get_y() + pad * 0.3
    if size != FlyerSize.CARD and logo is not None:
        cursor += _logo(pdf, logo, x=left + width / 2, y=cursor, height=min(height * 0.08, 30)) + pad * 0.3

    qr_side = min(layout.qr_mm, width - 2 * pad)
    if size == FlyerSize.CARD:  # the card: QR on the right, the words on the left
        qr_x, qr_y = left + width - pad - qr_side, top + band + (height - band - qr_side) / 2
    else:
        qr_x, qr_y = left + (width - qr_side) / 2, cursor
    draw_qr(pdf, qr_matrix(target, layout.error_correction), x=qr_x, y=qr_y, side=qr_side)

    pdf.set_font("Helvetica", "B", layout.text_pt)
    if size == FlyerSize.CARD:
        text_w = width - 3 * pad - qr_side
        pdf.set_xy(left + pad, top + band + pad * 0.5)
        pdf.multi_cell(text_w, layout.text_pt * 0.45, "Scan or visit for help:", align="L")
        pdf.set_font("Helvetica", "", layout.text_pt * 0.95)
        pdf.set_x(left + pad)
        pdf.multi_cell(text_w, layout.text_pt * 0.45, printable(short_url), align="L")
        if brand.contact_line:
            pdf.set_x(left + pad)
            pdf.multi_cell(text_w, layout.text_pt * 0.45, printable(brand.contact_line), align="L")
        pdf.set_font("Helvetica", "", layout.text_pt * 0.7)
        pdf.set_x(left + pad)
        pdf.multi_cell(text_w, layout.text_pt * 0.35, printable(POLICY_LINE), align="L")
        _crop_marks(pdf, left=left, top=top, width=width, height=height, bleed=layout.bleed_mm)
    else:
        pdf.set_xy(left + pad, qr_y + qr_side + pad * 0.2)
        pdf.cell(width - 2 * pad, layout.text_pt * 0.6, "Scan the code or visit", align="C")
        pdf.set_xy(left + pad, pdf.get_y() + layout.text_pt * 0.6)
        pdf.set_font("Helvetica", "B", layout.text_pt * 1.15)
        pdf.cell(width - 2 * pad, layout.text_pt * 0.7, printable(short_url), align="C")
        footer = (f"{brand.contact_line}\n" if brand.contact_line else "") + POLICY_LINE
        pdf.set_font("Helvetica", "", layout.text_pt * 0.75)
        lines = footer.count("\n") + 3
        pdf.set_xy(left + pad, top + height - pad - lines * layout.text_pt * 0.4)
        pdf.multi_cell(width - 2 * pad, layout.text_pt * 0.4, printable(footer), align="C")
    return bytes(pdf.output())


def logo_for_print(stored: dict[str, Any] | None) -> tuple[str, bytes] | None:
    """The logo staff set (the default image is for screens and previews, not for print)."""
    if not stored or not stored.get("logo_base64") or not stored.get("logo_type"):
        return None
    return str(stored["logo_type"]), base64.b64decode(str(stored["logo_base64"]))


def printed_link(url: str) -> str:
    """The short link as printed: without ``https://`` (people type what they read)."""
    return url.removeprefix("https://")


def code_flyer(item: Mapping[str, Any], size: FlyerSize, *, placement: str | None, origin: str,
               brands: BrandingRepository) -> bytes:
    """The flyer of one share code (``item``: its stored code item, already checked as the caller's to see)
    for ``placement`` (default: the size's own, e.g. ``business_card`` for a card)."""
    code = str(item["code"])
    stored = branding.CACHE.get(brands)
    return render_flyer(size, target=qr_target(origin, code, placement_for(size, placement)),
                        short_url=printed_link(short_link(origin, code)), brand=branding.branding_of(stored),
                        logo=logo_for_print(stored))
