"""Pieces of the OpenAPI document that functions without a Powertools resolver route declare themselves.

Such a function exposes ``openapi_paths() -> dict``; ``scripts/openapi.py`` calls it when it writes
functions/api_docs/openapi.json. It is a function, not a module constant, so that a cold start builds no
JSON schema: generating one builds the model's validator and schema (tens of ms), which the document
needs and a request does not.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:  # the redirect and the staff page import this module and never load pydantic
    from pydantic import BaseModel

ERROR_REF: dict[str, str] = {"$ref": "#/components/schemas/ErrorResponse"}
HTML_PAGE: dict[str, Any] = {"text/html": {"schema": {"type": "string"}}}


def inline_schema(model: type[BaseModel], mode: Literal["validation", "serialization"] = "validation",
                  ) -> dict[str, Any]:
    """``model``'s JSON schema with its nested models inlined (the document has no ``$defs`` of its own)."""
    schema = model.model_json_schema(mode=mode)
    defs = schema.pop("$defs", {})

    def resolve(node: Any) -> Any:
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str):
                return resolve(defs[ref.rsplit("/", 1)[-1]])
            return {key: resolve(value) for key, value in node.items()}
        if isinstance(node, list):
            return [resolve(value) for value in node]
        return node

    return dict(resolve(schema))


def error_response(description: str) -> dict[str, Any]:
    """A documented error answer (the shared ``ErrorResponse`` body)."""
    return {"description": description, "content": {"application/json": {"schema": ERROR_REF}}}
