"""Keys of the referrer and share-code entities (profile, email guard, directory, codes, clicks, stats).

Every entity's keys are built and parsed in one place inside ``referral_core.dal``: here for referrers and
share codes, which many dal modules read (so they are not in ``dal/referrers.py`` or ``dal/links.py``,
which would import each other); the others beside their repository (``dal/jobs.py``, ``dal/contacts.py``,
``dal/referrals.py``, ``dal/ledger.py``, ``dal/rewards.py``, ``dal/withdrawals.py``, ``dal/review.py``…).
docs/data-model.md lists every access pattern these serve.

Every item carries ``type`` (its entity name) so stream filters and humans can tell items apart.
"""

from __future__ import annotations


# -- referrers ------------------------------------------------------------------------------------
def referrer_pk(referrer_id: str) -> str:
    """The referrer's partition: ``PROFILE``, ``BALANCE``, ``LEDGER#…``, ``CODES``, ``PAYOUT_METHOD``, audit."""
    return f"REFERRER#{referrer_id}"


def referrer(referrer_id: str) -> tuple[str, str]:
    return referrer_pk(referrer_id), "PROFILE"


def referrer_email_lock(email_hash: str) -> tuple[str, str]:
    """Uniqueness guard: one referrer per (normalised, hashed) email."""
    return f"UNIQUE#REFEMAIL#{email_hash}", "UNIQUE"


#: gsi2 partition of every referrer profile: the staff directory, sorted by name (access pattern 3a).
REFERRER_DIRECTORY_GSI = "REFERRERS"


def name_key(name: str) -> str:
    """A name as the directory sorts and searches it: case-folded, inner spaces collapsed."""
    return " ".join(str(name).casefold().split())


def referrer_directory_sk(name: str, referrer_id: str) -> str:
    return f"{name_key(name)}#{referrer_id}"


def referrer_by_email_gsi(email_hash: str) -> str:
    return f"REFEMAIL#{email_hash}"


# -- share codes and clicks -----------------------------------------------------------------------
def code(normalised_code: str) -> tuple[str, str]:
    return f"CODE#{normalised_code}", "CODE"


def codes_of_referrer_gsi(referrer_id: str) -> str:
    return f"REFERRER#{referrer_id}#CODES"


def code_quota(referrer_id: str) -> tuple[str, str]:
    """The referrer's counted share codes (the per-referrer cap, docs/links.md)."""
    return f"REFERRER#{referrer_id}", "CODES"


def click(click_id: str) -> tuple[str, str]:
    return f"CLICK#{click_id}", "CLICK"


def code_stats(normalised_code: str, placement: str) -> tuple[str, str]:
    return f"STATS#{normalised_code}", f"PLACEMENT#{placement or '-'}"
