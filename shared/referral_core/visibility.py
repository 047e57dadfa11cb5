"""What a share code's ``visibility`` means (docs/links.md).

- ``public`` (the default): the code may be advertised. Its share message invites the friend to mention
  the code, and a customer who types it into Quick Help's "Who referred you?" is matched to it
  (:func:`may_match_typed`).
- ``private``: the code works only as a direct link or QR code (``/r/{code}``, and Quick Help opened from
  it with ``ref``). It is never matched from typed text (a typed private code stays a free-text claim for
  staff), its share message does not mention the code, and it is left out of anything public that lists
  codes. Its owner and staff still see it (dashboard, staff routes), marked private.

Pure and lean (no pydantic, and the liveness rule is imported only when used), so the API models and
Quick Help's raw handler can both import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def is_public(code_item: Mapping[str, Any]) -> bool:
    """Whether the code may be advertised and typed; codes stored without a visibility are public."""
    return bool(code_item.get("visibility", "public") != "private")


def may_match_typed(code_item: Mapping[str, Any] | None, at: str) -> bool:
    """Whether a customer who TYPES this code (e.g. in "Who referred you?") may be matched to it at ``at``.

    Only a public code that is live (active, not expired, not used up: the same rule as the redirect) is
    matched. A private code works only through its link; typed, it is left to staff as a claim.
    """
    from referral_core.services.redirect import is_live

    return code_item is not None and is_public(code_item) and is_live(dict(code_item), at)
