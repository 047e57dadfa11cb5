"""Small server-rendered HTML pages, from the files in ``static/`` (HTML, CSS and the dashboard's script).

A page's CSS and script are inlined, and the page's Content-Security-Policy allows exactly those (by their
SHA-256), nothing else inline. Files are read once, on first use (never at import: cold starts). Every
interpolated value goes through ``html.escape``; the files hold no data.
"""

from __future__ import annotations

import base64
import hashlib
import html
from functools import cache
from pathlib import Path
from string import Template

STATIC = Path(__file__).with_name("static")
#: Every page's stylesheet; a page may add its own after it.
BASE_STYLES = ("page.css",)


@cache
def asset(name: str) -> str:
    return (STATIC / name).read_text(encoding="utf-8")


@cache
def template(name: str) -> Template:
    return Template(asset(name))


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


@cache
def source_hash(name: str) -> str:
    """The CSP source (``'sha256-…'``) of a file inlined as a ``<style>`` or ``<script>`` element's text."""
    return "'sha256-" + base64.b64encode(hashlib.sha256(asset(name).encode()).digest()).decode() + "'"


def content_security_policy(*, styles: tuple[str, ...] = BASE_STYLES, scripts: tuple[str, ...] = (),
                            extra: str = "") -> str:
    """The policy of a page inlining ``styles`` and ``scripts`` (files of ``static/``); ``extra``: more directives."""
    script_src = " ".join(source_hash(name) for name in scripts) or "'none'"
    style_src = " ".join(source_hash(name) for name in styles)
    return (f"default-src 'none'; script-src {script_src}; style-src {style_src}; "
            f"form-action 'self'; base-uri 'none'; frame-ancestors 'none'{'; ' + extra if extra else ''}")


def render(title: str, body_html: str, *, styles: tuple[str, ...] = BASE_STYLES, scripts: tuple[str, ...] = (),
           head: str = "") -> str:
    """``body_html`` and ``head`` must already be escaped where they carry data."""
    return template("layout.html").substitute(
        title=esc(title), head=head, body=body_html,
        styles="".join(f"<style>{asset(name)}</style>" for name in styles),
        script="".join(f'<script type="module">{asset(name)}</script>' for name in scripts))


def not_found_page(quick_help_url: str) -> str:
    return render("Link not found", template("not-found.html").substitute(quick_help_url=esc(quick_help_url)))
