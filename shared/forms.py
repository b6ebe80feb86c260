"""Validation of request forms: one code for the server and the kiosk.

`clean_value` turns what a citizen entered into a field's canonical value (or raises
`FieldError` with a Persian message that names the field by its label); `validate_form`
checks a whole form and collects every error at once; `validate_applicant` checks the
applicant's details that every request asks for; `display_value` shows a stored value in
Persian.

Canonical values: text as typed (trimmed; whitespace runs of a one-line text collapsed),
numbers as int (when integral) or float, identifiers in ASCII digits, dates as the Jalali
"YYYY-MM-DD", emails with the domain lowercased, a select's option value, a multiselect's
option values in the options' order, and a checkbox as True/False.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation

from shared import jalali
from shared.catalog.schema import FieldType, FormField
from shared.text import format_number, to_ascii_digits, to_persian_digits
from shared.validators import (
    InvalidValue,
    clean_mobile,
    clean_national_code,
    clean_postal_code,
)

TEXT_MAX_LENGTH = 200
TEXTAREA_MAX_LENGTH = 4000
EMAIL_MAX_LENGTH = 254
SHORT_INPUT_LIMIT = 64  # numbers and dates are refused beyond this many characters
RAW_INPUT_LIMIT = 100_000  # any string is refused beyond this many characters

UNKNOWN_FIELD = "این مورد در فرم این خدمت وجود ندارد."
EMPTY_DISPLAY = "—"
LIST_SEPARATOR = "، "

_UNCHECKED = frozenset({"", "off", "false", "0", "no"})
_CHECKED = frozenset({"on", "true", "1", "yes"})
_ALLOWED_CONTROLS = frozenset("\n\t")  # kept in a textarea, collapsed in a text
_NUMBER = re.compile(r"([+-]?)([0-9]{1,3}(?:,[0-9]{3})+|[0-9]+)(?:\.([0-9]+))?")
_EMAIL_FORBIDDEN = frozenset('()<>[]\\,;:"')
_NAME_PUNCTUATION = frozenset(" \u200c-'\u2019")


class FieldError(ValueError):
    """A field's value is not acceptable; `message` is Persian, `code` is stable for the API."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class FormResult:
    """The outcome of validating a form.

    `values` holds the canonical values of the answered fields in field order (empty optional
    fields are left out; an unticked optional checkbox is False); `errors` maps a field name
    to its Persian message and `codes` maps it to the stable error code for the API.
    """

    values: dict[str, object] = dataclass_field(default_factory=dict)
    errors: dict[str, str] = dataclass_field(default_factory=dict)
    codes: dict[str, str] = dataclass_field(default_factory=dict)

    @property
    def ok(self) -> bool:
        """True if no field has an error."""
        return not self.errors


# Messages ---------------------------------------------------------------------------------


def _num(x: float) -> str:
    """A bound in Persian digits: 50.0 → «۵۰», 1000 → «۱٬۰۰۰», 2.5 → «۲٫۵»."""
    return format_number(int(x)) if float(x).is_integer() else to_persian_digits(float(x))


def _required(f: FormField) -> FieldError:
    """The error for a required field left empty, worded by the kind of field."""
    if f.type is FieldType.checkbox:
        return FieldError("required", f"لطفاً «{f.label}» را علامت بزنید.")
    if f.type in (FieldType.select, FieldType.multiselect):
        return FieldError("required", f"لطفاً «{f.label}» را انتخاب کنید.")
    return FieldError("required", f"لطفاً «{f.label}» را وارد کنید.")


def _wrong_type(f: FormField) -> FieldError:
    """The error for a value of the wrong kind (e.g. a list where text is expected)."""
    return FieldError("wrong_type", f"مقدار واردشده برای «{f.label}» معتبر نیست.")


# Emptiness --------------------------------------------------------------------------------


def _blank(s: str) -> bool:
    """True if `s` holds only whitespace and invisible format characters."""
    return all(ch.isspace() or unicodedata.category(ch) == "Cf" for ch in s)


