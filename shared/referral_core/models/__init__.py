"""Pydantic models per boundary: API requests/responses here; stored items are built in ``dal``."""

from pydantic import BaseModel, ConfigDict


class Answer(BaseModel):
    """A response model that builds its validator and serializer on first use, not at import: a function
    imports every route's answer model, but one invocation sends only one of them (cold start)."""

    model_config = ConfigDict(defer_build=True)
