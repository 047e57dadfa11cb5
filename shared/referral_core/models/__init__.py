"""Pydantic models per boundary: API requests/responses here; stored items are built in ``dal``.

Every model derives from :class:`referral_core.models.base.Model` (built on first use, not at import).
"""