def _is_empty(f: FormField, raw: object) -> bool:
    """True if `raw` leaves the field unanswered (an unchecked box counts as empty)."""
    if raw is None or (raw is False and f.type is FieldType.checkbox):
        return True
    if isinstance(raw, str):
        if f.type is FieldType.checkbox and raw.strip().lower() in _UNCHECKED:
            return True
        return _blank(raw)
    if isinstance(raw, (list, tuple)):
        return all(isinstance(item, str) and _blank(item) for item in raw)
    return False


# Text -------------------------------------------------------------------------------------


def _text_bounds(f: FormField) -> tuple[int, int]:
    """Minimum and maximum length of a text field (defaults 0 and 200 or 4000)."""
    default = TEXTAREA_MAX_LENGTH if f.type is FieldType.textarea else TEXT_MAX_LENGTH
    low = int(f.min) if f.min is not None else 0
    high = int(f.max) if f.max is not None else default
    return low, high


def _length_error(f: FormField, low: int, high: int) -> FieldError:
    """The error for text whose length is outside [low, high]."""
    if low > 0:
        return FieldError("length", f"«{f.label}» باید بین {_num(low)} و {_num(high)} حرف باشد.")
    return FieldError("length", f"«{f.label}» نباید بیشتر از {_num(high)} حرف باشد.")


def _has_bad_characters(s: str, allowed_controls: frozenset[str]) -> bool:
    """True if `s` holds a control character (other than `allowed_controls`) or a surrogate."""
    return any(unicodedata.category(ch) in ("Cc", "Cs") and ch not in allowed_controls for ch in s)


def _clean_text(f: FormField, raw: object) -> str:
    """Trimmed text; one-line text has its whitespace runs collapsed to one space."""
    if not isinstance(raw, str):
        raise _wrong_type(f)
    low, high = _text_bounds(f)
    if len(raw) > RAW_INPUT_LIMIT:
        raise _length_error(f, low, high)
    multiline = f.type is FieldType.textarea
    text = raw.replace("\r\n", "\n").replace("\r", "\n")
    if _has_bad_characters(text, _ALLOWED_CONTROLS):
        message = f"«{f.label}» نویسه‌های غیرمجاز دارد؛ لطفاً آن را دوباره بنویسید."
        raise FieldError("control_characters", message)
    text = text.strip() if multiline else " ".join(text.split())
    if not low <= len(text) <= high:
        raise _length_error(f, low, high)
    return text


# Numbers ----------------------------------------------------------------------------------


def _not_a_number(f: FormField) -> FieldError:
    """The error for a value that is not a number."""
    return FieldError("not_a_number", f"«{f.label}» باید عدد باشد.")


def _parse_number(f: FormField, raw: str) -> int | float:
    """Parse a number typed in any digit script, with '.'/«٫» and ','/«٬»."""
    if len(raw) > SHORT_INPUT_LIMIT:
        raise _not_a_number(f)
    text = "".join(ch for ch in raw if unicodedata.category(ch) != "Cf").strip()
    text = to_ascii_digits(text).replace("\u066b", ".").replace("\u066c", ",")
    match = _NUMBER.fullmatch(text.replace("\u2212", "-"))
    if match is None:
        raise _not_a_number(f)
    sign, whole, fraction = match.groups()
    try:
        value = Decimal(f"{sign}{whole.replace(',', '')}.{fraction or '0'}")
    except InvalidOperation:  # pragma: no cover - the pattern admits only digits
        raise _not_a_number(f) from None
    return int(value) if value == value.to_integral_value() else float(value)


def _range_error(f: FormField) -> FieldError:
    """The error for a number outside the field's min/max."""
    if f.min is not None and f.max is not None:
        text = f"«{f.label}» باید عددی بین {_num(f.min)} و {_num(f.max)} باشد."
    elif f.min is not None:
        text = f"«{f.label}» نباید کمتر از {_num(f.min)} باشد."
    else:
        text = f"«{f.label}» نباید بیشتر از {_num(f.max or 0)} باشد."
    return FieldError("out_of_range", text)


