"""The business's branding, set once by staff (``PUT /admin/branding``) and used by the pages (Quick Help,
link previews), the referrer emails and the flyers.

The logo is checked before it is stored: PNG or JPEG by their file signatures, or SVG by a strict reading
(no DTD or entities, no scripts, event handlers, foreign objects or external references), at most
:data:`MAX_LOGO_BYTES`. It is served (``GET /branding/logo``) with its own type, ``nosniff`` and the default
CSP (``default-src 'none'``), so even a hostile SVG that slipped through could run nothing.
"""

from __future__ import annotations

import base64
import binascii
import re
import time
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any

from referral_core.clock import iso
from referral_core.dal.branding import BrandingRepository
from referral_core.errors import InvalidInput, Unavailable
from referral_core.models.branding import BrandingData

MAX_LOGO_BYTES = 40 * 1024  # base64 in a JSON body: within the API's 64 KB bodies (referral_core.bodies)
LOGO_PATH = "/branding/logo"
DEFAULT_LOGO = Path(__file__).resolve().parents[1] / "pages" / "static" / "default-logo.png"
_SIGNATURES = {"image/png": (b"\x89PNG\r\n\x1a\n",), "image/jpeg": (b"\xff\xd8\xff",)}
_SVG_NS = "{http://www.w3.org/2000/svg}"
_SVG_FORBIDDEN = frozenset({"script", "foreignobject", "iframe", "object", "embed", "audio", "video",
                            "animate", "set", "animatemotion", "animatetransform", "handler", "listener"})
_EXTERNAL = re.compile(r"url\s*\(\s*['\"]?\s*(?!#)", re.IGNORECASE)


def branding_of(stored: dict[str, Any] | None) -> BrandingData:
    if not stored:
        return BrandingData()
    return BrandingData(business_name=str(stored.get("business_name") or BrandingData.business_name),
                        tagline=str(stored.get("tagline") or ""), colour=str(stored.get("colour") or "#0a58ca"),
                        contact_line=str(stored.get("contact_line") or ""),
                        logo_type=stored.get("logo_type") if stored.get("logo_base64") else None,
                        version=int(stored.get("version") or 0), updated_at=stored.get("updated_at"),
                        updated_by=stored.get("updated_by"))


