"""Tests of shared.validators: national code, mobile number and postal code."""

from __future__ import annotations

import random

import pytest

from shared.validators import (
    InvalidValue,
    clean_mobile,
    clean_national_code,
    clean_postal_code,
    is_valid_mobile,
    is_valid_national_code,
    is_valid_postal_code,
    national_code_check_digit,
)


def reference_check_digit(first_nine: str) -> int:
    """The official algorithm, written out independently of the module under test."""
    total = 0
    for position, digit in enumerate(first_nine):
        total += int(digit) * (10 - position)
    remainder = total % 11
    if remainder < 2:
        return remainder
    return 11 - remainder


def passes_checksum(code: str) -> bool:
    return len(code) == 10 and reference_check_digit(code[:9]) == int(code[9])


def generated_codes(count: int, seed: int = 1405) -> list[str]:
    """Valid national codes built with the reference algorithm (not all the same digit)."""
    rng = random.Random(seed)
    codes: list[str] = []
    while len(codes) < count:
        first_nine = "".join(rng.choice("0123456789") for _ in range(9))
        code = first_nine + str(reference_check_digit(first_nine))
        if len(set(code)) > 1:
            codes.append(code)
    return codes


# Codes often used as examples in Iranian software; each is checked with the algorithm below.
WELL_KNOWN_CODES = ["0499370899", "0790419904", "0084575948", "0067749828", "0013542419"]


# InvalidValue -----------------------------------------------------------------------------


def test_invalid_value_is_a_value_error_with_persian_message() -> None:
    with pytest.raises(ValueError) as info:
        clean_national_code("123")
    error = info.value
    assert isinstance(error, InvalidValue)
    assert error.code == "national_code_invalid"
    assert error.message == str(error)
    assert "کد ملی" in error.message and error.message.endswith(".")


def test_messages_use_persian_letters() -> None:
    messages = []
    for clean, value in [
        (clean_national_code, ""),
        (clean_national_code, "1"),
        (clean_mobile, ""),
        (clean_mobile, "1"),
        (clean_mobile, "02112345678"),
        (clean_postal_code, ""),
        (clean_postal_code, "1"),
    ]:
        with pytest.raises(InvalidValue) as info:
            clean(value)
        messages.append(info.value.message)
    assert all("ي" not in m and "ك" not in m for m in messages)


# National code ----------------------------------------------------------------------------


@pytest.mark.parametrize("code", WELL_KNOWN_CODES)
def test_well_known_codes_are_valid(code: str) -> None:
    assert passes_checksum(code)
    assert clean_national_code(code) == code


def test_generated_codes_are_valid() -> None:
    for code in generated_codes(300):
        assert clean_national_code(code) == code
        assert national_code_check_digit(code[:9]) == int(code[9])


def test_check_digit_of_small_remainders() -> None:
    # remainder 0 → check 0, remainder 1 → check 1 (the "r if r < 2" branch).
    codes = generated_codes(2000)
    remainders = {sum(int(c[i]) * (10 - i) for i in range(9)) % 11 for c in codes}
    assert {0, 1} <= remainders
    for code in codes:
        assert clean_national_code(code) == code


def single_digit_variants(code: str) -> list[str]:
    """Every code differing from `code` in exactly one digit."""
    return [
        code[:position] + digit + code[position + 1 :]
        for position in range(10)
        for digit in "0123456789"
        if digit != code[position]
    ]


def remainder(code: str) -> int:
    return sum(int(code[i]) * (10 - i) for i in range(9)) % 11


CHECK_NOT_ONE = [c for c in generated_codes(60, seed=7) if c[9] != "1"][:20]


@pytest.mark.parametrize("code", WELL_KNOWN_CODES + CHECK_NOT_ONE)
def test_every_single_wrong_digit_is_rejected(code: str) -> None:
    assert code[9] != "1"
    for wrong in single_digit_variants(code):
        assert not is_valid_national_code(wrong), wrong


def test_single_wrong_digit_limit_of_the_official_algorithm() -> None:
    """Remainders 1 and 10 both give check digit 1, so with check digit 1 a wrong digit
    that moves the remainder between them goes unnoticed; every other one is caught."""
    codes = [c for c in generated_codes(300, seed=11) if c[9] == "1"]
    assert codes
    for code in codes:
        for wrong in single_digit_variants(code):
            if is_valid_national_code(wrong):
                assert wrong[9] == "1"
                assert {remainder(code), remainder(wrong)} == {1, 10}, wrong


@pytest.mark.parametrize("digit", "0123456789")
def test_all_same_digits_are_rejected(digit: str) -> None:
    with pytest.raises(InvalidValue):
        clean_national_code(digit * 10)


