"""Small server-rendered HTML pages. Every interpolated value goes through ``html.escape``."""

from __future__ import annotations

import html
from string import Template

_LAYOUT = Template("""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="robots" content="noindex">
<title>$title</title>
<style>
body{font-family:system-ui,-apple-system,sans-serif;max-width:40rem;margin:0 auto;padding:1rem;line-height:1.5;color:#1b1b1b}
a{color:#0a58ca}h1{font-size:1.5rem}.muted{color:#555;font-size:.9rem}
label{display:block;margin-top:.8rem;font-weight:600}input,textarea,select{width:100%;padding:.5rem;font:inherit;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem;font:inherit;background:#0a58ca;color:#fff;border:0;border-radius:4px}
.warn{background:#fff4e5;border-left:4px solid #f0a000;padding:.5rem .8rem}
table{border-collapse:collapse;width:100%}td,th{border-bottom:1px solid #ddd;padding:.3rem;text-align:left}
</style></head><body>
$body
<footer class="muted"><p>Referral rewards are eligible, not guaranteed. Subject to eligibility, completion and manual review.</p></footer>
</body></html>""")


def esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def render(title: str, body_html: str) -> str:
    """``body_html`` must already be escaped where it carries data."""
    return _LAYOUT.substitute(title=esc(title), body=body_html)


def not_found_page(quick_help_url: str) -> str:
    return render("Link not found", f"""<main>
<h1>This referral link isn't active</h1>
<p>The link may have expired, been switched off or reached its limit. You can still get help:</p>
<p><a href="{esc(quick_help_url)}">Go to Quick Help</a></p>
</main>""")