class BrandingCache:
    """The branding a container read in the last ``ttl_seconds``: pages read it on every request, and a
    change shows within ``ttl_seconds`` (a minute) in every container."""

    def __init__(self, ttl_seconds: float = 60, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds, self._clock = ttl_seconds, clock
        self._entry: tuple[float, dict[str, Any] | None] | None = None

    def get(self, repo: BrandingRepository) -> dict[str, Any] | None:
        """Like the share codes' cache, nothing saved yet is not cached: the first save shows at once."""
        now = self._clock()
        if self._entry is not None and self._entry[0] > now:
            return self._entry[1]
        stored = repo.current()
        self._entry = (now + self.ttl_seconds, stored) if stored is not None else None
        return stored

    def clear(self) -> None:
        self._entry = None


#: One per container (the pages of capture_lead, the portal's flyers and emails).
CACHE = BrandingCache()


def current_branding(repo: BrandingRepository, *, cached: bool = True) -> BrandingData:
    return branding_of(CACHE.get(repo) if cached else repo.current())


def current_or_default(repo: BrandingRepository) -> BrandingData:
    """The branding, or the defaults when the table is busy: what decorates a page or an email never fails it."""
    try:
        return current_branding(repo)
    except Unavailable:
        return BrandingData()


def signed_by(brand: BrandingData, text: str, html_body: str) -> tuple[str, str]:
    """An email's text and HTML with the business's name and contact line at the end."""
    import html

    lines = [brand.business_name, *([brand.contact_line] if brand.contact_line else [])]
    text = f"{text.rstrip()}\n\n-- \n" + "\n".join(lines) + "\n"
    footer = (f'<p style="color:#555;border-top:3px solid {html.escape(brand.colour)};padding-top:8px">'
              + "<br>".join(html.escape(line) for line in lines) + "</p>")
    return text, (html_body.replace("</body>", footer + "</body>", 1) if "</body>" in html_body
                  else html_body + footer)


def check_logo(content_type: str, data_base64: str) -> bytes:
    """The logo's bytes if they are an acceptable file of ``content_type``; 422 naming the field otherwise."""
    field = "logo.data_base64"
    try:
        data = base64.b64decode(data_base64, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidInput("the logo is not valid base64", fields={field: "not valid base64"}) from None
    if not data:
        raise InvalidInput("the logo is empty", fields={field: "empty"})
    if len(data) > MAX_LOGO_BYTES:
        raise InvalidInput(f"the logo is larger than {MAX_LOGO_BYTES // 1024} KiB",
                           fields={field: f"at most {MAX_LOGO_BYTES} bytes"})
    if content_type == "image/svg+xml":
        problem = svg_problem(data)
        if problem:
            raise InvalidInput(f"the SVG logo is refused: {problem}", fields={field: problem})
    elif not data.startswith(_SIGNATURES[content_type]):
        raise InvalidInput(f"the logo is not a {content_type} file", fields={field: f"not {content_type}"})
    return data


def svg_problem(data: bytes) -> str | None:
    """Why an SVG file is not a safe logo, or None."""
    from xml.etree.ElementTree import ParseError  # the exception only: parsing is defusedxml's

    from defusedxml import DefusedXmlException
    from defusedxml.ElementTree import fromstring  # only when a logo is uploaded

    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return "must be UTF-8 text"
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return "must not contain a DTD or entities"
    try:
        root = fromstring(text, forbid_dtd=True)
    except DefusedXmlException:
        return "must not contain a DTD or entities"
    except ParseError:
        return "is not well-formed XML"
    if root.tag != f"{_SVG_NS}svg":
        return "the root element must be <svg> (SVG namespace)"
    for element in root.iter():
        name = str(element.tag).rsplit("}", 1)[-1].lower()
        if name in _SVG_FORBIDDEN:
            return f"<{name}> is not allowed"
        for attribute, value in element.attrib.items():
            local = attribute.rsplit("}", 1)[-1].lower()
            if local.startswith("on"):
                return f"event handler attributes ({local}) are not allowed"
            if local == "href" and not value.strip().startswith("#"):
                return "links and images must be inside the file (href=\"#...\")"
            if _EXTERNAL.search(value):
                return "external url(...) references are not allowed"
        if name == "style" and element.text and (_EXTERNAL.search(element.text) or "@import" in element.text):
            return "external references in <style> are not allowed"
    return None


def update_branding(repo: BrandingRepository, *, business_name: str, tagline: str, colour: str,
                    contact_line: str, logo: tuple[str, str] | None, keep_logo: bool, expected_version: int,
                    actor: str) -> BrandingData:
    """Save the branding as the next version (409 when ``expected_version`` is stale), audited."""
    item: dict[str, Any] = {"business_name": business_name, "tagline": tagline, "colour": colour.lower(),
                            "contact_line": contact_line}
    if logo is not None:
        content_type, data_base64 = logo
        item.update(logo_type=content_type,
                    logo_base64=base64.b64encode(check_logo(content_type, data_base64)).decode())
    elif keep_logo:
        stored = repo.current() or {}
        if stored.get("logo_base64"):
            item.update(logo_type=stored.get("logo_type"), logo_base64=stored["logo_base64"])
    at = iso()
    version = repo.save(item, expected_version=expected_version, actor=actor, at=at)
    CACHE.clear()
    return branding_of({**item, "version": version, "updated_at": at, "updated_by": actor})


@cache
def default_logo() -> bytes:
    return DEFAULT_LOGO.read_bytes()


def logo(repo: BrandingRepository) -> tuple[str, bytes]:
    """The stored logo's type and bytes, or the default image shipped with the pages."""
    stored = CACHE.get(repo) or {}
    if stored.get("logo_base64") and stored.get("logo_type"):
        return str(stored["logo_type"]), base64.b64decode(str(stored["logo_base64"]))
    return "image/png", default_logo()
