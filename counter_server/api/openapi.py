"""The OpenAPI 3.1 document, generated from the app's routes and the pydantic body models.

Each API view declares what it takes and answers with `@operation(...)`; the document walks the
URL map, so a route without a declaration is caught by a test rather than left undocumented.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from counter_server.api.schemas import ErrorBody

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    tag: str
    description: str = ""
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: type[BaseModel] | None = None
    body_media_type: str = "application/json"


def operation(summary: str, responses: dict[int, tuple[str, type[BaseModel] | None]],
              tag: str, **details: Any) -> Callable[[F], F]:
    """Declare a view's OpenAPI operation."""

    def decorate(view: F) -> F:
        view.openapi = Operation(summary, responses, tag, **details)  # type: ignore[attr-defined]
        return view

    return decorate


def query_param(name: str, description: str, schema: dict[str, Any]) -> dict[str, Any]:
    return {"name": name, "in": "query", "required": False, "description": description,
            "schema": schema}


def _openapi_path(rule: str) -> str:
    return re.sub(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", r"{\1}", rule)


def documented_rules(app: Flask, prefix: str = "/api/") -> list[tuple[str, str, Operation | None]]:
    """(path, method, operation) for every API route; operation None when undeclared."""
    found = []
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith(prefix) or rule.endpoint == "api.openapi":
            continue
        view = app.view_functions[rule.endpoint]
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            found.append((rule.rule, method, getattr(view, "openapi", None)))
    return found


def build_document(app: Flask) -> dict[str, Any]:
    operations = [(p, m, op) for p, m, op in documented_rules(app) if op is not None]
    models: set[type[BaseModel]] = {ErrorBody}
    for _, _, op in operations:
        models.update(model for _, model in op.responses.values() if model)
        if op.body:
            models.add(op.body)
    _, schemas = models_json_schema(
        [(m, "serialization") for m in sorted(models, key=lambda m: m.__name__)],
        ref_template=REF,
    )
    paths: dict[str, dict[str, Any]] = {}
    for rule, method, op in operations:
        paths.setdefault(_openapi_path(rule), {})[method.lower()] = _operation_object(rule, method, op)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Miz — میز خدمت الکترونیکی",
            "version": "1",
            "description": "The API of the Miz service desk: the catalog, requests, tracking, "
            "tickets. Errors carry a stable `code` and a Persian `message`.",
        },
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": schemas.get("$defs", {})},
    }


def _operation_object(rule: str, method: str, op: Operation) -> dict[str, Any]:
    path_params = [
        {"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
        for name in re.findall(r"<(?:[a-z]+:)?([a-zA-Z_]+)>", rule)
    ]
    result: dict[str, Any] = {
        "summary": op.summary,
        "tags": [op.tag],
        "operationId": f"{method.lower()}_{re.sub(r'[^a-z0-9]+', '_', rule.lower()).strip('_')}",
        "parameters": path_params + op.parameters,
        "responses": {
            str(status): _response_object(description, model)
            for status, (description, model) in sorted(op.responses.items())
        },
    }
    if op.description:
        result["description"] = op.description
    if op.body:
        result["requestBody"] = {
            "required": True,
            "content": {op.body_media_type: {
                "schema": {"$ref": REF.format(model=op.body.__name__)}}},
        }
    return result


def _response_object(description: str, model: type[BaseModel] | None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if model is not None:
        response["content"] = {
            "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}
        }
    return response
