"""Validators of Iranian identifiers: national code, mobile number, postal code.

Each `clean_*` function takes what a citizen typed — Persian, Arabic-Indic or ASCII digits,
surrounding spaces, spaces or dashes between digit groups, invisible bidi marks from a copy
and paste — and returns the canonical ASCII form, or raises `InvalidValue` carrying a Persian
sentence for the citizen (`message`) and a stable error code for the API (`code`).
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable

from shared.text import to_ascii_digits

# Characters allowed between digit groups: spaces and the dashes people type.
_SEPARATORS = frozenset(" \t-_\u2010\u2011\u2012\u2013\u2014\u2212\u00a0\u202f\u200c")
# A phone number may also group its area or operator code in parentheses.
_PHONE_SEPARATORS = _SEPARATORS | {"(", ")"}


class InvalidValue(ValueError):
    """A value the citizen typed is not valid; `message` says why, in Persian."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _digits(value: object, separators: frozenset[str] = _SEPARATORS) -> str:
    """ASCII form of `value` with separators and format characters removed."""
    text = to_ascii_digits("" if value is None else str(value)).strip()
    return "".join(ch for ch in text if ch not in separators and unicodedata.category(ch) != "Cf")


def _is_number(s: str) -> bool:
    """True if `s` is a non-empty run of ASCII digits."""
    return s.isascii() and s.isdigit()


# National code ----------------------------------------------------------------------------

NATIONAL_CODE_REQUIRED = "لطفاً کد ملی را وارد کنید."
NATIONAL_CODE_INVALID = "کد ملی واردشده معتبر نیست؛ لطفاً ده رقم کد ملی خود را دوباره بررسی کنید."


def national_code_check_digit(first_nine: str) -> int:
    """The check digit of a national code's first nine digits (official algorithm)."""
    total = sum(int(digit) * (10 - i) for i, digit in enumerate(first_nine))
    remainder = total % 11
    return remainder if remainder < 2 else 11 - remainder


def clean_national_code(value: object) -> str:
    """Return the 10-digit national code, or raise InvalidValue.

    Codes of 8 or 9 digits are left-padded with zeros: national codes starting with zeros
    are often written (and stored by other systems) without them. A code of ten identical
    digits passes the checksum but is never issued, so it is rejected.
    """
    code = _digits(value)
    if not code:
        raise InvalidValue("national_code_required", NATIONAL_CODE_REQUIRED)
    if not _is_number(code) or not 8 <= len(code) <= 10:
        raise InvalidValue("national_code_invalid", NATIONAL_CODE_INVALID)
    code = code.zfill(10)
    if len(set(code)) == 1 or national_code_check_digit(code[:9]) != int(code[9]):
        raise InvalidValue("national_code_invalid", NATIONAL_CODE_INVALID)
    return code


# Mobile number ----------------------------------------------------------------------------

MOBILE_REQUIRED = "لطفاً شماره تلفن همراه را وارد کنید."
MOBILE_INVALID = "شماره تلفن همراه واردشده معتبر نیست؛ لطفاً آن را به شکل ۰۹۱۲۳۴۵۶۷۸۹ وارد کنید."
MOBILE_LANDLINE = "این شماره تلفن ثابت است؛ لطفاً شماره تلفن همراه خود را وارد کنید."

# International and national prefixes, stripped before the 10-digit subscriber number.
_MOBILE_PREFIXES = ("0098", "98", "0")


def _national_number(number: str) -> str:
    """The number without its country or trunk prefix, by total length."""
    for prefix in _MOBILE_PREFIXES:
        if number.startswith(prefix) and len(number) == len(prefix) + 10:
            return number[len(prefix) :]
    return number


def clean_mobile(value: object) -> str:
    """Return the mobile number as "09xxxxxxxxx", or raise InvalidValue.

    Accepts 09xxxxxxxxx, 9xxxxxxxxx, 989xxxxxxxxx, +989xxxxxxxxx and 00989xxxxxxxxx, with
    spaces, dashes or parentheses between groups, in any digit script. A valid landline
    number gets its own message.
    """
    number = _digits(value, _PHONE_SEPARATORS)
    if not number:
        raise InvalidValue("mobile_required", MOBILE_REQUIRED)
    if number.startswith("+"):
        number = "00" + number[1:]
    national = _national_number(number)
    if not _is_number(national) or len(national) != 10 or national[0] == "0":
        raise InvalidValue("mobile_invalid", MOBILE_INVALID)
    if national[0] != "9":  # Iranian area codes start with 1–8: a landline
        raise InvalidValue("mobile_landline", MOBILE_LANDLINE)
    return "0" + national


# Postal code ------------------------------------------------------------------------------

POSTAL_CODE_REQUIRED = "لطفاً کد پستی را وارد کنید."
POSTAL_CODE_INVALID = "کد پستی واردشده معتبر نیست؛ کد پستی باید ده رقم باشد."


def clean_postal_code(value: object) -> str:
    """Return the 10-digit postal code, or raise InvalidValue.

    Only the length and digits are checked (and ten identical digits rejected): stricter
    structural rules risk rejecting real codes.
    """
    code = _digits(value)
    if not code:
        raise InvalidValue("postal_code_required", POSTAL_CODE_REQUIRED)
    if not _is_number(code) or len(code) != 10 or len(set(code)) == 1:
        raise InvalidValue("postal_code_invalid", POSTAL_CODE_INVALID)
    return code


# Convenience ------------------------------------------------------------------------------


def is_valid_national_code(value: object) -> bool:
    """True if `clean_national_code` accepts `value`."""
    return _accepts(clean_national_code, value)


def is_valid_mobile(value: object) -> bool:
    """True if `clean_mobile` accepts `value`."""
    return _accepts(clean_mobile, value)


def is_valid_postal_code(value: object) -> bool:
    """True if `clean_postal_code` accepts `value`."""
    return _accepts(clean_postal_code, value)


def _accepts(clean: Callable[[object], str], value: object) -> bool:
    """True if the cleaner `clean` returns for `value` instead of raising InvalidValue."""
    try:
        clean(value)
    except InvalidValue:
        return False
    return True
