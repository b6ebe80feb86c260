"""The apply wizard's questions: one per screen, built from the service's form.

First the applicant (name, national code, mobile — `shared.forms.APPLICANT_FIELDS`), then the
service's own fields in the catalog's order. Each question says how it is answered on a
touchscreen: the Persian keyboard, its Latin page (e-mail), the numeric keypad, one choice,
several choices, or yes/no. No Kivy here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from shared.catalog.schema import FieldType, FormField, ServiceSpec
from shared.forms import APPLICANT_FIELDS, FieldError, clean_value, display_value
from shared.text import to_persian_digits

KEYPAD_TYPES = {FieldType.number, FieldType.national_code, FieldType.mobile,
                FieldType.postal_code, FieldType.date}
HINTS = {
    FieldType.national_code: "کد ملی ۱۰ رقمی خود را وارد کنید.",
    FieldType.mobile: "شماره همراه را مانند ۰۹۱۲۳۴۵۶۷۸۹ وارد کنید.",
    FieldType.postal_code: "کد پستی ۱۰ رقمی را وارد کنید.",
    FieldType.date: "تاریخ را به ترتیب سال، ماه و روز وارد کنید، مانند ۱۴۰۵/۰۹/۰۵.",
    FieldType.email: "نشانی ایمیل را با حروف لاتین وارد کنید، مانند name@example.com.",
    FieldType.multiselect: "هر چند گزینه که درست است را انتخاب کنید.",
    FieldType.select: "یکی از گزینه‌ها را انتخاب کنید.",
}
OPTIONAL = "(اختیاری)"


@dataclass(frozen=True)
class Question:
    """One screen of the wizard."""

    key: str  # "applicant.<name>" or "fields.<name>", as the validation errors are keyed
    field: FormField

    @property
    def group(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def input(self) -> str:
        """keyboard | latin | keypad | choice | choices | yesno"""
        kind = self.field.type
        if kind in KEYPAD_TYPES:
            return "keypad"
        if kind is FieldType.email:
            return "latin"
        if kind is FieldType.select:
            return "choice"
        if kind is FieldType.multiselect:
            return "choices"
        if kind is FieldType.checkbox:
            return "yesno"
        return "keyboard"

    @property
    def keypad_extra(self) -> str:
        """The keypad's extra key: «/» for dates, «٫» for numbers with a fraction."""
        if self.field.type is FieldType.date:
            return "/"
        if self.field.type is FieldType.number:
            return "٫"
        return ""

    @property
    def label(self) -> str:
        return self.field.label if self.field.required else f"{self.field.label} {OPTIONAL}"

    @property
    def hint(self) -> str:
        parts = [self.field.help] if self.field.help else []
        default = HINTS.get(self.field.type)
        if default:
            parts.append(default)
        return " ".join(parts)

    @property
    def is_text(self) -> bool:
        return self.input in ("keyboard", "latin", "keypad")


def questions_for(service: ServiceSpec) -> list[Question]:
    """Every question of `service`'s application, in order."""
    return ([Question(f"applicant.{f.name}", f) for f in APPLICANT_FIELDS]
            + [Question(f"fields.{f.name}", f) for f in service.form])


def empty_answer(question: Question) -> Any:
    if question.input == "choices":
        return []
    if question.input == "yesno":
        return None
    return ""


def split_answers(questions: list[Question], answers: Mapping[str, Any]
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(applicant, fields) as the use case takes them: every question present, raw."""
    applicant: dict[str, Any] = {}
    fields: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.key, empty_answer(question))
        if question.input == "yesno":
            value = bool(value)
        (applicant if question.group == "applicant" else fields)[question.name] = value
    return applicant, fields


def shown_answer(question: Question, raw: Any) -> str:
    """An answer as the review screen shows it (canonical form when it is valid)."""
    try:
        value = clean_value(question.field, bool(raw) if question.input == "yesno" else raw)
    except FieldError:
        value = raw
    if value is None or value == "" or value == []:
        return "—"
    shown = display_value(question.field, value)
    return to_persian_digits(shown) if question.input == "keypad" else shown
