"""The JSON answer a route documents with a model must be exactly that model (the OpenAPI document says so).

A route declares its model in ``responses={status: json_answer(Model, ...)}`` or as a pydantic return
annotation. ``Stack.invoke`` passes every answer of an API function through :func:`check_answer`, so each
integration test also checks the documented schema against real answers, in every state the tests reach.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from pydantic import BaseModel

JSON = "application/json"


def _json_models(route: Any) -> dict[int, type[BaseModel]]:
    models: dict[int, type[BaseModel]] = {}
    for status, response in (route.responses or {}).items():
        model = (response.get("content") or {}).get(JSON, {}).get("model")
        if isinstance(model, type) and issubclass(model, BaseModel):
            models[int(status)] = model
    returned = inspect.signature(route.func, eval_str=True).return_annotation
    if isinstance(returned, type) and issubclass(returned, BaseModel):
        models.setdefault(int(route.status_code), returned)
    return models


def _routes(app: Any) -> list[Any]:
    return [*app._static_routes, *app._dynamic_routes]  # Powertools' own matching order


def declared(app: Any) -> dict[str, type[BaseModel]]:
    """``"METHOD /openapi/path status"`` -> the model each route of ``app`` documents for that answer."""
    return {f"{route.method} {route.openapi_path} {status}": model
            for route in _routes(app) for status, model in _json_models(route).items()}


def _route(app: Any, event: dict[str, Any]) -> Any | None:
    method, path = event["requestContext"]["http"]["method"], event["rawPath"]
    return next((r for r in _routes(app) if r.method == method and r.rule.match(path)), None)


def check_answer(app: Any, event: dict[str, Any], response: dict[str, Any]) -> str | None:
    """Validate ``response`` against the model its route declares for its status (strictly, and with no
    attribute the model does not know); return the ``declared`` key checked, or None when nothing is declared."""
    if not isinstance(response, dict) or "http" not in event.get("requestContext", {}):
        return None
    route = _route(app, event)
    if route is None:
        return None
    status = int(response.get("statusCode", 0))
    model = _json_models(route).get(status)
    content_type = {k.lower(): v for k, v in (response.get("headers") or {}).items()}.get("content-type", "")
    if model is None or not content_type.startswith(JSON):
        return None
    key = f"{route.method} {route.openapi_path} {status}"
    sent = json.loads(response["body"])
    parsed = model.model_validate_json(response["body"], strict=True)
    # Everything sent is documented: fields the model does not declare would be dropped here.
    assert parsed.model_dump(mode="json", exclude_unset=True) == sent, f"{key}: attributes outside {model.__name__}"
    return key
