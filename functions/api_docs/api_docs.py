"""GET /openapi.json, GET /docs and GET /docs/{asset}: the API description generated from the code
(scripts/openapi.py) and Swagger UI to browse it.

Swagger UI's files come from the pinned ``swagger-ui-bundle-v2`` package in this function's own
requirements.txt (``sam build`` puts it in this function's package, not the shared layer), and are served
from this origin: the page loads nothing from another host. Its start-up script is a file (docs.js), so
the page's CSP allows scripts and styles from ``'self'`` only, no inline script.
"""

from __future__ import annotations

from referral_core.init_phase import init_complete

from functools import cache
from pathlib import Path
from typing import Any

from referral_core.security_headers import secured

HERE = Path(__file__).parent
HTML = "text/html; charset=utf-8"
JS = "text/javascript; charset=utf-8"
CSS = "text/css; charset=utf-8"
#: Scripts and styles from this origin only, nothing inline; Swagger UI draws its icons as data: images.
#: (Checked in Chromium: the page renders and expands operations with no CSP violation.)
DOCS_CSP = ("default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'none'; base-uri 'none'; frame-ancestors 'none'")
CACHE = "public, max-age=300"


def _vendor(name: str) -> Path:
    from swagger_ui_bundle import swagger_ui_path  # only the asset routes need the package

    return Path(str(swagger_ui_path)) / name


#: ``/docs/{asset}``: what it is and where it comes from (nothing else is served).
ASSETS = {
    "swagger-ui.css": (CSS, lambda: _vendor("swagger-ui.css")),
    "swagger-ui-bundle.js": (JS, lambda: _vendor("swagger-ui-bundle.js")),
    "docs.js": (JS, lambda: HERE / "docs.js"),
}


@cache
def _read(path: Path) -> str:
    return path.read_text(encoding="utf-8")


def _answer(status: int, content_type: str, body: str, **headers: str) -> dict[str, Any]:
    return {"statusCode": status, "headers": {"Content-Type": content_type, "Cache-Control": CACHE, **headers},
            "body": body}


@secured
def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    path = str(event.get("rawPath") or "")
    if path == "/openapi.json":
        return _answer(200, "application/json", _read(HERE / "openapi.json"))
    if path == "/docs":
        return _answer(200, HTML, _read(HERE / "docs.html"), **{"Content-Security-Policy": DOCS_CSP})
    asset = ASSETS.get((event.get("pathParameters") or {}).get("asset", ""))
    if asset is None:
        from referral_core.errors import NotFound
        from referral_core.http_errors import error_payload

        return error_payload(NotFound("no such asset"))
    content_type, where = asset
    return _answer(200, content_type, _read(where()), **{"Cache-Control": "public, max-age=86400"})


init_complete()
