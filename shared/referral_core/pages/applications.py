"""The "Become a referrer" page (``GET /become-a-referrer``): the application form, and the landing of the
emailed links (the applicant's email confirmation and the guardian's consent, by the link's ``#fragment``).

One static page and a small script over the JSON API (``static/become-a-referrer.html``, ``.css``, ``.js``),
inlined with the script's and stylesheets' hashes in the CSP; no third-party script (the bot defence is a
honeypot field and the API's limits). The terms are fetched from ``GET /applications/terms``. The link's
token is taken out of the address bar before anything loads, and every value goes in with ``textContent``
(Trusted Types with no policy: no HTML sink works).
"""

from __future__ import annotations

from functools import cache

from referral_core.pages import BASE_STYLES, asset, content_security_policy, render

APPLY_STYLES = (*BASE_STYLES, "become-a-referrer.css")
APPLY_SCRIPTS = ("become-a-referrer.js",)


@cache
def apply_csp() -> str:
    return content_security_policy(
        styles=APPLY_STYLES, scripts=APPLY_SCRIPTS,
        extra="connect-src 'self'; img-src 'self'; require-trusted-types-for 'script'; trusted-types 'none'")


@cache
def apply_page() -> str:
    return render("Become a referrer", asset("become-a-referrer.html"), styles=APPLY_STYLES, scripts=APPLY_SCRIPTS)
