"""Quick Help pages: the form (works without JavaScript), the thank-you page and the policy page.

Every value from a request or the database goes through ``esc``; the form carries ``ref``/``cid`` from
the redirect in hidden fields and the policy version the customer was shown.
"""

from __future__ import annotations

from collections.abc import Mapping

from referral_core.pages import esc, render
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


def quick_help_page(*, ref: str | None = None, cid: str | None = None,
                    values: Mapping[str, str] | None = None, errors: Mapping[str, str] | None = None) -> str:
    """The Quick Help form; after a failed form post, ``values`` and ``errors`` (by field) re-fill it."""
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
    return render("Quick Help", f"""<main>
<style>.error{{color:#b00020;font-weight:600;margin:0}}</style>
<h1>Quick Help</h1>
<p>Tell us what's wrong in your own words. A real technician reviews every request.</p>
<p class="warn"><strong>Never send passwords, PINs or banking codes</strong>
through this or any public form.</p>
{summary}
<form method="post" action="/leads" accept-charset="utf-8">
<input type="hidden" name="ref" value="{esc(values.get("ref", ref or ""))}">
<input type="hidden" name="cid" value="{esc(values.get("cid", cid or ""))}">
<input type="hidden" name="policy_version" value="{esc(POLICY_VERSION)}">
{fields}<label for="issue">What do you need help with?</label>
{f'<p class="error" id="issue-error">{esc(issue_error)}</p>' if issue_error else ""}
<textarea id="issue" name="issue" rows="5" required maxlength="2000"{
    ' aria-invalid="true" aria-describedby="issue-error"' if issue_error else ""}>{
    esc(values.get("issue", ""))}</textarea>
<section aria-labelledby="policy-title">
<h2 id="policy-title">{esc(POLICY_TITLE)}</h2>
{policy_html()}
</section>
{f'<p class="error" id="consent-error">{esc(consent_error)}</p>' if consent_error else ""}
<p><input type="checkbox" id="consent_contact" name="consent_contact" required style="width:1.5rem;height:1.5rem;vertical-align:middle"{
    ' aria-invalid="true" aria-describedby="consent-error"' if consent_error else ""}>
<label for="consent_contact" style="display:inline">I agree to be contacted about this request, under the
policy above (version {esc(POLICY_VERSION)}).</label></p>
<button type="submit">Send request</button>
</form>
</main>""")


def lead_received_page(*, name: str, lead_id: str) -> str:
    return render("Request received", f"""<main>
<h1>Thanks, {esc(name)}</h1>
<p role="status">We've received your request. A technician will review it and contact you.</p>
<p class="muted">Reference: {esc(lead_id)}</p>
<p class="warn">We will never ask for passwords, PINs or banking codes.</p>
</main>""")


def policy_page() -> str:
    return render(POLICY_TITLE, f"<main><h1>{esc(POLICY_TITLE)}</h1>{policy_html()}</main>")
