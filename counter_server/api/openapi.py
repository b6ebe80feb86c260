"""The OpenAPI 3.1 document, generated from the app's routes and the pydantic body models.

Each API view declares what it takes and answers with `@operation(...)`; the document walks the
URL map, so a route without a declaration is caught by a test rather than left undocumented.
What every operation of a kind answers is added here, so no declaration can forget it: 400 for
a JSON body that is not an object, 404 for a path parameter that does not fit its pattern, 429
where a rate limit applies. `tests/server/test_api_contract.py` holds the server to it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Any, TypeVar

from flask import Flask
from flask_limiter.util import get_qualified_name
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from counter_server.api.schemas import TICKET_ID, ErrorBody
from counter_server.extensions import limiter

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
PATH_PARAMETER = re.compile(r"<(?:([a-z]+):)?([a-zA-Z_]+)>")
# The schema of a path parameter by its URL converter; the route matches nothing else.
CONVERTER_SCHEMAS: dict[str, dict[str, Any]] = {
    "uuid": {"type": "string", "format": "uuid"},
    "ticket": {"type": "string", "pattern": f"^{TICKET_ID}$"},
}
NOT_JSON = ("The body is not a JSON object (`invalid_json`)", ErrorBody)
NOT_FOUND = ("Nothing is at this address: a path parameter does not fit its pattern "
             "(`not_found`)", ErrorBody)
RATE_LIMITED = ("Too many calls; try again later (`rate_limited`)", ErrorBody)


@dataclass(frozen=True)
class Operation:
    summary: str
    responses: dict[int, tuple[str, type[BaseModel] | None]]
    tag: str
    description: str = ""
    parameters: list[dict[str, Any]] = field(default_factory=list)
    body: type[BaseModel] | None = None
    body_media_type: str = "application/json"
    body_encoding: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Per multipart part: how it is encoded (e.g. `{"contentType": "application/json"}`)."""
    path_schemas: dict[str, dict[str, Any]] = field(default_factory=dict)


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


def openapi_path(rule: str) -> str:
    return PATH_PARAMETER.sub(r"{\2}", rule)


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


def rate_limited(app: Flask, rule: str, method: str) -> bool:
    """Whether a rate limit of its own applies to the view behind `rule` and `method`."""
    endpoint = next(r.endpoint for r in app.url_map.iter_rules()
                    if r.rule == rule and method in (r.methods or ()))
    return bool(limiter.limit_manager.decorated_limits(
        get_qualified_name(app.view_functions[endpoint])))


def build_document(app: Flask) -> dict[str, Any]:
    operations = [(p, m, _with_implied_answers(app, p, m, op))
                  for p, m, op in documented_rules(app) if op is not None]
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
        paths.setdefault(openapi_path(rule), {})[method.lower()] = _operation_object(rule, method, op)
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


def _with_implied_answers(app: Flask, rule: str, method: str, op: Operation) -> Operation:
    """`op` with the answers every operation of its kind gives, where it does not say them."""
    implied: dict[int, tuple[str, type[BaseModel] | None]] = {}
    if op.body is not None and op.body_media_type == "application/json":
        implied[400] = NOT_JSON
    if any(converter in CONVERTER_SCHEMAS for converter, _ in PATH_PARAMETER.findall(rule)):
        implied[404] = NOT_FOUND
    if rate_limited(app, rule, method):
        implied[429] = RATE_LIMITED
    return replace(op, responses={**implied, **op.responses})


def _path_parameter(op: Operation, converter: str, name: str) -> dict[str, Any]:
    schema = op.path_schemas.get(name) or CONVERTER_SCHEMAS.get(converter) or {"type": "string"}
    return {"name": name, "in": "path", "required": True, "schema": schema}


def _operation_object(rule: str, method: str, op: Operation) -> dict[str, Any]:
    path_params = [_path_parameter(op, converter, name)
                   for converter, name in PATH_PARAMETER.findall(rule)]
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
        media: dict[str, Any] = {"schema": {"$ref": REF.format(model=op.body.__name__)}}
        if op.body_encoding:
            media["encoding"] = op.body_encoding
        result["requestBody"] = {"required": True, "content": {op.body_media_type: media}}
    return result


def _response_object(description: str, model: type[BaseModel] | None) -> dict[str, Any]:
    response: dict[str, Any] = {"description": description}
    if model is not None:
        response["content"] = {
            "application/json": {"schema": {"$ref": REF.format(model=model.__name__)}}
        }
    return response
