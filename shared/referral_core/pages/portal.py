"""Referrer pages: the dashboard (``GET /dashboard``) and the email opt-out confirmation.

The dashboard is one static page and a small script over the JSON API (``static/dashboard.html``, ``.css``,
``.js``); the page holds no data of its own. Opened from a magic link (``#token=``, or ``?token=`` from older
emails) it first removes the token from the address bar, then asks ``POST /auth/session/preview`` whom the
link is for and shows "Sign in as Jo S.?": only a click on "Yes" exchanges it at ``POST /auth/session``
(a link someone planted, e.g. through a share code's landing, signs nobody in by itself). The session is
kept in ``sessionStorage`` (gone when the tab closes); then it renders ``GET /me``. Every value is inserted
with ``textContent`` or as an attribute, never as HTML: the Content-Security-Policy allows only this exact
script and these stylesheets (by hash), with Trusted Types and no policy (no HTML sink works at all).
"""

from __future__ import annotations

from functools import cache
from urllib.parse import urlencode

from referral_core.pages import BASE_STYLES, asset, content_security_policy, esc, render

DASHBOARD_STYLES = (*BASE_STYLES, "dashboard.css")
DASHBOARD_SCRIPTS = ("dashboard.js",)


@cache
def portal_csp() -> str:
    """The policy of every portal page (they share it: the dashboard's script and stylesheets by hash)."""
    return content_security_policy(
        styles=DASHBOARD_STYLES, scripts=DASHBOARD_SCRIPTS,
        extra="connect-src 'self'; img-src 'self' blob:; require-trusted-types-for 'script'; trusted-types 'none'")


@cache
def dashboard_page() -> str:
    return render("Your referral dashboard", asset("dashboard.html"), styles=DASHBOARD_STYLES,
                  scripts=DASHBOARD_SCRIPTS)


def opt_out_confirm_page(token: str) -> str:
    """GET of the email's link only asks: link scanners that fetch it must not switch emails off."""
    action = f"/me/notifications/opt-out?{urlencode({'token': token})}"
    return render("Stop referral updates", f"""<main>
<h1>Stop email updates about your referrals?</h1>
<p>You will still see every referral's progress on your <a href="/dashboard">dashboard</a>.</p>
<form method="post" action="{esc(action)}"><button type="submit">Stop email updates</button></form>
</main>""")


def opted_out_page() -> str:
    return render("Referral updates stopped", """<main>
<h1>Email updates stopped</h1>
<p>We won't email you when your referrals move on. Your <a href="/dashboard">dashboard</a> still shows their progress.</p>
</main>""")
