"""Tracking codes (کد رهگیری): 16 digits that a kiosk can hand out with no network.

A code is a 2-digit issuer, 13 random digits and a Damm check digit:

    II RRRRRRRRRRRRR C      printed in groups of four: «۰۱۲۳ ۴۵۶۷ ۸۹۰۱ ۲۳۴۵»

- The issuer is 00 for the server and the online desk, 01–99 for the kiosks as registered,
  so two issuers can never hand out the same code.
- The 13 random digits come from `secrets` (uniform), so codes cannot be guessed by counting.
  With N stored codes of one issuer, a random well-formed guess hits one of them with
  probability N / 10**13: one million stored codes give odds of 1 in 10 million. The public
  tracking page is rate-limited as well.
- The check digit (Damm's algorithm) catches every single mistyped digit and every swap of
  two adjacent digits, before any lookup.

Input accepts Persian, Arabic-Indic and ASCII digits with spaces, dashes and the invisible
marks that copy and paste brings; the canonical form is 16 ASCII digits.
"""

from __future__ import annotations

import secrets

from shared.text import to_ascii_digits, to_persian_digits

CODE_LENGTH = 16
ISSUER_DIGITS = 2
RANDOM_DIGITS = 13
SERVER_ISSUER = 0
MAX_ISSUER = 99
MAX_INPUT_LENGTH = 64
GROUP_SIZE = 4

LRI = "\u2066"  # LEFT-TO-RIGHT ISOLATE
PDI = "\u2069"  # POP DIRECTIONAL ISOLATE

MALFORMED = "tracking_code_malformed"
CHECK_FAILED = "tracking_code_check_failed"

MESSAGE_REQUIRED = "لطفاً کد رهگیری را وارد کنید."
MESSAGE_MALFORMED = "کد رهگیری باید ۱۶ رقم باشد."
MESSAGE_CHECK_FAILED = "کد رهگیری نادرست است؛ لطفاً رقم‌ها را دوباره بررسی کنید."

# Damm's quasigroup of order 10 (weakly totally anti-symmetric, zero diagonal).
_DAMM_TABLE = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)

# Removed before reading the digits: spaces, dashes, NBSPs, ZWNJ and bidi/format marks.
_IGNORED = frozenset(
    " \t\r\n-_\u00a0\u202f\u2007"
    "\u2010\u2011\u2012\u2013\u2014\u2212"
    "\u200c\u200e\u200f\ufeff"
    "\u202a\u202b\u202c\u202d\u202e"
    "\u2066\u2067\u2068\u2069"
)



def _character_class(chars: frozenset[str]) -> str:
    return "".join("\\" + ch if ch in "\\]^-[" else ch for ch in sorted(chars))


# What `normalize` reads, as a regular expression (JSON Schema's and Python's alike) for the
# API's document: 16 digits among the ignored characters. The check digit is `normalize`'s.
INPUT_PATTERN = (f"^[{_character_class(_IGNORED)}]*"
                 f"([0-9۰-۹٠-٩][{_character_class(_IGNORED)}]*){{{CODE_LENGTH}}}$")

class InvalidCode(ValueError):
    """A tracking code that cannot be right; `message` is Persian, `code` is stable."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


def _is_ascii_digits(s: str) -> bool:
    """True if `s` is a non-empty run of ASCII digits."""
    return s.isascii() and s.isdigit()


def _damm_interim(digits: str) -> int:
    """Run `digits` through Damm's table; ValueError unless they are ASCII digits."""
    if digits and not _is_ascii_digits(digits):
        raise ValueError(f"not ASCII digits: {digits!r}")
    interim = 0
    for ch in digits:
        interim = _DAMM_TABLE[interim][ord(ch) - 48]
    return interim


def damm_check_digit(digits: str) -> int:
    """The Damm check digit of a string of ASCII digits ("572" → 4)."""
    return _damm_interim(digits)


def damm_valid(digits: str) -> bool:
    """True if `digits` (ASCII, check digit last) passes Damm's check."""
    return _is_ascii_digits(digits) and _damm_interim(digits) == 0


def new_code(issuer: int) -> str:
    """A fresh tracking code of `issuer` (0 = server/online desk, 1–99 = kiosks).

    Pure computation, no I/O: an offline kiosk can hand one out. Uniqueness within an
    issuer is the caller's store's job: it refuses a code it already holds and the caller
    draws again (a repeat has probability N / 10**13 with N codes stored).
    Raises ValueError for an issuer outside 0..99 (TypeError for a non-integer).
    """
    if isinstance(issuer, bool) or not isinstance(issuer, int):
        raise TypeError(f"issuer must be an int, not {type(issuer).__name__}")
    if not SERVER_ISSUER <= issuer <= MAX_ISSUER:
        raise ValueError(f"issuer must be between 0 and 99, not {issuer}")
    body = f"{issuer:02d}{secrets.randbelow(10**RANDOM_DIGITS):013d}"
    return body + str(damm_check_digit(body))


def normalize(code: str) -> str:
    """The canonical 16 ASCII digits of a typed or pasted code, or raise InvalidCode.

    Accepts Persian, Arabic-Indic and ASCII digits, spaces, dashes, NBSP, ZWNJ and bidi
    marks. Input longer than 64 characters is refused before any other work.
    """
    if not isinstance(code, str) or len(code) > MAX_INPUT_LENGTH:
        raise InvalidCode(MALFORMED, MESSAGE_MALFORMED)
    digits = to_ascii_digits("".join(ch for ch in code if ch not in _IGNORED))
    if not digits:
        raise InvalidCode(MALFORMED, MESSAGE_REQUIRED)
    if len(digits) != CODE_LENGTH or not _is_ascii_digits(digits):
        raise InvalidCode(MALFORMED, MESSAGE_MALFORMED)
    if not damm_valid(digits):
        raise InvalidCode(CHECK_FAILED, MESSAGE_CHECK_FAILED)
    return digits


def is_valid(code: str) -> bool:
    """True if `normalize` accepts `code`."""
    try:
        normalize(code)
    except InvalidCode:
        return False
    return True


def issuer_of(code: str) -> int:
    """The issuer number (0–99) of a valid code; raises InvalidCode otherwise."""
    return int(normalize(code)[:ISSUER_DIGITS])


def format_code(code: str, persian: bool = False) -> str:
    """The code in groups of four: "1234 5678 9012 3456", or with Persian digits.

    The groups must read left to right even in right-to-left text: callers put the result
    in an LTR isolate (in HTML `<bdi dir="ltr">`), or use `format_code_rtl_safe`.
    Raises InvalidCode for an invalid code.
    """
    digits = normalize(code)
    grouped = " ".join(digits[i : i + GROUP_SIZE] for i in range(0, CODE_LENGTH, GROUP_SIZE))
    return to_persian_digits(grouped) if persian else grouped


def format_code_rtl_safe(code: str, persian: bool = True) -> str:
    """`format_code` wrapped in LRI … PDI, so its groups keep their order inside Persian text."""
    return f"{LRI}{format_code(code, persian)}{PDI}"
