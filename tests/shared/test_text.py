"""Tests of shared.text: digits, number formatting, durations and search normalisation."""

from __future__ import annotations

from decimal import Decimal
from enum import Enum

import pytest

from shared.text import (
    compact,
    duration_in_words,
    format_duration,
    format_number,
    format_rials,
    normalize,
    number_in_words,
    to_ascii_digits,
    to_persian_digits,
    tokens,
)

ZWNJ = "\u200c"


# Digits -----------------------------------------------------------------------------------


def test_to_ascii_digits_converts_persian_and_arabic_indic() -> None:
    assert to_ascii_digits("۰۱۲۳۴۵۶۷۸۹") == "0123456789"
    assert to_ascii_digits("٠١٢٣٤٥٦٧٨٩") == "0123456789"
    assert to_ascii_digits("کد ۱۲-٣٤ ab 56") == "کد 12-34 ab 56"
    assert to_ascii_digits("") == ""


def test_to_persian_digits_converts_ascii_and_arabic_indic() -> None:
    assert to_persian_digits("0123456789") == "۰۱۲۳۴۵۶۷۸۹"
    assert to_persian_digits("٠١٢٣٤٥٦٧٨٩") == "۰۱۲۳۴۵۶۷۸۹"
    assert to_persian_digits(1405) == "۱۴۰۵"
    assert to_persian_digits("ساعت 14:30") == "ساعت ۱۴:۳۰"


def test_to_persian_digits_leaves_dots_in_strings() -> None:
    assert to_persian_digits("v1.2.3") == "v۱.۲.۳"


def test_to_persian_digits_uses_decimal_separator_for_numbers() -> None:
    assert to_persian_digits(2.5) == "۲٫۵"
    assert to_persian_digits(Decimal("12.75")) == "۱۲٫۷۵"


# Numbers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("n", "expected"),
    [
        (0, "۰"),
        (7, "۷"),
        (999, "۹۹۹"),
        (1000, "۱٬۰۰۰"),
        (1234567, "۱٬۲۳۴٬۵۶۷"),
        (1250000, "۱٬۲۵۰٬۰۰۰"),
        (-1, "-۱"),
        (-1234, "-۱٬۲۳۴"),
        (-999, "-۹۹۹"),
    ],
)
def test_format_number(n: int, expected: str) -> None:
    assert format_number(n) == expected


def test_format_number_uses_arabic_thousands_separator() -> None:
    assert "\u066c" in format_number(1000)
    assert "," not in format_number(1000)


def test_format_rials() -> None:
    assert format_rials(1250000) == "۱٬۲۵۰٬۰۰۰ ریال"
    assert format_rials(0) == "۰ ریال"


@pytest.mark.parametrize(
    ("n", "words"),
    [
        (0, "صفر"),
        (5, "پنج"),
        (12, "دوازده"),
        (21, "بیست و یک"),
        (100, "صد"),
        (101, "صد و یک"),
        (1000, "هزار"),
        (2000, "دو هزار"),
        (1250000, "یک میلیون و دویست و پنجاه هزار"),
        (-5, "منفی پنج"),
    ],
)
def test_number_in_words(n: int, words: str) -> None:
    assert number_in_words(n) == words


def test_number_in_words_uses_persian_letters() -> None:
    words = " ".join(number_in_words(n) for n in range(2001))
    assert "ي" not in words and "ك" not in words


def test_number_in_words_rejects_numbers_too_large() -> None:
    with pytest.raises(ValueError):
        number_in_words(10**18)


# Durations --------------------------------------------------------------------------------


class Unit(str, Enum):
    working_days = "working_days"
    working_hours = "working_hours"


def test_format_duration() -> None:
    assert format_duration(5, "working_days") == "۵ روز کاری"
    assert format_duration(48, "working_hours") == "۴۸ ساعت کاری"
    assert format_duration(1500, "working_hours") == "۱٬۵۰۰ ساعت کاری"


def test_duration_in_words() -> None:
    assert duration_in_words(5, "working_days") == "پنج روز کاری"
    assert duration_in_words(21, "working_hours") == "بیست و یک ساعت کاری"


def test_durations_accept_str_enum_units() -> None:
    assert format_duration(3, Unit.working_days) == "۳ روز کاری"
    assert duration_in_words(3, Unit.working_hours) == "سه ساعت کاری"


def test_durations_reject_unknown_units() -> None:
    with pytest.raises(ValueError):
        format_duration(5, "days")
    with pytest.raises(ValueError):
        duration_in_words(5, "calendar_days")


# Normalisation ----------------------------------------------------------------------------


def test_arabic_kaf_and_yeh_match_persian() -> None:
    assert normalize("كارت") == normalize("کارت") == "کارت"
    assert normalize("علي") == normalize("علی") == "علی"
    assert normalize("موسى") == "موسی"
    assert normalize("مسئول") == "مسیول"