def _clean_number(f: FormField, raw: object) -> int | float:
    """An int (when integral) or float within the field's bounds."""
    if isinstance(raw, bool) or not isinstance(raw, (int, float, str)):
        raise _not_a_number(f)
    if isinstance(raw, str):
        value = _parse_number(f, raw)
    elif isinstance(raw, float):
        if not math.isfinite(raw):
            raise _not_a_number(f)
        value = int(raw) if raw.is_integer() else raw
    else:
        value = raw
    if (f.min is not None and value < f.min) or (f.max is not None and value > f.max):
        raise _range_error(f)
    return value


# Identifiers, dates, email ----------------------------------------------------------------


def _identifier(clean: Callable[[object], str]) -> Callable[[FormField, object], str]:
    """A cleaner that runs a shared.validators function and keeps its Persian message."""

    def cleaner(f: FormField, raw: object) -> str:
        if isinstance(raw, bool) or not isinstance(raw, (str, int)):
            raise _wrong_type(f)
        if isinstance(raw, str) and len(raw) > SHORT_INPUT_LIMIT:
            raise _wrong_type(f)
        try:
            return clean(raw)
        except InvalidValue as error:
            raise FieldError(error.code, error.message) from None

    return cleaner


def _clean_date(f: FormField, raw: object) -> str:
    """The Jalali date as "YYYY-MM-DD" (a Gregorian `date` object is accepted too)."""
    if isinstance(raw, date) and not isinstance(raw, datetime):
        return jalali.jalali_string(raw)
    example = "تاریخ را به شکل ۱۴۰۵/۰۹/۰۵ وارد کنید."
    if not isinstance(raw, str) or len(raw) > SHORT_INPUT_LIMIT:
        raise FieldError("date_malformed", f"«{f.label}» درست نیست؛ {example}")
    try:
        return jalali.jalali_string(jalali.from_jalali_string(raw))
    except ValueError as error:
        if str(error) == jalali.INVALID_DATE:
            text = f"«{f.label}» نامعتبر است؛ چنین روزی در تقویم وجود ندارد."
            raise FieldError("date_invalid", text) from None
        raise FieldError("date_malformed", f"«{f.label}» درست نیست؛ {example}") from None


def _valid_email_parts(local: str, domain: str) -> bool:
    """True if the local part and the domain look like a deliverable address."""
    labels = domain.split(".")
    return (
        0 < len(local) <= 64
        and not local.startswith(".")
        and not local.endswith(".")
        and ".." not in local
        and len(labels) >= 2
        and all(label and not label.startswith("-") and not label.endswith("-") for label in labels)
        and all(ch.isalnum() or ch == "-" for label in labels for ch in label)
        and len(labels[-1]) >= 2
        and not labels[-1].isdigit()
    )


def _clean_email(f: FormField, raw: object) -> str:
    """The address with its domain lowercased (Persian digits become ASCII)."""
    if not isinstance(raw, str):
        raise _wrong_type(f)
    text = to_ascii_digits(raw.strip())
    local, at, domain = text.rpartition("@")
    if (
        len(text) > EMAIL_MAX_LENGTH
        or not at
        or "@" in local
        or any(ch.isspace() or ch in _EMAIL_FORBIDDEN for ch in text)
        or any(unicodedata.category(ch).startswith("C") for ch in text)
        or not _valid_email_parts(local, domain)
    ):
        message = (
            f"نشانی ایمیل واردشده در «{f.label}» معتبر نیست؛ "
            "لطفاً آن را به شکل name@example.com وارد کنید."
        )
        raise FieldError("email_invalid", message)
    return f"{local}@{domain.lower()}"


# Choices ----------------------------------------------------------------------------------


