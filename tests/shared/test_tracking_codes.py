"""Tests of shared.tracking_codes: Damm check digit, code generation, parsing and display."""

from __future__ import annotations

import random
from collections import Counter

import pytest

from shared.text import to_persian_digits
from shared.tracking_codes import (
    CHECK_FAILED,
    MALFORMED,
    MESSAGE_CHECK_FAILED,
    MESSAGE_MALFORMED,
    InvalidCode,
    damm_check_digit,
    damm_valid,
    format_code,
    format_code_rtl_safe,
    is_valid,
    issuer_of,
    new_code,
    normalize,
)

ARABIC_INDIC = str.maketrans("0123456789", "٠١٢٣٤٥٦٧٨٩")


def random_codes(count: int, seed: int = 1405) -> list[str]:
    """Valid codes built from a seeded generator (reproducible), issuers 0–99."""
    rng = random.Random(seed)
    codes = []
    for _ in range(count):
        body = f"{rng.randrange(100):02d}" + "".join(rng.choice("0123456789") for _ in range(13))
        codes.append(body + str(damm_check_digit(body)))
    return codes


# Damm -------------------------------------------------------------------------------------


def test_damm_known_vectors() -> None:
    # The worked example of Damm's algorithm: 572 → 4.
    assert damm_check_digit("572") == 4
    assert damm_valid("5724")
    assert not damm_valid("5723")
    assert not damm_valid("5274")
    assert damm_check_digit("") == 0
    assert damm_check_digit("0") == 0
    assert damm_check_digit("1") == 3
    assert damm_valid("0000000000000000")


def test_damm_check_digit_makes_any_string_valid() -> None:
    rng = random.Random(7)
    for length in range(1, 30):
        digits = "".join(rng.choice("0123456789") for _ in range(length))
        assert damm_valid(digits + str(damm_check_digit(digits)))


def test_damm_rejects_non_digits() -> None:
    with pytest.raises(ValueError):
        damm_check_digit("12a")
    with pytest.raises(ValueError):
        damm_check_digit("۱۲۳")  # the helpers take ASCII; normalize() converts first
    assert not damm_valid("")
    assert not damm_valid("57a4")
    assert not damm_valid("۵۷۲۴")


@pytest.mark.parametrize("code", random_codes(200))
def test_every_single_digit_substitution_is_rejected(code: str) -> None:
    assert is_valid(code)
    for position in range(16):
        for digit in "0123456789":
            if digit != code[position]:
                wrong = code[:position] + digit + code[position + 1 :]
                assert not damm_valid(wrong)
                with pytest.raises(InvalidCode) as info:
                    normalize(wrong)
                assert info.value.code == CHECK_FAILED


@pytest.mark.parametrize("code", random_codes(200, seed=99))
def test_every_adjacent_transposition_is_rejected(code: str) -> None:
    for position in range(15):
        a, b = code[position], code[position + 1]
        if a != b:
            swapped = code[:position] + b + a + code[position + 2 :]
            assert not is_valid(swapped)


def test_adjacent_transpositions_exhaustively_from_every_state() -> None:
    # A swap anywhere reaches the two digits with some interim state; row 0 of the table is a
    # permutation, so a one-digit prefix reaches every state. After the swap the states
    # differ, and the table's columns are permutations too, so they stay different.
    for prefix in "0123456789":
        for a in "0123456789":
            for b in "0123456789":
                if a != b:
                    assert damm_check_digit(prefix + a + b) != damm_check_digit(prefix + b + a)
            check = str(damm_check_digit(prefix + a))
            if check != a:  # swapping the last data digit with the check digit
                assert not damm_valid(prefix + check + a)


# new_code ---------------------------------------------------------------------------------


@pytest.mark.parametrize("issuer", [0, 1, 42, 99])
def test_new_code_has_issuer_prefix_and_is_valid(issuer: int) -> None:
    for _ in range(200):
        code = new_code(issuer)
        assert len(code) == 16 and code.isascii() and code.isdigit()
        assert code.startswith(f"{issuer:02d}")
        assert is_valid(code)
        assert issuer_of(code) == issuer
        assert normalize(code) == code


@pytest.mark.parametrize("issuer", [-1, 100, 1000, -100])
def test_new_code_rejects_issuer_out_of_range(issuer: int) -> None:
    with pytest.raises(ValueError):
        new_code(issuer)


@pytest.mark.parametrize("issuer", [True, "5", 5.0, None])
def test_new_code_rejects_non_integer_issuer(issuer: object) -> None:
    with pytest.raises(TypeError):
        new_code(issuer)  # type: ignore[arg-type]


def test_new_code_random_part_looks_uniform() -> None:
    codes = [new_code(7) for _ in range(5000)]
    assert len(set(codes)) == len(codes)
    random_parts = [code[2:15] for code in codes]
    # Every position takes every digit; each digit count is near 500 of 5000 (loose bounds:
    # a failure here means a broken generator, not bad luck, at odds far below 1 in 10**9).
    for position in range(13):
        counts = Counter(part[position] for part in random_parts)
        assert set(counts) == set("0123456789")
        assert all(350 < n < 650 for n in counts.values()), (position, counts)
    assert len({code[15] for code in codes}) == 10


# normalize --------------------------------------------------------------------------------

CODE = random_codes(1, seed=3)[0]


def grouped(code: str, sep: str = " ") -> str:
    return sep.join(code[i : i + 4] for i in range(0, 16, 4))


