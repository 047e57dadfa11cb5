"""The base of every API model."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Model(BaseModel):
    """A pydantic model whose validator and schema are built on first use, not when its module loads.

    A function imports the models of all its routes but one request uses one or two of them: building the
    rest would cost every cold start ~1 ms a model (bench/RESULTS.md). Subclasses add their own
    ``model_config`` (pydantic merges it with this one).
    """

    model_config = ConfigDict(defer_build=True)
