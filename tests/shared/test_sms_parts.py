"""SMS parts: Persian text is UCS-2 (70 in one part, 67 per part when longer)."""

from __future__ import annotations

from shared.sms import parts


def test_persian_text_fits_seventy_characters_in_one_part() -> None:
    assert parts("س" * 70) == 1
    assert parts("س" * 71) == 2
    assert parts("س" * 134) == 2
    assert parts("س" * 135) == 3


def test_plain_latin_text_fits_a_hundred_and_sixty() -> None:
    assert parts("a" * 160) == 1
    assert parts("a" * 161) == 2
    assert parts("") == 1


def test_one_persian_letter_makes_the_whole_text_ucs2() -> None:
    assert parts("a" * 69 + "س") == 1
    assert parts("a" * 70 + "س") == 2
