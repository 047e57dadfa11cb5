"""The referral policy customers consent to: its wording and version, in one place.

Bump ``POLICY_VERSION`` whenever the wording changes: a consent names the version it was given to, and
``POST /leads`` refuses a consent given to any other version (the form is re-shown with the new text).
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


def policy_document() -> dict[str, object]:
    """The policy as served by ``GET /policy`` (JSON)."""
    return {"version": POLICY_VERSION, "title": POLICY_TITLE, "paragraphs": list(POLICY_PARAGRAPHS),
            "text": "\n\n".join(POLICY_PARAGRAPHS)}
