"""Tests of shared.forms: field cleaning, form and applicant validation, display."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from shared.catalog.schema import FieldType, FormField, Option
from shared.forms import (
    APPLICANT_FIELDS,
    NAME_INVALID,
    UNKNOWN_FIELD,
    FieldError,
    FormResult,
    clean_value,
    display_value,
    is_valid_name,
    validate_applicant,
    validate_form,
)
from shared.validators import MOBILE_INVALID, NATIONAL_CODE_INVALID, POSTAL_CODE_INVALID

NATIONAL_CODE = "0499370899"
MOBILE = "09123456789"
POSTAL_CODE = "1193653471"
ZWNJ = "\u200c"

PROVINCES = [
    Option(value="tehran", label="تهران"),
    Option(value="isfahan", label="اصفهان"),
    Option(value="fars", label="فارس"),
    Option(value="gilan", label="گیلان"),
]


def make(kind: str, label: str = "پرسش", **kwargs: Any) -> FormField:
    """A form field of type `kind` named "q" (choice fields get the provinces)."""
    if kind in ("select", "multiselect"):
        kwargs.setdefault("options", PROVINCES)
    return FormField(name=kwargs.pop("name", "q"), type=FieldType(kind), label=label, **kwargs)


def error_of(field: FormField, raw: object) -> FieldError:
    with pytest.raises(FieldError) as info:
        clean_value(field, raw)
    assert isinstance(info.value, ValueError)
    assert str(info.value) == info.value.message
    return info.value


# Empty values -----------------------------------------------------------------------------

EMPTIES: list[object] = [None, "", "   ", "\t\n ", "\u200f\u200c ", [], ("",), [" "]]
NON_CHECKBOX = [t.value for t in FieldType if t is not FieldType.checkbox]


@pytest.mark.parametrize("kind", NON_CHECKBOX)
@pytest.mark.parametrize("raw", EMPTIES)
def test_empty_optional_field_is_none(kind: str, raw: object) -> None:
    assert clean_value(make(kind, required=False), raw) is None


@pytest.mark.parametrize("kind", NON_CHECKBOX)
@pytest.mark.parametrize("raw", EMPTIES)
def test_empty_required_field_names_the_field(kind: str, raw: object) -> None:
    error = error_of(make(kind, label="کد پستی محل فعالیت"), raw)
    assert error.code == "required"
    assert "«کد پستی محل فعالیت»" in error.message
    assert error.message.startswith("لطفاً")


def test_required_messages_by_kind() -> None:
    label = "کد پستی محل فعالیت"
    assert error_of(make("postal_code", label), "").message == f"لطفاً «{label}» را وارد کنید."
    assert error_of(make("select", "استان"), None).message == "لطفاً «استان» را انتخاب کنید."
    assert error_of(make("multiselect", "استان"), []).message == "لطفاً «استان» را انتخاب کنید."
    consent = make("checkbox", "تأیید صحت اطلاعات")
    assert error_of(consent, None).message == "لطفاً «تأیید صحت اطلاعات» را علامت بزنید."


# Text -------------------------------------------------------------------------------------


def test_text_is_trimmed_and_collapsed_but_otherwise_kept() -> None:
    field = make("text")
    assert clean_value(field, "  علی   رضایی \n") == "علی رضایی"
    assert clean_value(field, f"می{ZWNJ}شود") == f"می{ZWNJ}شود"
    # Arabic letters, Latin case and digits are the citizen's: nothing is converted.
    assert clean_value(field, "علي كريمي ABC ۱۲۳ 45") == "علي كريمي ABC ۱۲۳ 45"
    assert clean_value(field, "a\tb\r\nc") == "a b c"


def test_script_tag_is_kept_as_text() -> None:
    raw = "<script>alert('x')</script> & <b>"
    assert clean_value(make("text"), raw) == raw
    assert clean_value(make("textarea"), raw) == raw


def test_textarea_keeps_newlines_and_tabs() -> None:
    field = make("textarea")
    assert clean_value(field, "\n  سطر اول\r\n\tسطر دوم\r\n\nپایان  \n") == (
        "سطر اول\n\tسطر دوم\n\nپایان"
    )


@pytest.mark.parametrize("kind", ["text", "textarea"])
@pytest.mark.parametrize("bad", ["\x00", "\x1b[31m", "\x07", "\x0b", "\x7f", "\x85", "\ud800"])
def test_text_refuses_control_characters(kind: str, bad: str) -> None:
    error = error_of(make(kind, "شرح"), f"متن {bad} درخواست")
    assert error.code == "control_characters"
    assert "«شرح»" in error.message


def test_text_default_lengths() -> None:
    assert clean_value(make("text"), "ا" * 200) == "ا" * 200
    error = error_of(make("text", "عنوان"), "ا" * 201)
    assert error.code == "length"
    assert error.message == "«عنوان» نباید بیشتر از ۲۰۰ حرف باشد."
    assert clean_value(make("textarea"), "ب" * 4000) == "ب" * 4000
    error = error_of(make("textarea", "شرح"), "ب" * 4001)
    assert "۴٬۰۰۰" in error.message


def test_text_length_counts_after_trimming() -> None:
    assert clean_value(make("text", max=5), "  abcde   ") == "abcde"
    assert clean_value(make("text", max=5), "a    b") == "a b"


def test_text_bounds_message_uses_persian_digits() -> None:
    field = make("text", "نام کسب‌وکار", min=3, max=50)
    for raw in ("اب", "ا" * 51):
        error = error_of(field, raw)
        assert error.message == "«نام کسب‌وکار» باید بین ۳ و ۵۰ حرف باشد."
    assert clean_value(field, "ابپ") == "ابپ"


def test_huge_text_is_refused_without_crash() -> None:
    error = error_of(make("text"), "ا" * 1_000_000)
    assert error.code == "length"


@pytest.mark.parametrize("kind", ["text", "textarea", "email"])
@pytest.mark.parametrize("raw", [{"a": 1}, ["x"], 12, 1.5, True, b"bytes"])
def test_text_wrong_types(kind: str, raw: object) -> None:
    error = error_of(make(kind, "نشانی"), raw)
    assert error.code == "wrong_type"
    assert "«نشانی»" in error.message


# Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (12, 12),
        (12.0, 12),
        (2.5, 2.5),
        ("12", 12),
        ("۱۲", 12),
        ("١٢", 12),
        (" ۱۲ ", 12),
        ("+7", 7),
        ("-7", -7),
        ("\u22127", -7),
        ("۲٫۵", 2.5),
        ("2.5", 2.5),
        ("2.50", 2.5),
        ("3.000", 3),
        ("1,250,000", 1250000),
        ("۱٬۲۵۰٬۰۰۰", 1250000),
        ("١٬٢٥٠", 1250),
        ("۱٬۲۵۰٫۵", 1250.5),
        ("\u200f۴۲\u200e", 42),
        ("0", 0),
        ("007", 7),
    ],
)
def test_number_accepts_every_digit_script(raw: object, expected: float) -> None:
    value = clean_value(make("number"), raw)
    assert value == expected
    assert type(value) is type(expected)


@pytest.mark.parametrize(
    "raw",
    [
        "abc",
        "12a",
        "1 2",
        "1,25",
        "12,",
        ",12",
        "1.2.3",
        ".5",
        "5.",
        "--5",
        "1e5",
        "nan",
        "inf",
        "Infinity",
        "0x10",
        "۱/۲",
        "1" * 100,
        float("nan"),
        float("inf"),
        float("-inf"),
        True,
        False,
        [1],
        {"value": 1},
        b"12",
    ],
)
def test_number_rejects_non_numbers(raw: object) -> None:
    error = error_of(make("number", "تعداد کارکنان"), raw)
    assert error.code == "not_a_number"
    assert error.message == "«تعداد کارکنان» باید عدد باشد."


def test_number_bounds() -> None:
    field = make("number", "تعداد کارکنان", min=1, max=50)
    assert clean_value(field, "۱") == 1
    assert clean_value(field, 50) == 50
    for raw in (0, "۵۱", 50.5, "-3"):
        error = error_of(field, raw)
        assert error.code == "out_of_range"
        assert error.message == "«تعداد کارکنان» باید عددی بین ۱ و ۵۰ باشد."


def test_number_one_sided_bounds_and_large_bounds() -> None:
    assert error_of(make("number", "مساحت", min=10), 9).message == "«مساحت» نباید کمتر از ۱۰ باشد."
    message = error_of(make("number", "مبلغ", max=1_000_000), 2_000_000).message
    assert message == "«مبلغ» نباید بیشتر از ۱٬۰۰۰٬۰۰۰ باشد."
    message = error_of(make("number", "ضریب", min=0.5, max=2.5), 3).message
    assert message == "«ضریب» باید عددی بین ۰٫۵ و ۲٫۵ باشد."


# Identifiers ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "raw", "expected"),
    [
        ("national_code", NATIONAL_CODE, NATIONAL_CODE),
        ("national_code", "۰۴۹۹۳۷۰۸۹۹", NATIONAL_CODE),
        ("national_code", "٠٤٩-٩٣٧٠٨-٩٩", NATIONAL_CODE),
        ("mobile", "۰۹۱۲ ۳۴۵ ۶۷۸۹", MOBILE),
        ("mobile", "+98 912 345 6789", MOBILE),
        ("mobile", "٠٩١٢٣٤٥٦٧٨٩", MOBILE),
        ("postal_code", "۱۱۹۳۶-۵۳۴۷۱", POSTAL_CODE),
        ("postal_code", POSTAL_CODE, POSTAL_CODE),
    ],
)
def test_identifiers_are_cleaned(kind: str, raw: str, expected: str) -> None:
    assert clean_value(make(kind), raw) == expected


@pytest.mark.parametrize(
    ("kind", "raw", "code", "message"),
    [
        ("national_code", "0499370898", "national_code_invalid", NATIONAL_CODE_INVALID),
        ("national_code", "12", "national_code_invalid", NATIONAL_CODE_INVALID),
        ("mobile", "0912345678", "mobile_invalid", MOBILE_INVALID),
        ("postal_code", "12345", "postal_code_invalid", POSTAL_CODE_INVALID),
    ],
)
def test_identifier_errors_keep_the_validator_message(
    kind: str, raw: str, code: str, message: str
) -> None:
    error = error_of(make(kind), raw)
    assert (error.code, error.message) == (code, message)


def test_mobile_landline_message() -> None:
    assert error_of(make("mobile"), "02188776655").code == "mobile_landline"


@pytest.mark.parametrize("kind", ["national_code", "mobile", "postal_code"])
@pytest.mark.parametrize("raw", [{"x": 1}, [NATIONAL_CODE], True, 1.5, "1" * 1000])
def test_identifier_wrong_types(kind: str, raw: object) -> None:
    assert error_of(make(kind), raw).code == "wrong_type"


# Dates ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    ["1405/09/05", "۱۴۰۵-۰۹-۰۵", "١٤٠٥/٩/٥", " ۱۴۰۵/۹/۵ ", "\u200f1405/09/05", date(2026, 11, 26)],
)
def test_date_in_any_digit_script(raw: object) -> None:
    assert clean_value(make("date"), raw) == "1405-09-05"


def test_date_ignores_min_and_max() -> None:
    assert clean_value(make("date", min=1, max=2), "1405/09/05") == "1405-09-05"


@pytest.mark.parametrize(
    "raw", ["فردا", "1405/09", "05/09/1405", "1405.09.05", "x" * 500, 14050905]
)
def test_date_malformed(raw: object) -> None:
    error = error_of(make("date", "تاریخ تولد"), raw)
    assert error.code == "date_malformed"
    assert error.message.startswith("«تاریخ تولد»")
    assert "۱۴۰۵/۰۹/۰۵" in error.message


@pytest.mark.parametrize("raw", ["1405/07/31", "1405/13/01", "1404/12/30", "1405/00/10"])
def test_date_that_does_not_exist(raw: str) -> None:
    error = error_of(make("date", "تاریخ تولد"), raw)
    assert error.code == "date_invalid"
    assert error.message == "«تاریخ تولد» نامعتبر است؛ چنین روزی در تقویم وجود ندارد."


# Email ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("ali@example.com", "ali@example.com"),
        ("  Ali.Rezaei@Example.CO.IR ", "Ali.Rezaei@example.co.ir"),
        ("ali+desk@mail.example.org", "ali+desk@mail.example.org"),
        ("ali۱۳۶۰@gmail.com", "ali1360@gmail.com"),
        ("x@my-host.ir", "x@my-host.ir"),
    ],
)
def test_email_valid(raw: str, expected: str) -> None:
    assert clean_value(make("email"), raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "ali",
        "ali@",
        "@example.com",
        "ali@example",
        "ali@@example.com",
        "ali@bob@example.com",
        "ali rezaei@example.com",
        "ali@exa mple.com",
        "ali@example..com",
        "ali@.example.com",
        "ali@example.com.",
        "ali@-example.com",
        "ali@example.c",
        "ali@1.2.3.4",
        ".ali@example.com",
        "ali.@example.com",
        "a..li@example.com",
        "ali<x>@example.com",
        "ali@exam_ple.com",
        "ali\u200f@example.com",
        "a" * 65 + "@example.com",
        "a@" + "b" * 250 + ".com",
    ],
)
def test_email_invalid(raw: str) -> None:
    error = error_of(make("email", "ایمیل"), raw)
    assert error.code == "email_invalid"
    assert "«ایمیل»" in error.message


# Select and multiselect -------------------------------------------------------------------


def test_select() -> None:
    field = make("select", "استان")
    assert clean_value(field, "fars") == "fars"
    assert clean_value(field, " fars ") == "fars"
    error = error_of(field, "kerman")
    assert error.code == "not_an_option"
    assert error.message == "لطفاً برای «استان» یکی از گزینه‌های فهرست را انتخاب کنید."
    assert error_of(field, "Fars").code == "not_an_option"  # option values are exact
    assert error_of(field, "فارس").code == "not_an_option"  # a label is not a value
    assert error_of(field, ["fars"]).code == "wrong_type"
    assert error_of(field, {"v": "fars"}).code == "wrong_type"


def test_select_numeric_option_values() -> None:
    field = make("select", options=[Option(value="1", label="یک"), Option(value="2", label="دو")])
    assert clean_value(field, 2) == "2"
    assert clean_value(field, "2") == "2"
    assert error_of(field, True).code == "wrong_type"


def test_multiselect_dedupes_in_option_order() -> None:
    field = make("multiselect", "استان")
    assert clean_value(field, ["gilan", "tehran", "gilan", " tehran "]) == ["tehran", "gilan"]
    assert clean_value(field, "fars") == ["fars"]
    assert clean_value(field, ("fars", "")) == ["fars"]


def test_multiselect_rejects_unknown_and_wrong_types() -> None:
    field = make("multiselect", "استان")
    assert error_of(field, ["fars", "kerman"]).code == "not_an_option"
    assert error_of(field, {"fars": True}).code == "wrong_type"
    assert error_of(field, [["fars"]]).code == "wrong_type"
    assert error_of(field, 5).code == "wrong_type"


def test_multiselect_bounds() -> None:
    field = make("multiselect", "استان", min=2, max=3)
    assert clean_value(field, ["fars", "gilan"]) == ["fars", "gilan"]
    for raw in (["fars"], ["fars", "fars"], ["fars", "gilan", "tehran", "isfahan"]):
        error = error_of(field, raw)
        assert error.code == "choice_count"
        assert error.message == "لطفاً برای «استان» بین ۲ و ۳ گزینه انتخاب کنید."
    message = error_of(make("multiselect", "استان", min=2), ["fars"]).message
    assert message == "لطفاً برای «استان» دست‌کم ۲ گزینه انتخاب کنید."
    message = error_of(make("multiselect", "استان", max=1), ["fars", "gilan"]).message
    assert message == "برای «استان» حداکثر ۱ گزینه می‌توانید انتخاب کنید."


# Checkbox ---------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [True, 1, "on", "true", "True", "1", "yes", " ON "])
def test_checkbox_checked(raw: object) -> None:
    assert clean_value(make("checkbox"), raw) is True
    assert clean_value(make("checkbox", required=False), raw) is True


@pytest.mark.parametrize("raw", [None, False, 0, "", "off", "false", "0", "no", " "])
def test_checkbox_unchecked(raw: object) -> None:
    assert clean_value(make("checkbox", required=False), raw) is False
    error = error_of(make("checkbox", "تأیید صحت اطلاعات"), raw)
    assert error.code == "required"
    assert error.message == "لطفاً «تأیید صحت اطلاعات» را علامت بزنید."


@pytest.mark.parametrize("raw", ["maybe", 2, 1.0, ["on"], {"on": True}])
def test_checkbox_wrong_values(raw: object) -> None:
    assert error_of(make("checkbox", required=False), raw).code == "wrong_type"


# validate_form ----------------------------------------------------------------------------

FORM = [
    make("text", "نام کسب‌وکار", name="business", min=3, max=50),
    make("number", "تعداد کارکنان", name="staff", min=1, max=50),
    make("postal_code", "کد پستی محل فعالیت", name="postal_code"),
    make("select", "استان", name="province"),
    make("multiselect", "استان‌های فعالیت", name="areas", required=False),
    make("date", "تاریخ شروع", name="start", required=False),
    make("textarea", "توضیحات", name="notes", required=False),
    make("checkbox", "تأیید صحت اطلاعات", name="consent"),
]


def test_validate_form_valid() -> None:
    data = {
        "consent": "on",
        "province": "fars",
        "postal_code": "۱۱۹۳۶-۵۳۴۷۱",
        "staff": "۱۲",
        "business": "  کارگاه   سفال ",
        "areas": ["gilan", "fars"],
        "notes": "",
    }
    result = validate_form(FORM, data)
    assert result.ok
    assert result.errors == {} and result.codes == {}
    assert result.values == {
        "business": "کارگاه سفال",
        "staff": 12,
        "postal_code": POSTAL_CODE,
        "province": "fars",
        "areas": ["fars", "gilan"],
        "consent": True,
    }
    assert list(result.values) == [
        "business",
        "staff",
        "postal_code",
        "province",
        "areas",
        "consent",
    ]


def test_validate_form_collects_every_error() -> None:
    data = {"business": "ab", "staff": "۵۱", "province": "kerman", "start": "1405/07/31"}
    result = validate_form(FORM, data)
    assert not result.ok
    assert list(result.errors) == [
        "business",
        "staff",
        "postal_code",
        "province",
        "start",
        "consent",
    ]
    assert result.errors["staff"] == "«تعداد کارکنان» باید عددی بین ۱ و ۵۰ باشد."
    assert result.errors["postal_code"] == "لطفاً «کد پستی محل فعالیت» را وارد کنید."
    assert result.errors["consent"] == "لطفاً «تأیید صحت اطلاعات» را علامت بزنید."
    assert result.codes["province"] == "not_an_option"
    assert result.values == {}


def test_validate_form_unknown_keys() -> None:
    data = {"province": "fars", "admin": "1", "staff": 3}
    result = validate_form(FORM[1:2] + FORM[3:4], data)
    assert result.errors == {"admin": UNKNOWN_FIELD}
    assert result.codes == {"admin": "unknown_field"}
    assert UNKNOWN_FIELD == "این مورد در فرم این خدمت وجود ندارد."
    allowed = validate_form(FORM[1:2] + FORM[3:4], data, allow_unknown=True)
    assert allowed.ok and allowed.values == {"staff": 3, "province": "fars"}


def test_validate_form_wrong_json_types_never_crash() -> None:
    data = {
        "business": {"$ne": None},
        "staff": [1, 2],
        "postal_code": {"a": 1},
        "province": ["fars"],
        "areas": {"x": 1},
        "start": 1405,
        "notes": ["x"],
        "consent": {"yes": True},
    }
    result = validate_form(FORM, data)
    assert set(result.errors) == set(data)
    assert all(isinstance(message, str) and message for message in result.errors.values())


def test_validate_form_bool_for_number() -> None:
    result = validate_form(FORM[1:2], {"staff": True})
    assert result.codes == {"staff": "not_a_number"}


def test_form_result_is_frozen() -> None:
    result = FormResult()
    assert result.ok
    with pytest.raises(AttributeError):
        result.values = {}  # type: ignore[misc]


def test_empty_form() -> None:
    assert validate_form([], {}).ok
    assert validate_form([], {"x": 1}).errors == {"x": UNKNOWN_FIELD}


# Applicant --------------------------------------------------------------------------------


def test_applicant_fields() -> None:
    assert [f.name for f in APPLICANT_FIELDS] == ["name", "national_code", "mobile"]
    assert [f.label for f in APPLICANT_FIELDS] == [
        "نام و نام خانوادگی",
        "کد ملی",
        "شماره تلفن همراه",
    ]
    assert all(f.required for f in APPLICANT_FIELDS)


def test_validate_applicant_valid() -> None:
    data = {
        "name": f" زهرا  محمدی{ZWNJ}نژاد ",
        "national_code": "۰۴۹۹۳۷۰۸۹۹",
        "mobile": "۰۹۱۲۳۴۵۶۷۸۹",
    }
    result = validate_applicant(data)
    assert result.ok
    assert result.values == {
        "name": f"زهرا محمدی{ZWNJ}نژاد",
        "national_code": NATIONAL_CODE,
        "mobile": MOBILE,
    }


@pytest.mark.parametrize(
    "name",
    ["Ali Rezaei", "O'Brien", "علی‌اکبر آل-احمد", "Zoë Müller", "عليرضا كريمي", "مُحَمَّد", "Ali ’Reza"],
)
def test_valid_names(name: str) -> None:
    assert is_valid_name(name)
    assert validate_applicant({"name": name, "national_code": NATIONAL_CODE, "mobile": MOBILE}).ok


@pytest.mark.parametrize(
    "name",
    [
        "علی ۱۲",
        "Ali 2",
        "علی٣",
        "---",
        "' - '",
        "علی@رضایی",
        "علی.رضایی",
        "علی، رضا",
        "张伟 李",
        "Али Ив",
    ],
)
def test_invalid_names(name: str) -> None:
    assert not is_valid_name(name)
    result = validate_applicant({"name": name, "national_code": NATIONAL_CODE, "mobile": MOBILE})
    assert result.errors == {"name": NAME_INVALID}
    assert result.codes == {"name": "name_invalid"}
    assert "name" not in result.values
    assert result.values == {"national_code": NATIONAL_CODE, "mobile": MOBILE}


def test_validate_applicant_errors() -> None:
    result = validate_applicant({"name": "ع", "national_code": "123", "extra": "x"})
    assert list(result.errors) == ["name", "national_code", "mobile", "extra"]
    assert result.errors["name"] == "«نام و نام خانوادگی» باید بین ۳ و ۱۰۰ حرف باشد."
    assert result.errors["mobile"] == "لطفاً «شماره تلفن همراه» را وارد کنید."
    assert result.errors["extra"] == UNKNOWN_FIELD
    assert validate_applicant({"extra": "x"}, allow_unknown=True).errors.keys() == {
        "name",
        "national_code",
        "mobile",
    }


# display_value ----------------------------------------------------------------------------


def test_display_none_and_text() -> None:
    for kind in FieldType:
        assert display_value(make(kind.value, required=False), None) == "—"
    assert display_value(make("text"), "کارگاه <b>سفال</b> 12") == "کارگاه <b>سفال</b> 12"
    assert display_value(make("textarea"), "الف\nب") == "الف\nب"
    assert display_value(make("email"), "ali@example.com") == "ali@example.com"


def test_display_choices_and_checkbox() -> None:
    assert display_value(make("select"), "fars") == "فارس"
    assert display_value(make("select"), "gone") == "gone"
    assert display_value(make("multiselect"), ["tehran", "gilan"]) == "تهران، گیلان"
    assert display_value(make("multiselect"), []) == "—"
    assert display_value(make("checkbox"), True) == "بله"
    assert display_value(make("checkbox"), False) == "خیر"


def test_display_numbers() -> None:
    field = make("number")
    assert display_value(field, 12) == "۱۲"
    assert display_value(field, 1250000) == "۱٬۲۵۰٬۰۰۰"
    assert display_value(field, 2.5) == "۲٫۵"
    assert display_value(field, 1234.5) == "۱٬۲۳۴٫۵"
    assert display_value(field, -3) == "-۳"


def test_display_codes_and_dates() -> None:
    assert display_value(make("national_code"), NATIONAL_CODE) == "۰۴۹۹۳۷۰۸۹۹"
    assert display_value(make("mobile"), MOBILE) == "۰۹۱۲۳۴۵۶۷۸۹"
    assert display_value(make("postal_code"), POSTAL_CODE) == "۱۱۹۳۶۵۳۴۷۱"
    assert display_value(make("date"), "1405-09-05") == "۵ آذر ۱۴۰۵"
    assert display_value(make("date"), date(2026, 11, 26)) == "۵ آذر ۱۴۰۵"
    assert display_value(make("date"), "garbage 12") == "garbage ۱۲"


def test_clean_then_display_round_trip() -> None:
    for field, raw, shown in [
        (make("number"), "۱٬۲۵۰٫۵", "۱٬۲۵۰٫۵"),
        (make("date"), "۱۴۰۵/۹/۵", "۵ آذر ۱۴۰۵"),
        (make("multiselect"), ["gilan", "fars", "gilan"], "فارس، گیلان"),
        (make("mobile"), "+989123456789", "۰۹۱۲۳۴۵۶۷۸۹"),
    ]:
        assert display_value(field, clean_value(field, raw)) == shown