def test_digits_in_every_script_normalize_equal() -> None:
    assert normalize("۱۲") == normalize("١٢") == normalize("12") == "12"


def test_zwnj_space_and_none_compact_equal() -> None:
    forms = [f"می{ZWNJ}شود", "می شود", "میشود"]
    assert {compact(f) for f in forms} == {"میشود"}
    assert normalize(f"می{ZWNJ}شود") == "می شود"


def test_diacritics_and_tatweel_are_removed() -> None:
    assert normalize("مُدیر") == "مدیر"
    assert normalize("مُدِیرِیَّت") == "مدیریت"
    assert normalize("کتاباً") == "کتابا"
    assert normalize("رحمٰن") == "رحمن"
    assert normalize("مـــدیر") == "مدیر"


@pytest.mark.parametrize("word", ["خانة", "خانۀ", "خانە", "خانه"])
def test_heh_variants_fold_to_heh(word: str) -> None:
    assert normalize(word) == "خانه"


def test_heh_with_separate_hamza_mark_folds_too() -> None:
    assert normalize("خانه\u0654") == "خانه"
    assert normalize("خانه\u0654 من") == normalize("خانۀ من")


@pytest.mark.parametrize("word", ["آب", "أب", "إب", "ٱب", "اب", "ا\u0653ب"])
def test_alef_variants_fold_to_alef(word: str) -> None:
    assert normalize(word) == "اب"


def test_waw_with_hamza_folds_to_waw() -> None:
    assert normalize("مؤسسه") == "موسسه"


def test_presentation_forms_are_folded() -> None:
    # «کتاب» in contextual presentation forms (keheh initial, teh medial, alef final, beh isolated).
    assert normalize("\ufb90\ufe98\ufe8e\ufe8f") == "کتاب"
    # Farsi yeh and Arabic yeh final forms, lam-alef ligature.
    assert normalize("\ufbfd") == "ی"
    assert normalize("\ufef2") == "ی"
    assert normalize("\ufefb") == "لا"
    assert normalize("\ufdfc") == "ریال"


def test_latin_is_casefolded() -> None:
    assert normalize("PDF Scan") == "pdf scan"
    assert normalize("Straße") == normalize("STRASSE")
    assert normalize("ＡＢＣ１２") == "abc12"


def test_punctuation_becomes_space() -> None:
    assert normalize("سلام، خوبی؟") == "سلام خوبی"
    assert normalize("الف؛ب") == "الف ب"
    assert normalize("«گذرنامه»") == "گذرنامه"
    assert normalize("a.b,c!d(e)f/g-h") == "a b c d e f g h"
    assert normalize("۱٬۲۵۰") == "1 250"


def test_invisible_characters_are_removed() -> None:
    invisible = (
        "\u200b\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff"
    )
    assert normalize(f"کا{invisible}رت") == "کارت"
    assert normalize("\u200fکارت\u200e") == "کارت"


def test_whitespace_is_collapsed_and_stripped() -> None:
    assert normalize("  کارت \t\n ملی\u00a0هوشمند  ") == "کارت ملی هوشمند"
    assert normalize(f"{ZWNJ}کارت{ZWNJ}{ZWNJ} ") == "کارت"


def test_empty_and_blank_strings() -> None:
    assert normalize("") == ""
    assert normalize(f"  {ZWNJ}\u200f ، ") == ""
    assert tokens("") == []
    assert compact("") == ""


def test_normalize_is_idempotent() -> None:
    samples = ["كارتِ مليّ؛ ۱۲٣", f"درخواست{ZWNJ}ها", "ﻻ ﷼", "  Mixed CASE  "]
    for sample in samples:
        once = normalize(sample)
        assert normalize(once) == once


def test_tokens() -> None:
    assert tokens(f"درخواست{ZWNJ}های  كارت، ملی") == ["درخواست", "های", "کارت", "ملی"]


def test_compact_matches_across_spacing_and_scripts() -> None:
    assert compact(f"کارت{ZWNJ}ملی ۱۲") == compact("كارت ملي 12") == "کارتملی12"


def test_persian_sort_key_follows_the_persian_alphabet() -> None:
    from shared.text import persian_sort_key

    words = ["گواهی", "پروانه", "کارت", "ثبت", "چاپ", "آزمون", "ژتون", "بازدید", "یادداشت"]
    assert sorted(words, key=persian_sort_key) == [
        "آزمون", "بازدید", "پروانه", "ثبت", "چاپ", "ژتون", "کارت", "گواهی", "یادداشت"]
    assert persian_sort_key("كارت") == persian_sort_key("کارت")
    assert persian_sort_key("کارت\u200cخوان") == persian_sort_key("کارت خوان")
    assert sorted(["کارتابل", "کارت راهنما"], key=persian_sort_key)[0] == "کارت راهنما"