def _choice(f: FormField, raw: object) -> str:
    """One option value chosen in `f` (strings compared after stripping)."""
    if isinstance(raw, bool) or not isinstance(raw, (str, int)):
        raise _wrong_type(f)
    value = str(raw).strip()
    if value not in {option.value for option in f.options}:
        message = f"لطفاً برای «{f.label}» یکی از گزینه‌های فهرست را انتخاب کنید."
        raise FieldError("not_an_option", message)
    return value


def _choice_count_error(f: FormField) -> FieldError:
    """The error for a multiselect with too few or too many choices."""
    if f.min is not None and f.max is not None:
        text = f"لطفاً برای «{f.label}» بین {_num(f.min)} و {_num(f.max)} گزینه انتخاب کنید."
    elif f.min is not None:
        text = f"لطفاً برای «{f.label}» دست‌کم {_num(f.min)} گزینه انتخاب کنید."
    else:
        text = f"برای «{f.label}» حداکثر {_num(f.max or 0)} گزینه می‌توانید انتخاب کنید."
    return FieldError("choice_count", text)


def _clean_multiselect(f: FormField, raw: object) -> list[str]:
    """The chosen option values, without repeats, in the options' order."""
    items = [raw] if isinstance(raw, str) else raw
    if not isinstance(items, (list, tuple)):
        raise _wrong_type(f)
    chosen = {_choice(f, item) for item in items if not (isinstance(item, str) and _blank(item))}
    values = [option.value for option in f.options if option.value in chosen]
    if (f.min is not None and len(values) < f.min) or (f.max is not None and len(values) > f.max):
        raise _choice_count_error(f)
    return values


def _clean_checkbox(f: FormField, raw: object) -> bool:
    """True for a ticked box ("on", "true", "1", "yes", True or 1), False for an unticked one."""
    if _is_empty(f, raw) or (type(raw) is int and raw == 0):
        return False
    if raw is True or (type(raw) is int and raw == 1):
        return True
    if isinstance(raw, str) and raw.strip().lower() in _CHECKED:
        return True
    raise _wrong_type(f)


_CLEANERS: dict[FieldType, Callable[[FormField, object], object]] = {
    FieldType.text: _clean_text,
    FieldType.textarea: _clean_text,
    FieldType.number: _clean_number,
    FieldType.national_code: _identifier(clean_national_code),
    FieldType.mobile: _identifier(clean_mobile),
    FieldType.postal_code: _identifier(clean_postal_code),
    FieldType.date: _clean_date,
    FieldType.email: _clean_email,
    FieldType.select: _choice,
    FieldType.multiselect: _clean_multiselect,
    FieldType.checkbox: _clean_checkbox,
}


# Public API -------------------------------------------------------------------------------


def clean_value(field: FormField, raw: object) -> object:
    """The canonical value of `raw` for `field`, or raise FieldError.

    Empty input (None, "", only spaces, [], an unticked checkbox) raises for a required
    field; for an optional field it gives None, except a checkbox, which gives False.
    """
    if field.type is FieldType.checkbox:
        value = _clean_checkbox(field, raw)
        if field.required and not value:
            raise _required(field)
        return value
    if _is_empty(field, raw):
        if field.required:
            raise _required(field)
        return None
    return _CLEANERS[field.type](field, raw)


def validate_form(
    fields: Sequence[FormField],
    data: Mapping[str, object],
    *,
    allow_unknown: bool = False,
) -> FormResult:
    """Validate every field of a form; unknown keys are errors unless `allow_unknown`."""
    values: dict[str, object] = {}
    errors: dict[str, str] = {}
    codes: dict[str, str] = {}
    for f in fields:
        try:
            value = clean_value(f, data.get(f.name))
        except FieldError as error:
            errors[f.name], codes[f.name] = error.message, error.code
            continue
        if value is not None:
            values[f.name] = value
    if not allow_unknown:
        known = {f.name for f in fields}
        for key in data:
            if key not in known:
                errors[str(key)], codes[str(key)] = UNKNOWN_FIELD, "unknown_field"
    return FormResult(values=values, errors=errors, codes=codes)


