"""GET /openapi.json and GET /docs: the API description generated from the code (scripts/openapi.py)."""

from __future__ import annotations

from referral_core.init_phase import init_complete  # first: pauses the GC while the function loads

from functools import cache
from pathlib import Path
from typing import Any


@cache
def _spec() -> str:
    return (Path(__file__).parent / "openapi.json").read_text()


_DOCS = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Referral system API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="stylesheet" href="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui.css">
</head><body><div id="swagger-ui"><p>Loading the API description from <a href="openapi.json">openapi.json</a>…</p></div>
<script src="https://cdn.jsdelivr.net/npm/swagger-ui-dist@5/swagger-ui-bundle.js"></script>
<script>window.ui = SwaggerUIBundle({url: "openapi.json", dom_id: "#swagger-ui"});</script>
</body></html>"""


def handler(event: dict[str, Any], context: Any) -> dict[str, Any]:
    if event.get("rawPath") == "/openapi.json":
        return {"statusCode": 200, "headers": {"Content-Type": "application/json",
                                               "Cache-Control": "public, max-age=300"}, "body": _spec()}
    return {"statusCode": 200, "headers": {"Content-Type": "text/html; charset=utf-8",
                                           "Cache-Control": "public, max-age=300"}, "body": _DOCS}


init_complete()
