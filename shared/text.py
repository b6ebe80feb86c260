"""Persian text: digits, numbers, durations, and the one normalisation used for search.

Display helpers turn values into Persian: Persian digits (۰–۹), the Persian thousands
separator «٬», numbers in words, and service durations («۵ روز کاری»).

`normalize` is the single normalisation for search and matching, so that whatever a citizen
types — Arabic ي/ك or Persian ی/ک, with or without ZWNJ, with diacritics, in any digit
script — matches the catalog's text. `tokens` splits the normalised text into words, and
`compact` removes every space, so «می‌شود», «می شود» and «میشود» compare equal.
"""

from __future__ import annotations

import string
import unicodedata
from decimal import Decimal

from num2words import num2words

PERSIAN_DIGITS = "۰۱۲۳۴۵۶۷۸۹"
ARABIC_INDIC_DIGITS = "٠١٢٣٤٥٦٧٨٩"
ASCII_DIGITS = "0123456789"

ZWNJ = "\u200c"
THOUSANDS_SEPARATOR = "\u066c"  # «٬»
DECIMAL_SEPARATOR = "\u066b"  # «٫»
RIAL = "ریال"

_TO_ASCII = str.maketrans(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS, ASCII_DIGITS * 2)
_TO_PERSIAN = str.maketrans(ASCII_DIGITS + ARABIC_INDIC_DIGITS, PERSIAN_DIGITS * 2)

_UNIT_WORDS = {"working_days": "روز کاری", "working_hours": "ساعت کاری"}

# Largest magnitude num2words' Persian spells correctly (it returns "" from 10**18 on).
_MAX_WORDS = 10**18 - 1


def _build_fold_table() -> dict[int, str | None]:
    """Build the str.translate table of `normalize` (applied after NFKC and casefold)."""
    table: dict[int, str | None] = {}
    for letters, target in (
        ("\u064a\u0649\u0626", "ی"),  # ي ى ئ
        ("\u0643\u06aa", "ک"),  # ك ڪ
        ("\u0629\u06c0\u06d5", "ه"),  # ة ۀ ە
        ("\u0622\u0623\u0625\u0671", "ا"),  # آ أ إ ٱ
        ("\u0624", "و"),  # ؤ
    ):
        table.update({ord(ch): target for ch in letters})
    marks = [
        *range(0x0610, 0x061B),  # Arabic signs above/below (honorifics)
        *range(0x064B, 0x0660),  # harakat, tanwin, shadda, sukun, hamza marks
        0x0670,  # superscript alef
        *range(0x06D6, 0x06EE),  # Quranic annotation marks
        0x0640,  # tatweel
    ]
    table.update({cp: None for cp in marks})
    table.update({ord(ch): " " for ch in string.punctuation})
    table[ord(ZWNJ)] = " "
    table.update(
        {ord(d): ASCII_DIGITS[i % 10] for i, d in enumerate(PERSIAN_DIGITS + ARABIC_INDIC_DIGITS)}
    )
    return table


_FOLD = _build_fold_table()


def to_ascii_digits(s: str) -> str:
    """Turn Persian (۰–۹) and Arabic-Indic (٠–٩) digits into ASCII digits."""
    return s.translate(_TO_ASCII)


def to_persian_digits(value: object) -> str:
    """Return `str(value)` with ASCII and Arabic-Indic digits turned into Persian digits.

    Only digits change in a string. For a float or Decimal value the decimal point also
    becomes the Persian decimal separator «٫» (2.5 → «۲٫۵»).
    """
    text = str(value)
    if isinstance(value, (float, Decimal)):
        text = text.replace(".", DECIMAL_SEPARATOR)
    return text.translate(_TO_PERSIAN)


def format_number(n: int) -> str:
    """Format an integer with Persian digits and «٬» between thousands: «۱٬۲۵۰٬۰۰۰».

    A negative number starts with an ASCII '-' in logical order (placing it is the
    bidi renderer's job).
    """
    return to_persian_digits(f"{n:,}".replace(",", THOUSANDS_SEPARATOR))


def format_rials(amount: int) -> str:
    """Format an amount of money in rials: «۱٬۲۵۰٬۰۰۰ ریال»."""
    return f"{format_number(amount)} {RIAL}"


def number_in_words(n: int) -> str:
    """Spell an integer in Persian words: 21 → «بیست و یک», -5 → «منفی پنج»."""
    if abs(n) > _MAX_WORDS:
        raise ValueError(f"number too large to spell out: {n}")
    words: str = num2words(n, lang="fa")
    return words


def _unit_words(unit: object) -> str:
    """Persian words of a duration unit; accepts the string or a str-valued enum member."""
    key = getattr(unit, "value", unit)
    try:
        return _UNIT_WORDS[key]  # type: ignore[index]
    except (KeyError, TypeError):
        raise ValueError(f"unknown duration unit: {unit!r}") from None


def format_duration(value: int, unit: str) -> str:
    """Format a duration with Persian digits: (5, "working_days") → «۵ روز کاری»."""
    return f"{format_number(value)} {_unit_words(unit)}"


def duration_in_words(value: int, unit: str) -> str:
    """Spell a duration in words: (5, "working_days") → «پنج روز کاری»."""
    return f"{number_in_words(value)} {_unit_words(unit)}"


def _fold_char(ch: str) -> str:
    """Drop a format character, turn punctuation into a space, keep anything else."""
    category = unicodedata.category(ch)
    if category == "Cf":
        return ""
    return " " if category.startswith("P") else ch


def normalize(s: str) -> str:
    """Normalise text for search and matching.

    Steps: NFKC (folds Arabic presentation forms and ligatures, full-width forms, NBSP),
    casefold; Arabic ي ى ئ → ی, ك → ک, ة ۀ ە → ه, آ أ إ ٱ → ا, ؤ → و; diacritics and tatweel
    removed; ZWNJ → space, every other format character (ZWJ, zero-width space, bidi
    controls, BOM, soft hyphen) removed; Persian and Arabic-Indic digits → ASCII; punctuation
    (ASCII and Unicode, e.g. «،؛؟») → space; whitespace collapsed and stripped.
    """
    text = unicodedata.normalize("NFKC", s).casefold().translate(_FOLD)
    return " ".join("".join(_fold_char(ch) for ch in text).split())


def tokens(s: str) -> list[str]:
    """Normalise `s` and split it into words."""
    return normalize(s).split()


def compact(s: str) -> str:
    """Normalise `s` and drop every space, to match across ZWNJ/space differences."""
    return normalize(s).replace(" ", "")


# The Persian alphabet in dictionary order; Unicode's order puts پ چ ژ گ after every Arabic
# letter, so sorting by code point misfiles them.
PERSIAN_ALPHABET = "ابپتثجچحخدذرزژسشصضطظعغفقکگلمنوهی"
_ALPHABET_RANK = {ch: rank for rank, ch in enumerate(PERSIAN_ALPHABET)}


def persian_sort_key(s: str) -> tuple[int, ...]:
    """A key that sorts Persian text in dictionary order: after `normalize` (so ي and ی, ك
    and ک, آ and ا, ZWNJ and space sort alike), spaces first, then digits, then the Persian
    letters in alphabet order, then anything else by code point."""
    key = []
    for ch in normalize(s):
        if ch == " ":
            key.append(0)
        elif ch.isdigit():
            key.append(1 + int(ch))
        elif ch in _ALPHABET_RANK:
            key.append(20 + _ALPHABET_RANK[ch])
        else:
            key.append(100 + ord(ch))
    return tuple(key)