def test_all_same_digits_would_pass_the_checksum() -> None:
    # The weights sum to 54 ≡ -1 (mod 11), so every repdigit passes: the explicit rule is needed.
    assert all(passes_checksum(digit * 10) for digit in "0123456789")


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("۰۴۹۹۳۷۰۸۹۹", "0499370899"),
        ("٠٤٩٩٣٧٠٨٩٩", "0499370899"),
        (" 0499370899 ", "0499370899"),
        ("\t0499370899\n", "0499370899"),
        ("049-937089-9", "0499370899"),
        ("049 937089 9", "0499370899"),
        ("\u200f۰۴۹۹۳۷۰۸۹۹\u200e", "0499370899"),
        ("499370899", "0499370899"),
        ("84575948", "0084575948"),
        ("۸۴۵۷۵۹۴۸", "0084575948"),
        (13542419, "0013542419"),
    ],
)
def test_national_code_input_forms(typed: object, expected: str) -> None:
    assert clean_national_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    [
        "0499370898",
        "4575948",  # 7 digits: too short to pad
        "00499370899",  # 11 digits
        "049937089a",
        "O499370899",  # letter O
        "۰۴۹۹۳۷۰۸۹۹۱",
        "04993.70899",
        "+0499370899",
    ],
)
def test_national_code_rejects(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        clean_national_code(typed)
    assert info.value.code == "national_code_invalid"


@pytest.mark.parametrize("typed", ["", "   ", None, "\u200c"])
def test_national_code_required(typed: object) -> None:
    with pytest.raises(InvalidValue) as info:
        clean_national_code(typed)
    assert info.value.code == "national_code_required"


def test_is_valid_national_code() -> None:
    assert is_valid_national_code("0499370899")
    assert not is_valid_national_code("0499370898")
    assert not is_valid_national_code("")


# Mobile -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "typed",
    [
        "09121234567",
        "9121234567",
        "+989121234567",
        "00989121234567",
        "989121234567",
        "0912 123 4567",
        "0912-123-4567",
        "+98 912 123 4567",
        "+98 (912) 123-4567",
        "0098-912-123-4567",
        "۰۹۱۲۱۲۳۴۵۶۷",
        "٠٩١٢١٢٣٤٥٦٧",
        "+۹۸۹۱۲۱۲۳۴۵۶۷",
        "  ۰۹۱۲ ۱۲۳ ۴۵۶۷  ",
        "\u202a+98 912 123 4567\u202c",
    ],
)
def test_mobile_forms(typed: str) -> None:
    assert clean_mobile(typed) == "09121234567"


@pytest.mark.parametrize("typed", ["09011234567", "09301234567", "09901234567", "09981234567"])
def test_mobile_operators(typed: str) -> None:
    assert clean_mobile(typed) == typed


@pytest.mark.parametrize(
    "typed",
    [
        "0912123456",  # 10 digits with 0
        "091212345678",  # 12 digits with 0
        "912123456",  # 9 digits
        "0912123456a",
        "+9809121234567",  # +98 then trunk 0 as well
        "+19121234567",  # another country
        "0912+1234567",
        "00912123456",
        "123",
    ],
)
def test_mobile_rejects(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        clean_mobile(typed)
    assert info.value.code == "mobile_invalid"


@pytest.mark.parametrize(
    "typed", ["02112345678", "021-12345678", "+982112345678", "00983112345678", "2112345678"]
)
def test_mobile_rejects_landlines(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        clean_mobile(typed)
    assert info.value.code == "mobile_landline"
    assert "ثابت" in info.value.message


@pytest.mark.parametrize("typed", ["", " ", None])
def test_mobile_required(typed: object) -> None:
    with pytest.raises(InvalidValue) as info:
        clean_mobile(typed)
    assert info.value.code == "mobile_required"


def test_is_valid_mobile() -> None:
    assert is_valid_mobile("+989121234567")
    assert not is_valid_mobile("02112345678")


# Postal code ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("1193653471", "1193653471"),
        ("11936-53471", "1193653471"),
        ("11936 53471", "1193653471"),
        ("۱۱۹۳۶-۵۳۴۷۱", "1193653471"),
        ("١١٩٣٦٥٣٤٧١", "1193653471"),
        (" 1193653471 ", "1193653471"),
        ("0123456789", "0123456789"),  # no structural rules beyond ten digits
    ],
)
def test_postal_code_forms(typed: str, expected: str) -> None:
    assert clean_postal_code(typed) == expected


@pytest.mark.parametrize(
    "typed",
    ["119365347", "11936534712", "11936-5347a", "1111111111", "0000000000", "۵۵۵۵۵۵۵۵۵۵"],
)
def test_postal_code_rejects(typed: str) -> None:
    with pytest.raises(InvalidValue) as info:
        clean_postal_code(typed)
    assert info.value.code == "postal_code_invalid"


def test_postal_code_required() -> None:
    with pytest.raises(InvalidValue) as info:
        clean_postal_code("  ")
    assert info.value.code == "postal_code_required"


def test_is_valid_postal_code() -> None:
    assert is_valid_postal_code("11936-53471")
    assert not is_valid_postal_code("1193")
