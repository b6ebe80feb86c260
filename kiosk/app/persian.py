"""Persian text for Kivy: wrap the logical text, then shape and reorder each line.

Kivy's text providers neither join Arabic-script letters nor reorder right-to-left text, and
when Kivy wraps a label itself it wraps the *visual* string, so a multi-line Persian text
comes out with its lines in reverse order. The rule here is therefore:

1. wrap the logical text (as typed, first letter first) to the width, measuring each word as
   it will be drawn;
2. shape each line with arabic_reshaper (letters take their joined forms);
3. reorder each line with the Unicode bidi algorithm (python-bidi) for display.

No Kivy import: the width of a text comes from a `measure` function (Kivy's, in the app).

python-bidi's Rust `get_display` does not mirror brackets, and its pure-Python algorithm
(which does, rule L4) does not know the isolates LRI/PDI that `shared` puts around codes and
phone numbers; they are turned into the equivalent embeddings LRE/PDF, which it knows.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from functools import lru_cache

import arabic_reshaper
from bidi.algorithm import get_display

Measure = Callable[[str], float]

LRI, RLI, FSI, PDI = "\u2066", "\u2067", "\u2068", "\u2069"
ZWNJ = "\u200c"
LRE, RLE, PDF = "\u202a", "\u202b", "\u202c"
_TO_EMBEDDINGS = str.maketrans({LRI: LRE, RLI: RLE, FSI: "", PDI: PDF})
# Format characters left after shaping (ZWNJ, ZWJ, marks) would draw as boxes: drop them.
_INVISIBLE = {ord(ch): None for ch in (
    "\u200b\u200c\u200d\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\ufeff")}
# Lam-alef becomes its ligature here (the font must not make ligatures of its own: in the
# reordered text a lam next to an alef is not always a lam-alef).
_RESHAPER = arabic_reshaper.ArabicReshaper(configuration={"delete_harakat": False})


def ltr(text: str) -> str:
    """`text` in a left-to-right isolate, to keep a phone number or a code in order."""
    return f"{LRI}{text}{PDI}"


def is_rtl(text: str) -> bool:
    """True for a paragraph with any right-to-left letter, or with no letter at all.

    Not the first strong character's direction (the Unicode default): on a Persian screen
    «QR رسید خود را …» is a Persian sentence that starts with a Latin word; only text with
    no Persian at all (an e-mail address) reads left to right."""
    strong_ltr = False
    for ch in text:
        kind = unicodedata.bidirectional(ch)
        if kind in ("R", "AL"):
            return True
        strong_ltr = strong_ltr or kind == "L"
    return not strong_ltr


def _is_arabic_mark(ch: str) -> bool:
    code = ord(ch)
    return (0x0610 <= code <= 0x061A or 0x064B <= code <= 0x065F or code == 0x0670
            or 0x06D6 <= code <= 0x06ED)


def _marks_after_bases(visual: str) -> str:
    """Reordering puts an Arabic mark (tanwin, kasra …) before its letter; drawn left to
    right it must come after the letter it sits on."""
    if not any(_is_arabic_mark(ch) for ch in visual):
        return visual
    out: list[str] = []
    marks: list[str] = []
    for ch in visual:
        if _is_arabic_mark(ch):
            marks.append(ch)
        else:
            out.append(ch)
            out.extend(reversed(marks))
            marks = []
    out.extend(reversed(marks))
    return "".join(out)


_LAMS = frozenset("\ufedf\ufee0")  # lam, initial and medial: joined to what follows it
_ALEFS = frozenset("\ufe8e\ufe82\ufe84\ufe88")  # alef forms joined to what precedes them


def _no_false_lam_alef(visual: str) -> str:
    """In visual order a lam can come to stand before an alef it is not joined with («عالی»);
    the font would draw them as the lam-alef ligature. A ZWNJ between them stops that (real
    lam-alefs are already single ligature characters)."""
    if not any(ch in _LAMS for ch in visual):
        return visual
    out = []
    for i, ch in enumerate(visual):
        out.append(ch)
        if ch in _LAMS and i + 1 < len(visual) and visual[i + 1] in _ALEFS:
            out.append(ZWNJ)
    return "".join(out)


@lru_cache(maxsize=8192)
def shape_line(line: str, rtl: bool = True) -> str:
    """One logical line as Kivy must draw it: joined letters in visual (left-to-right) order."""
    if not line:
        return ""
    shaped = _RESHAPER.reshape(line.translate(_TO_EMBEDDINGS))
    visual = get_display(shaped, base_dir="R" if rtl else "L")
    return _no_false_lam_alef(_marks_after_bases(visual.translate(_INVISIBLE)))


def _split_long(word: str, width: float, measure: Measure) -> list[str]:
    """A word wider than the line, cut into pieces that fit (a long address, say)."""
    pieces, current = [], ""
    for ch in word:
        if current and measure(current + ch) > width:
            pieces.append(current)
            current = ch
        else:
            current += ch
    if current:
        pieces.append(current)
    return pieces


def wrap(text: str, width: float, measure: Measure) -> list[str]:
    """The logical text broken into logical lines no wider than `width`.

    Paragraphs (newlines) stay apart; words are kept whole unless one alone is too wide.
    Words of Arabic script do not join across a space, so a line's width is the sum of its
    words' widths and its spaces'.
    """
    lines: list[str] = []
    space = measure(" ")
    for paragraph in text.split("\n"):
        words = paragraph.split()
        if not words:
            lines.append("")
            continue
        current: list[str] = []
        used = 0.0
        for word in words:
            size = measure(word)
            if size > width:
                if current:
                    lines.append(" ".join(current))
                    current, used = [], 0.0
                *whole, last = _split_long(word, width, measure)
                lines.extend(whole)
                current, used = [last], measure(last)
                continue
            needed = size if not current else used + space + size
            if current and needed > width:
                lines.append(" ".join(current))
                current, used = [word], size
            else:
                current.append(word)
                used = needed
        lines.append(" ".join(current))
    return lines


def layout(text: str, width: float | None, measure: Measure | None,
           rtl: bool | None = None) -> tuple[list[str], bool]:
    """(display lines, rtl of the first paragraph): `text` wrapped to `width` (None: not
    wrapped), each line shaped and reordered. Each paragraph takes the direction of its
    own first strong character unless `rtl` says."""
    shown: list[str] = []
    for paragraph in text.split("\n"):
        direction = is_rtl(paragraph) if rtl is None else rtl
        lines = wrap(paragraph, width, measure) if width and measure else [paragraph]
        shown.extend(shape_line(line, direction) for line in lines)
    return shown, is_rtl(text) if rtl is None else rtl
