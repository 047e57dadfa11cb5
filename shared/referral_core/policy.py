"""The documents people agree to, each with its wording and version, in one place: the referral policy
customers consent to (``GET /policy``) and the programme terms applicants accept (``GET /applications/terms``).

Bump ``POLICY_VERSION`` (or ``TERMS_VERSION``) whenever the wording changes: a consent names the version it
was given to, and ``POST /leads`` (or ``POST /applications`` and the guardian's consent) refuses a consent
given to any other version (the form is re-shown with the new text).
"""

from __future__ import annotations

POLICY_VERSION = "2026-11-01"

POLICY_TITLE = "Referral and Quick Help policy"

#: The seeds' wording that taking part (and a reward) creates no employment; also on yearly statements.
NO_EMPLOYMENT = ("A referral does not guarantee jobs, income, rewards, priority service or ongoing work, and "
                 "taking part does not create an employment, contractor, agency, partnership or franchise "
                 "relationship unless a separate written agreement says so.")

#: One paragraph per entry, plain text (pages escape it; JSON returns it as is).
POLICY_PARAGRAPHS: tuple[str, ...] = (
    "Quick Help is the official way to ask for help. A real technician reviews every request; anything "
    "we tell you is a guide only until a technician confirms it.",
    "Never send passwords, PINs or banking codes through this form or any public form.",
    "We use the contact details you give us only to contact you about this request. Referral details are "
    "reviewed privately by our team and are never shared with the person who referred you.",
    "Referrals are for friendly introductions only. Referral rewards are eligible, not guaranteed: any "
    "reward is subject to eligibility, completion of a paid job and manual review by our team.",
    NO_EMPLOYMENT,
    "Nobody should pressure or mislead you, or tell you a reward is guaranteed. Duplicate, self-made, "
    "existing-customer and unclear referral claims are checked before any reward decision.",
)


TERMS_VERSION = "2026-12-01"

TERMS_TITLE = "Referrer programme terms"

#: The programme terms an applicant accepts (and, for an applicant under the programme's minimum age, a
#: parent or guardian): one paragraph per entry, plain text.
TERMS_PARAGRAPHS: tuple[str, ...] = (
    "Referrers are connectors: you introduce people who might need our help. Taking part does not make "
    "you a provider or a member of staff, and no application grants either role.",
    "Referral rewards are eligible, not guaranteed: any reward is subject to eligibility, completion of a "
    "paid job and manual review by our team. Rewards do not create an employment, contractor, agency, "
    "partnership or franchise relationship.",
    "You must meet any tax, legal, licensing, campus, age, consent or parent/guardian requirements that "
    "apply to you. Applicants under the programme's minimum age need a parent or guardian's consent "
    "before an application is approved or any reward is earned.",
    "Only share with people who might need help; never pressure or mislead anyone, never promise a "
    "reward, and never refer yourself. Duplicate, self-made and existing-customer referrals are checked.",
    "We use the details in your application to review it, to contact you about it and, if approved, to "
    "run your referrer account. Staff may approve, decline or ask you for more information.",
)


def _document(version: str, title: str, paragraphs: tuple[str, ...]) -> dict[str, object]:
    return {"version": version, "title": title, "paragraphs": list(paragraphs), "text": "\n\n".join(paragraphs)}


def policy_document() -> dict[str, object]:
    """The policy as served by ``GET /policy`` (JSON)."""
    return _document(POLICY_VERSION, POLICY_TITLE, POLICY_PARAGRAPHS)


def terms_document() -> dict[str, object]:
    """The programme terms as served by ``GET /applications/terms`` (JSON): the same shape as the policy."""
    return _document(TERMS_VERSION, TERMS_TITLE, TERMS_PARAGRAPHS)
