"""How many SMS parts a text takes, and what a part is billed as.

A text in GSM-7 characters (plain Latin) fits 160 characters in one part and 153 in each part
of a longer one; anything else — Persian — is sent as UCS-2: 70 characters in one part, 67 in
each part of a longer one. Characters outside the Basic Multilingual Plane count twice.
"""

from __future__ import annotations

import math

GSM7 = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà")


def units(text: str) -> tuple[int, bool]:
    """(length in the encoding's units, whether the text needs UCS-2)."""
    if all(ch in GSM7 for ch in text):
        return len(text), False
    return len(text.encode("utf-16-le")) // 2, True


def parts(text: str) -> int:
    """The number of parts `text` is sent (and billed) as; at least one."""
    length, ucs2 = units(text)
    single, multi = (70, 67) if ucs2 else (160, 153)
    if length <= single:
        return 1
    return math.ceil(length / multi)
