"""Reading JSON bodies: validated by the pydantic models that also document them.

Validation is strict, as JSON Schema reads the document: `false` or `"3"` is no integer and
a number no date-time — what the document rules out, the server refuses."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from counter_server.api.errors import ApiError

M = TypeVar("M", bound=BaseModel)
FIELD_REQUIRED = "این مورد الزامی است."
FIELD_INVALID = "مقدار این مورد نامعتبر است."


def body_errors(exc: ValidationError) -> dict[str, str]:
    """Field path → Persian message, for a body that does not fit its model."""
    return {".".join(str(p) for p in e["loc"]) or "body":
            FIELD_REQUIRED if e["type"] == "missing" else FIELD_INVALID for e in exc.errors()}


def _integral_floats_as_integers(value: Any) -> Any:
    """JSON does not tell 3 from 3.0, and JSON Schema's `integer` takes both: so does the
    server, which validates strictly."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _integral_floats_as_integers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_integral_floats_as_integers(item) for item in value]
    return value


def parse_body(model: type[M]) -> M:
    """The request's JSON body as `model`; 400 when it is not a JSON object, 422 when it does
    not fit (strictly: no type is coerced), with the error of every field."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "بدنه درخواست باید یک شیء JSON باشد.")
    return validate(model, data)


def validate(model: type[M], data: Any) -> M:
    """Decoded JSON `data` as `model`, strictly; 422 with the error of every field."""
    try:
        return model.model_validate_json(json.dumps(_integral_floats_as_integers(data)),
                                         strict=True)
    except ValidationError as exc:
        raise ApiError(422, "invalid_body", "ساختار درخواست نادرست است.",
                       errors=body_errors(exc)) from None


def json_part(name: str) -> Any:
    """The decoded JSON of the multipart form's part `name` (None when there is none); 422
    (`invalid_body`) when it is not JSON."""
    text = request.form.get(name)
    return _decoded(name, text) if text is not None else None


def json_array_parts(name: str) -> list[Any]:
    """A multipart form's array `name`, as OpenAPI sends one: a part holding a JSON array,
    or a part per item, or no part when it is empty; 422 (`invalid_body`) for one not JSON."""
    items = [_decoded(name, text) for text in request.form.getlist(name)]
    return items[0] if len(items) == 1 and isinstance(items[0], list) else items


def _decoded(name: str, text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        raise ApiError(422, "invalid_body", "ساختار درخواست نادرست است.",
                       errors={name: FIELD_INVALID}) from None