@pytest.mark.parametrize(
    "typed",
    [
        CODE,
        grouped(CODE),
        grouped(CODE, "-"),
        grouped(CODE, " - "),
        grouped(CODE, "\u00a0"),
        grouped(CODE, "\u2013"),
        f"  {CODE}  ",
        to_persian_digits(CODE),
        to_persian_digits(grouped(CODE)),
        CODE.translate(ARABIC_INDIC),
        grouped(CODE.translate(ARABIC_INDIC), "-"),
        to_persian_digits(CODE[:8]) + CODE[8:],
        "\u2066" + to_persian_digits(grouped(CODE)) + "\u2069",
        "\u200f" + CODE + "\u200e",
        "\u202a" + CODE + "\u202c",
        "\u202b" + CODE[:8] + "\u200c" + CODE[8:] + "\u202c",
        "\ufeff" + CODE,
        grouped(CODE, "\u2067") + "\u2068\u202d\u202e",
        CODE + "\n",
    ],
)
def test_normalize_accepts_digit_scripts_separators_and_invisible_marks(typed: str) -> None:
    assert normalize(typed) == CODE
    assert is_valid(typed)


@pytest.mark.parametrize(
    "typed",
    [
        "",
        "   ",
        "\u200c\u200f",
        CODE[:15],
        CODE + "0",
        CODE[:15] + "a",
        "abcd efgh ijkl mnop",
        CODE[:8] + "O" + CODE[9:],  # letter O for zero
        CODE[:8] + "." + CODE[8:],
        CODE[:8] + "/" + CODE[8:],
        "١٢٣",
        "1" * 10_000,
        " " * 10_000 + CODE,
        CODE + "\u200b",  # zero-width space is not in the accepted set
        "１２３４５６７８９０１２３４５６",  # full-width digits
        "\U0001d7ce" * 16,  # mathematical bold digits: isdigit() but not accepted
    ],
)
def test_normalize_rejects_malformed_input(typed: str) -> None:
    with pytest.raises(InvalidCode) as info:
        normalize(typed)
    assert info.value.code == MALFORMED
    assert isinstance(info.value, ValueError)
    assert not is_valid(typed)


def test_malformed_messages_are_persian() -> None:
    with pytest.raises(InvalidCode) as info:
        normalize(CODE[:15])
    assert info.value.message == MESSAGE_MALFORMED == "کد رهگیری باید ۱۶ رقم باشد."
    assert str(info.value) == MESSAGE_MALFORMED
    with pytest.raises(InvalidCode) as info:
        normalize("")
    assert info.value.message == "لطفاً کد رهگیری را وارد کنید."


def test_normalize_caps_length_even_when_mostly_separators() -> None:
    padded = CODE + " " * 48
    assert len(padded) == 64 and normalize(padded) == CODE
    with pytest.raises(InvalidCode) as info:
        normalize(padded + " ")
    assert info.value.code == MALFORMED


@pytest.mark.parametrize("value", [None, 1234567890123456, b"1234567890123456", ["1"]])
def test_normalize_non_string_is_malformed(value: object) -> None:
    with pytest.raises(InvalidCode) as info:
        normalize(value)  # type: ignore[arg-type]
    assert info.value.code == MALFORMED


def test_bad_check_digit_message() -> None:
    wrong = CODE[:15] + str((int(CODE[15]) + 1) % 10)
    with pytest.raises(InvalidCode) as info:
        normalize(to_persian_digits(grouped(wrong)))
    assert info.value.code == CHECK_FAILED
    assert info.value.message == MESSAGE_CHECK_FAILED
    assert "رقم‌ها" in info.value.message  # with ZWNJ


# issuer_of --------------------------------------------------------------------------------


def test_issuer_of() -> None:
    for issuer in (0, 1, 9, 10, 99):
        code = new_code(issuer)
        assert issuer_of(to_persian_digits(grouped(code))) == issuer
    with pytest.raises(InvalidCode):
        issuer_of("0000")


# Display ----------------------------------------------------------------------------------


def test_format_code_ascii_and_persian() -> None:
    code = "5724" + "000000000000"
    code = code[:15] + str(damm_check_digit(code[:15]))
    assert format_code(code) == f"{code[0:4]} {code[4:8]} {code[8:12]} {code[12:16]}"
    assert format_code(code, persian=True) == to_persian_digits(format_code(code))
    assert format_code(to_persian_digits(code)) == format_code(code)


def test_format_code_example() -> None:
    body = "123456789012345"
    code = body + str(damm_check_digit(body))
    assert format_code(code) == f"1234 5678 9012 345{code[15]}"
    persian = format_code(code, persian=True)
    assert persian.startswith("۱۲۳۴ ۵۶۷۸ ۹۰۱۲ ۳۴۵")
    assert persian.count(" ") == 3


def test_format_code_rtl_safe_wraps_in_ltr_isolate() -> None:
    safe = format_code_rtl_safe(CODE)
    assert safe[0] == "\u2066" and safe[-1] == "\u2069"
    assert safe[1:-1] == format_code(CODE, persian=True)
    assert format_code_rtl_safe(CODE, persian=False)[1:-1] == format_code(CODE)
    # What is printed or shown can be pasted back.
    assert normalize(safe) == CODE


def test_format_code_rejects_invalid() -> None:
    with pytest.raises(InvalidCode):
        format_code("1234")
    with pytest.raises(InvalidCode):
        format_code_rtl_safe(CODE[:15] + str((int(CODE[15]) + 5) % 10))
