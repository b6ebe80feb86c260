"""Reading JSON bodies: validated by the pydantic models that also document them."""

from __future__ import annotations

from typing import TypeVar

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


def parse_body(model: type[M]) -> M:
    """The request's JSON body as `model`; 400 when it is not a JSON object, 422 when it does
    not fit, with the error of every field."""
    data = request.get_json(silent=True)
    if not isinstance(data, dict):
        raise ApiError(400, "invalid_json", "بدنه درخواست باید یک شیء JSON باشد.")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ApiError(422, "invalid_body", "ساختار درخواست نادرست است.",
                       errors=body_errors(exc)) from None
