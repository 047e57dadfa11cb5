"""Quick Help pages: the form (works without JavaScript), the thank-you page and the policy page
(``static/quick-help.html``, ``lead-received.html``; no script at all).

Every value from a request or the database goes through ``esc``; the form carries ``ref``/``cid`` from
the redirect in hidden fields and the policy version the customer was shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from referral_core.models.branding import BrandingData
from referral_core.pages import content_security_policy, esc, render, template
from referral_core.policy import POLICY_PARAGRAPHS, POLICY_TITLE, POLICY_VERSION

#: Form fields in display order: (name, label, input attributes, hint).
_FIELDS: tuple[tuple[str, str, str, str], ...] = (
    ("name", "Your name", 'type="text" autocomplete="name" required maxlength="120"', ""),
    ("email", "Email", 'type="email" autocomplete="email" inputmode="email" maxlength="254"',
     "Give an email address, a phone number or both."),
    ("phone", "Phone", 'type="tel" autocomplete="tel" inputmode="tel" maxlength="32"', ""),
    ("postcode", "Postcode", 'type="text" autocomplete="postal-code" inputmode="numeric" required '
     'maxlength="12"', ""),
    ("suburb", "Suburb (optional)", 'type="text" autocomplete="address-level2" maxlength="60"',
     "If someone referred you, they see your suburb and postcode with your initials, nothing more."),
    ("street", "Street address (optional)", 'type="text" autocomplete="street-address" maxlength="200"',
     "Only if you'd like a visit."),
    ("referred_by", "Who referred you? (optional)", 'type="text" maxlength="200"',
     "A name or referral code, if someone recommended us."),
)

#: Consent errors (as validation names them) belong to the checkbox, in words a customer understands.
_CONSENT_ERRORS = {
    "consent": "Tick the box to agree to be contacted.",
    "consent.contact": "Tick the box to agree to be contacted.",
    "consent.policy_version": "The policy has changed: please read it and tick the box again.",
}


def _field(name: str, label: str, attrs: str, hint: str, value: str, error: str | None) -> str:
    described = " ".join(part for part in (f"{name}-hint" if hint else "", f"{name}-error" if error else "")
                         if part)
    return "".join((
        f'<label for="{name}">{esc(label)}</label>',
        f'<p class="muted" id="{name}-hint">{esc(hint)}</p>' if hint else "",
        f'<p class="error" id="{name}-error">{esc(error)}</p>' if error else "",
        f'<input id="{name}" name="{name}" {attrs} value="{esc(value)}"',
        f' aria-describedby="{described}"' if described else "",
        ' aria-invalid="true"' if error else "", ">\n",
    ))


def policy_html() -> str:
    paragraphs = "".join(f"<p>{esc(text)}</p>" for text in POLICY_PARAGRAPHS)
    return f'{paragraphs}<p class="muted">Policy version {esc(POLICY_VERSION)}</p>'


def preview_meta(brand: BrandingData, *, origin: str, recommended_by: str | None = None) -> str:
    """Open Graph and Twitter card tags (WhatsApp, iMessage, Facebook... show them as the link's preview) and
    the browser's theme colour: the business's name, short line and logo (``GET /branding/logo``)."""
    base = origin.rstrip("/")
    description = brand.tagline or "Ask for help: a real technician reviews every request."
    if recommended_by:
        description = f"Recommended by {recommended_by}. {description}"
    tags = [("name", "theme-color", brand.colour), ("name", "description", description),
            ("property", "og:type", "website"), ("property", "og:site_name", brand.business_name),
            ("property", "og:title", brand.business_name), ("property", "og:description", description),
            ("property", "og:url", f"{base}/quick-help"), ("property", "og:image", f"{base}/branding/logo"),
            ("property", "og:image:alt", f"{brand.business_name} logo"),
            ("name", "twitter:card", "summary_large_image"), ("name", "twitter:title", brand.business_name),
            ("name", "twitter:description", description), ("name", "twitter:image", f"{base}/branding/logo")]
    return "".join(f'<meta {kind}="{esc(name)}" content="{esc(value)}">\n' for kind, name, value in tags)


def _banner(brand: BrandingData) -> str:
    return (f'<header class="brand"><img src="/branding/logo" alt="" height="48">'
            f'<p class="brand-name">{esc(brand.business_name)}</p></header>\n')


def quick_help_page(*, ref: str | None = None, cid: str | None = None,
                    values: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None,
                    brand: BrandingData | None = None, origin: str = "", recommended_by: str | None = None) -> str:
    """The Quick Help form; after a failed form post, ``values`` and ``errors`` (by field) re-fill it.
    ``brand``: the business's name, logo and colour (and the link preview's tags); ``recommended_by``: the
    referrer's first name and initial, when they chose to be named."""
    brand = brand or BrandingData()
    values = values or {}
    errors = {("consent_contact" if key in _CONSENT_ERRORS else key): _CONSENT_ERRORS.get(key, message)
              for key, message in (errors or {}).items()}
    summary = ""
    if errors:
        items = "".join(f'<li><a href="#{esc(key)}">{esc(key.replace("_", " "))}: {esc(message)}</a></li>'
                        for key, message in errors.items())
        summary = (f'<div class="warn" role="alert" id="errors"><p><strong>Please check these:</strong></p>'
                   f"<ul>{items}</ul></div>")
    fields = "".join(_field(name, label, attrs, hint, values.get(name, ""), errors.get(name))
                     for name, label, attrs, hint in _FIELDS)
    issue_error = errors.get("issue")
    consent_error = errors.get("consent_contact")
    recommended = (f'<p class="recommended" id="recommended-by">Recommended by {esc(recommended_by)}</p>\n'
                   if recommended_by else "")
    return render(f"Quick Help · {brand.business_name}", template("quick-help.html").substitute(
        banner=_banner(brand), recommended=recommended, summary=summary, fields=fields, ref=esc(values.get("ref", ref or "")),
        cid=esc(values.get("cid", cid or "")), policy_version=esc(POLICY_VERSION),
        issue_error=f'<p class="error" id="issue-error">{esc(issue_error)}</p>\n' if issue_error else "",
        issue_attrs=' aria-invalid="true" aria-describedby="issue-error"' if issue_error else "",
        issue=esc(values.get("issue", "")), policy_title=esc(POLICY_TITLE), policy=policy_html(),
        consent_error=f'<p class="error" id="consent-error">{esc(consent_error)}</p>\n' if consent_error else "",
        consent_attrs=' aria-invalid="true" aria-describedby="consent-error"' if consent_error else ""),
        head=preview_meta(brand, origin=origin, recommended_by=recommended_by))


def lead_received_page(*, name: str, lead_id: str) -> str:
    return render("Request received", template("lead-received.html").substitute(name=esc(name), lead_id=esc(lead_id)))


def policy_page() -> str:
    return render(POLICY_TITLE, f"<main><h1>{esc(POLICY_TITLE)}</h1>{policy_html()}</main>")


def quick_help_csp() -> str:
    """These pages' Content-Security-Policy: the shared stylesheet by its hash, no script, the logo."""
    return content_security_policy(extra="img-src 'self'")