# Applicant --------------------------------------------------------------------------------

APPLICANT_FIELDS: tuple[FormField, ...] = (
    FormField(name="name", type=FieldType.text, label="نام و نام خانوادگی", min=3, max=100),
    FormField(
        name="national_code", type=FieldType.national_code, label="کد ملی", min=None, max=None
    ),
    FormField(name="mobile", type=FieldType.mobile, label="شماره تلفن همراه", min=None, max=None),
)

NAME_INVALID = (
    "«نام و نام خانوادگی» فقط می‌تواند حرف فارسی یا لاتین باشد؛ رقم و نشانه‌های دیگر پذیرفته نمی‌شود."
)


def _is_name_letter(ch: str) -> bool:
    """True for a letter or mark of the Arabic or Latin scripts."""
    if unicodedata.category(ch)[0] not in "LM":
        return False
    code = ord(ch)
    arabic = 0x0600 <= code <= 0x06FF or 0x0750 <= code <= 0x077F or 0xFB50 <= code <= 0xFEFC
    latin = ch.isascii() or 0x00C0 <= code <= 0x024F or 0x1E00 <= code <= 0x1EFF
    return arabic or latin


def is_valid_name(name: str) -> bool:
    """True if `name` has a letter and only Persian/Latin letters, spaces, ZWNJ, - and '."""
    return any(_is_name_letter(ch) for ch in name) and all(
        _is_name_letter(ch) or ch in _NAME_PUNCTUATION for ch in name
    )


def validate_applicant(data: Mapping[str, object], *, allow_unknown: bool = False) -> FormResult:
    """Validate the applicant's name, national code and mobile number."""
    result = validate_form(APPLICANT_FIELDS, data, allow_unknown=allow_unknown)
    name = result.values.get("name")
    if not isinstance(name, str) or is_valid_name(name):
        return result
    values = {key: value for key, value in result.values.items() if key != "name"}
    errors = {"name": NAME_INVALID, **result.errors}
    codes = {"name": "name_invalid", **result.codes}
    return FormResult(values=values, errors=errors, codes=codes)


# Display ----------------------------------------------------------------------------------


def _display_number(value: object) -> str:
    """A number in Persian digits with «٬» between thousands and «٫» as decimal point."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return to_persian_digits(value)
    if isinstance(value, float) and not value.is_integer():
        return to_persian_digits(f"{value:,}".replace(",", "\u066c").replace(".", "\u066b"))
    return format_number(int(value))


def _display_date(value: object) -> str:
    """A stored Jalali "YYYY-MM-DD" (or a date) as «۵ آذر ۱۴۰۵»."""
    if isinstance(value, date):
        return jalali.format_date(value)
    try:
        return jalali.format_date(jalali.from_jalali_string(str(value)))
    except ValueError:
        return to_persian_digits(value)


def _option_label(f: FormField, value: object) -> str:
    """The label of the option whose value is `value` (the value itself if none)."""
    labels = {option.value: option.label for option in f.options}
    return labels.get(str(value), str(value))


def display_value(field: FormField, value: object) -> str:
    """A stored value shown in Persian; None shows as «—»."""
    if value is None:
        return EMPTY_DISPLAY
    kind = field.type
    if kind is FieldType.checkbox:
        return "بله" if value else "خیر"
    if kind is FieldType.select:
        return _option_label(field, value)
    if kind is FieldType.multiselect:
        items = value if isinstance(value, (list, tuple)) else [value]
        return LIST_SEPARATOR.join(_option_label(field, item) for item in items) or EMPTY_DISPLAY
    if kind is FieldType.number:
        return _display_number(value)
    if kind is FieldType.date:
        return _display_date(value)
    if kind in (FieldType.national_code, FieldType.mobile, FieldType.postal_code):
        return to_persian_digits(value)
    return str(value)
