"""Pydantic models per boundary: API requests/responses here; stored items are built in ``dal``."""
