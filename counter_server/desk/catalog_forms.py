"""The catalog editor's forms read into a draft's content: a service's common fields, the
agency, the categories, the default survey and a withdrawal's reason. The content is kept as
typed, valid or not; the catalog's schema checks it when the draft is saved."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from werkzeug.datastructures import MultiDict

from shared.text import to_ascii_digits

Form = MultiDict[str, str]
TEXT_FIELDS = ("title", "summary", "national_id", "category")
FEE_FIELDS = ("title", "amount_rials", "legal_basis", "where_paid")
MAX_FEE_ROWS = 30
AGENCY_FIELDS = ("name", "short_name", "logo", "contact.address", "contact.phone",
                 "contact.email", "contact.website", "public_base_url")
ASCII_FIELDS = ("national_id", "contact.phone")
CATEGORY_FIELDS = ("slug", "title", "order", "icon", "description")
MAX_CATEGORY_ROWS = 60
MAX_SURVEY_QUESTIONS = 3


def _number(value: str) -> int | str:
    """A number typed in any digits, with or without thousands separators; else as typed,
    for the schema to refuse."""
    plain = to_ascii_digits(value).replace(",", "").replace("٬", "").strip()
    if plain.lstrip("-").isdigit():
        return int(plain)
    return plain


def _text(form: Form, name: str) -> str:
    value = form.get(name, "").strip()
    return to_ascii_digits(value) if name in ASCII_FIELDS else value


def _set(data: dict[str, Any], path: str, value: str) -> None:
    """Set a dotted path's value, or drop the key when nothing was typed."""
    *parents, key = path.split(".")
    for parent in parents:
        child = data.get(parent)
        data[parent] = child = child if isinstance(child, dict) else {}
        data = child
    if value:
        data[key] = value
    else:
        data.pop(key, None)


def service_fields(content: Any, form: Form) -> Any:
    """The service draft with the common fields' form applied: texts, duration and fees."""
    data = copy.deepcopy(content) if isinstance(content, dict) else {}
    for key in TEXT_FIELDS:
        _set(data, key, _text(form, key))
    data["duration"] = {"value": _number(form.get("duration.value", "")),
                        "unit": form.get("duration.unit", "working_days")}
    items = []
    for index in range(MAX_FEE_ROWS):
        row = {f: form.get(f"fees.items[{index}].{f}", "").strip() for f in FEE_FIELDS}
        if any(row.values()):
            items.append({**row, "amount_rials": _number(row["amount_rials"])})
    fees: dict[str, Any] = {"free": form.get("fees.free") == "yes"}
    if items:
        fees["items"] = items
    if form.get("fees.note", "").strip():
        fees["note"] = form["fees.note"].strip()
    data["fees"] = fees
    return data


def agency_fields(content: Any, form: Form) -> Any:
    """The agency as the form gives it: name, short name, logo, contact, public address."""
    data = copy.deepcopy(content) if isinstance(content, dict) else {}
    for path in AGENCY_FIELDS:
        _set(data, path, _text(form, path))
    return data


def category_rows(content: Any, form: Form) -> Any:
    """The categories as the table gives them: a row ticked for removal or left empty is
    left out; the order is a number typed in any digits."""
    rows = []
    for index in range(MAX_CATEGORY_ROWS):
        row = {f: form.get(f"[{index}].{f}", "").strip() for f in CATEGORY_FIELDS}
        if form.get(f"[{index}].remove") == "yes" or not any(row.values()):
            continue
        category: dict[str, Any] = {k: v for k, v in row.items() if v}
        category["order"] = _number(row["order"]) if row["order"] else 0
        rows.append(category)
    return rows


def survey_rows(content: Any, form: Form) -> Any:
    """The default survey's questions as the form gives them; a question with neither a
    name nor a text is left out."""
    questions = []
    for index in range(MAX_SURVEY_QUESTIONS):
        prefix = f"questions[{index}]"
        question = {"id": form.get(f"{prefix}.id", "").strip(),
                    "text": form.get(f"{prefix}.text", "").strip()}
        if any(question.values()):
            questions.append({**question, "scale": form.get(f"{prefix}.scale", "faces")})
    return {"questions": questions}


def withdrawal_fields(content: Any, form: Form) -> Any:
    return {"reason": form.get("reason", "").strip()}


READERS: dict[str, Callable[[Any, Form], Any]] = {
    "service": service_fields, "agency": agency_fields, "categories": category_rows,
    "survey": survey_rows, "withdraw": withdrawal_fields,
}
