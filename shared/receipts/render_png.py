"""Draw a receipt as the 1-bit picture a thermal printer prints (also the PNG preview).

Persian is shaped by Pillow's raqm layout (HarfBuzz + FriBiDi): every line is given to it as
the LOGICAL string with `direction="rtl"`, never pre-reshaped (shaping twice prints the text
reversed). Paragraphs are wrapped here, by words, to the paper width BEFORE drawing, and each
line is drawn on its own, so multi-line text keeps its lines in reading order.

`ensure_shaping()` refuses to draw when raqm is missing: without the system libfribidi Pillow
silently falls back to its basic layout and prints reversed, unjoined Persian.
"""

from __future__ import annotations

import io
import logging
import unicodedata
from collections.abc import Iterable
from functools import lru_cache
from pathlib import Path

import qrcode
from PIL import Image, ImageDraw, ImageFont, ImageOps, features

from shared.receipts.layout import (
    Block,
    Bullet,
    Code,
    Field,
    Gap,
    Line,
    Logo,
    Qr,
    Receipt,
    Rule,
    Ruler,
)
from shared.receipts.paper import Paper
from shared.text import to_persian_digits

log = logging.getLogger(__name__)

FONT_DIR = Path(__file__).resolve().parents[2] / "assets" / "fonts"
FONT_FILES = {False: "Vazirmatn-Regular.ttf", True: "Vazirmatn-Bold.ttf"}

# Grey levels darker than this print black; the rest stays paper (anti-aliased text edges
# lean to black: thermal dots spread less than ink).
THRESHOLD = 168
_TO_1BIT = [0 if level < THRESHOLD else 255 for level in range(256)]

LINE_PITCH = 1.45  # line height, in em
BASELINE = 0.97  # baseline below the top of the line, in em
QR_MAX_SHARE = 0.62  # a QR code takes at most this share of the text width
QR_PAD_MODULES = 2  # blank modules above and below a QR code (the sides are blank anyway)

SHAPING_HELP = (
    "Pillow cannot shape Persian text: its raqm text layout is not available "
    "(PIL.features.check('raqm') is False). Install the system libraries it loads at run "
    "time — on Debian `apt-get install libfribidi0` (scripts/install-system-deps.sh does "
    "it; a Pillow built from source also needs libraqm0 and libharfbuzz0b) — and restart. "
    "Without them receipts would print Persian reversed and unjoined."
)


def ensure_shaping() -> None:
    """Raise RuntimeError with what to install unless Pillow can shape Persian (raqm)."""
    if not features.check("raqm"):
        raise RuntimeError(SHAPING_HELP)
    if "fribidi" in features.features and not features.check("fribidi"):
        raise RuntimeError(SHAPING_HELP)


@lru_cache(maxsize=128)
def font(size: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Vazirmatn at `size` pixels, with the raqm layout (complex shaping, bidi)."""
    return ImageFont.truetype(
        str(FONT_DIR / FONT_FILES[bold]), size, layout_engine=ImageFont.Layout.RAQM
    )


def is_rtl(text: str) -> bool:
    """True if `text` holds any right-to-left letter (it is then laid out right to left)."""
    return any(unicodedata.bidirectional(ch) in ("R", "AL") for ch in text)


def _layout(text: str) -> tuple[str, str | None]:
    """The raqm direction and language of a line: ("rtl", "fa") for Persian, else LTR."""
    return ("rtl", "fa") if is_rtl(text) else ("ltr", None)


def text_width(text: str, face: ImageFont.FreeTypeFont) -> float:
    """The advance width of one line of `text` as it will be drawn."""
    direction, language = _layout(text)
    return face.getlength(text, direction=direction, language=language)


def wrap(
    text: str, face: ImageFont.FreeTypeFont, width: int, balance: bool = False
) -> list[str]:
    """Split a paragraph into lines no wider than `width`, by words, in logical order.

    Words are split at spaces only: a no-break space holds two words together, and ZWNJ is
    part of a word. A word wider than the line (an address) is cut between characters.
    `balance=True` keeps the number of lines but evens their lengths (centred text: no lone
    last word).
    """
    words = [part for part in text.split(" ") if part]
    widths = [text_width(word, face) for word in words]
    space = text_width(" ", face)
    limit = width
    while True:
        lines = _wrap_greedy(words, widths, space, face, limit)
        if balance and len(lines) > 1:
            low, high = limit // 2, limit  # the narrowest width giving as few lines
            while high - low > 1:
                middle = (low + high) // 2
                if len(_wrap_greedy(words, widths, space, face, middle)) <= len(lines):
                    high = middle
                else:
                    low = middle
            lines = _wrap_greedy(words, widths, space, face, high)
        # Widths were summed word by word; check the real lines (kerning across spaces).
        if limit <= width // 2 or all(text_width(line, face) <= width for line in lines):
            return lines
        limit -= 2


def _wrap_greedy(
    words: list[str],
    widths: list[float],
    space: float,
    face: ImageFont.FreeTypeFont,
    width: int,
) -> list[str]:
    lines: list[str] = []
    current, current_width = "", 0.0
    for word, word_width in zip(words, widths, strict=True):
        if current and current_width + space + word_width <= width:
            current, current_width = f"{current} {word}", current_width + space + word_width
            continue
        if current:
            lines.append(current)
        current, current_width = word, word_width
        while current_width > width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and text_width(current[:cut], face) > width:
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
            current_width = text_width(current, face)
    if current:
        lines.append(current)
    return lines or [""]


def pitch(size: int) -> int:
    """Height of one line of text at `size` pixels."""
    return round(size * LINE_PITCH)


def _draw_line(
    draw: ImageDraw.ImageDraw,
    text: str,
    face: ImageFont.FreeTypeFont,
    *,
    top: int,
    left: int,
    right: int,
    align: str,
) -> None:
    """Draw one line between x=`left` and x=`right`, aligned, its line box starting at `top`."""
    width = text_width(text, face)
    if align == "right":
        x = right - width
    elif align == "center":
        x = left + (right - left - width) / 2
    else:
        x = left
    baseline = top + round(face.size * BASELINE)
    direction, language = _layout(text)
    # Keep the ink itself inside the margins: a glyph may overhang its advance box (bold
    # letters, and Pillow versions measure the box slightly differently).
    ink_left, _, ink_right, _ = draw.textbbox((x, baseline), text, font=face, anchor="ls",
                                              direction=direction, language=language)
    x += max(0, left - ink_left) - max(0, ink_right - right)
    draw.text((x, baseline), text, font=face, fill=0, anchor="ls", direction=direction,
              language=language)


def _canvas(paper: Paper, height: int) -> tuple[Image.Image, ImageDraw.ImageDraw]:
    image = Image.new("L", (paper.dots, max(height, 1)), 255)
    return image, ImageDraw.Draw(image)


def _to_1bit(image: Image.Image) -> Image.Image:
    return image.point(_TO_1BIT, "1")


# Blocks --------------------------------------------------------------------------------------


def _line(block: Line, paper: Paper) -> Image.Image:
    size = paper.font_size(block.size)
    face = font(size, block.bold)
    if block.fit:
        return _fit_line(block, paper, size)
    lines = wrap(block.text, face, paper.text_width, balance=block.align == "center")
    step = pitch(size)
    image, draw = _canvas(paper, step * len(lines))
    for row, text in enumerate(lines):
        _draw_line(draw, text, face, top=row * step, left=paper.margin,
                   right=paper.dots - paper.margin, align=block.align)
    return _to_1bit(image)


def _fit_line(block: Line, paper: Paper, size: int) -> Image.Image:
    """One line, shrunk to the text width if need be, in a box as tall as its ink."""
    face = font(size, block.bold)
    width = text_width(block.text, face)
    if width > paper.text_width:
        face = font(int(size * paper.text_width / width), block.bold)
    direction, language = _layout(block.text)
    box = face.getbbox(block.text, anchor="ls", direction=direction, language=language)
    ink_top, ink_bottom = int(box[1]), int(box[3])
    pad = int(face.size) // 8
    image, draw = _canvas(paper, ink_bottom - ink_top + 2 * pad)
    # _draw_line puts the baseline BASELINE em below `top`; place it at pad - ink_top.
    top = pad - ink_top - round(face.size * BASELINE)
    _draw_line(draw, block.text, face, top=top, left=paper.margin,
               right=paper.dots - paper.margin, align=block.align)
    return _to_1bit(image)


def _field(block: Field, paper: Paper) -> Image.Image:
    size = paper.font_size(block.size)
    label_face, value_face = font(size, False), font(size, True)
    left, right = paper.margin, paper.dots - paper.margin
    gap = round(size * 0.75)
    label_width = text_width(block.label, label_face)
    value_width = text_width(block.value, value_face)
    step = pitch(size)
    if label_width + gap + value_width <= paper.text_width:
        image, draw = _canvas(paper, step)
        _draw_line(draw, block.label, label_face, top=0, left=left, right=right, align="right")
        _draw_line(draw, block.value, value_face, top=0, left=left, right=right, align="left")
        return _to_1bit(image)
    indent = size
    values = wrap(block.value, value_face, paper.text_width - indent)
    image, draw = _canvas(paper, step * (1 + len(values)))
    _draw_line(draw, block.label, label_face, top=0, left=left, right=right, align="right")
    for row, text in enumerate(values, start=1):
        _draw_line(draw, text, value_face, top=row * step, left=left, right=right - indent,
                   align="right")
    return _to_1bit(image)


def _bullet(block: Bullet, paper: Paper) -> Image.Image:
    size = paper.font_size(block.size)
    face = font(size, False)
    indent = size
    right = paper.dots - paper.margin
    lines = wrap(block.text, face, paper.text_width - indent)
    step = pitch(size)
    image, draw = _canvas(paper, step * len(lines))
    radius = max(2, size // 8)
    centre_x, centre_y = right - indent // 2, round(size * BASELINE) - size // 4
    draw.ellipse((centre_x - radius, centre_y - radius, centre_x + radius, centre_y + radius),
                 fill=0)
    for row, text in enumerate(lines):
        _draw_line(draw, text, face, top=row * step, left=paper.margin, right=right - indent,
                   align="right")
    return _to_1bit(image)


def code_size(block: Code, paper: Paper) -> int:
    """The (bold) type size of a tracking code: "xlarge", or less if it would not fit."""
    probe = font(100, True)
    widths = [probe.getlength(group, direction="ltr") for group in block.groups]
    em_total = (sum(widths) + 50 * (len(widths) - 1)) / 100  # groups + half-em gaps
    return min(paper.font_size("xlarge"), int(paper.text_width / em_total))


def _code(block: Code, paper: Paper) -> Image.Image:
    """The tracking code: groups of four placed left to right by hand, never reordered."""
    groups = block.groups
    size = code_size(block, paper)
    face = font(size, True)
    gap = size // 2
    widths = [face.getlength(g, direction="ltr") for g in groups]
    total = sum(widths) + gap * (len(groups) - 1)
    step = round(size * 1.3)
    image, draw = _canvas(paper, step)
    x = (paper.dots - total) / 2
    baseline = round(size * 1.0)
    for group, width in zip(groups, widths, strict=True):
        draw.text((x, baseline), group, font=face, fill=0, anchor="ls", direction="ltr")
        x += width + gap
    return _to_1bit(image)


@lru_cache(maxsize=32)
def _qr_matrix(data: str) -> tuple[tuple[bool, ...], ...]:
    code = qrcode.QRCode(version=None, error_correction=qrcode.constants.ERROR_CORRECT_M,
                         border=0)
    code.add_data(data)
    code.make(fit=True)
    return tuple(tuple(row) for row in code.get_matrix())


def qr_module(data: str, paper: Paper) -> int:
    """Dots per QR module for `data` on `paper` (the native QR command's size too)."""
    count = len(_qr_matrix(data))
    return max(1, min(paper.qr_module, int(paper.text_width * QR_MAX_SHARE) // count))


def qr_image(data: str, module: int) -> Image.Image:
    """The QR code of `data` (level M, no quiet zone), `module` dots per module, 1-bit."""
    matrix = _qr_matrix(data)
    count = len(matrix)
    small = Image.new("1", (count, count), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    return small.resize((count * module, count * module), Image.Resampling.NEAREST)


def qr_padding(data: str, paper: Paper) -> int:
    """Blank dots above and below a QR code."""
    return QR_PAD_MODULES * qr_module(data, paper)


def _qr(block: Qr, paper: Paper) -> Image.Image:
    module = qr_module(block.data, paper)
    symbol = qr_image(block.data, module)
    pad = qr_padding(block.data, paper)
    image = Image.new("1", (paper.dots, symbol.height + 2 * pad), 1)
    image.paste(symbol, ((paper.dots - symbol.width) // 2, pad))
    return image


@lru_cache(maxsize=8)
def _load_logo(path: str, width: int, mtime: float) -> Image.Image:
    if path.lower().endswith(".svg"):
        try:
            import cairosvg  # type: ignore[import-untyped]
        except (ImportError, OSError) as exc:  # OSError: libcairo2 missing
            raise RuntimeError(
                "SVG logos need the cairosvg package and the system libcairo2; "
                "or give a PNG logo"
            ) from exc
        source: Image.Image = Image.open(
            io.BytesIO(cairosvg.svg2png(url=path, output_width=width * 2))
        )
    else:
        source = Image.open(path)
    source = source.convert("RGBA")
    flat = Image.new("RGBA", source.size, (255, 255, 255, 255))
    flat.alpha_composite(source)
    grey = flat.convert("L")
    height = max(1, round(grey.height * width / grey.width))
    grey = grey.resize((width, height), Image.Resampling.LANCZOS)
    # Light tints print as blank paper instead of a haze of dots; the rest is dithered.
    grey = grey.point([255 if level > 225 else level for level in range(256)])
    grey = ImageOps.autocontrast(grey, cutoff=(1, 0))
    return grey.convert("1", dither=Image.Dither.FLOYDSTEINBERG)


def _logo(block: Logo, paper: Paper) -> Image.Image:
    """The logo, centred; a logo that cannot be read is left out (the receipt still prints:
    the citizen needs the code more than the emblem) and logged."""
    path = Path(block.path)
    width = min(paper.text_width, paper.mm(block.width_mm))
    try:
        logo = _load_logo(str(path), width, path.stat().st_mtime)
    except Exception as exc:  # noqa: BLE001 - unreadable file, bad SVG, no cairo
        log.warning("receipt logo %s left out: %s", path, exc)
        return Image.new("1", (paper.dots, 1), 1)
    image = Image.new("1", (paper.dots, logo.height), 1)
    image.paste(logo, ((paper.dots - logo.width) // 2, 0))
    return image


def _rule(block: Rule, paper: Paper) -> Image.Image:
    thickness = 2
    pad = paper.mm(1.25)
    image = Image.new("1", (paper.dots, 2 * pad + thickness), 1)
    draw = ImageDraw.Draw(image)
    left, right = paper.margin, paper.dots - paper.margin
    if block.dashed:
        for x in range(left, right, 10):
            draw.rectangle((x, pad, min(x + 5, right - 1), pad + thickness - 1), fill=0)
    else:
        draw.rectangle((left, pad, right - 1, pad + thickness - 1), fill=0)
    return image


def _ruler(block: Ruler, paper: Paper) -> Image.Image:
    """A millimetre scale over the whole printable width, edges marked, labelled every 10 mm."""
    size = paper.font_size("small")
    face = font(size, False)
    label_top = 26
    image, draw = _canvas(paper, label_top + pitch(size))
    per_mm = paper.mm(1)
    for mm in range(paper.dots // per_mm + 1):
        x = min(mm * per_mm, paper.dots - 1)
        length = 22 if mm % 10 == 0 else 14 if mm % 5 == 0 else 8
        draw.line((x, 0, x, length), fill=0, width=1)
        if mm % 10 == 0 and 0 < mm and x + size < paper.dots:
            label = to_persian_digits(mm)
            half = text_width(label, face) / 2
            draw.text((x - half, label_top + round(size * BASELINE)), label, font=face,
                      fill=0, anchor="ls", direction="ltr")
    draw.line((0, 0, paper.dots - 1, 0), fill=0, width=2)
    draw.line((0, 0, 0, label_top), fill=0, width=2)
    draw.line((paper.dots - 2, 0, paper.dots - 2, label_top), fill=0, width=2)
    return _to_1bit(image)


def _gap(block: Gap, paper: Paper) -> Image.Image:
    return Image.new("1", (paper.dots, max(1, paper.mm(block.mm))), 1)


_RENDERERS = {
    Line: _line,
    Field: _field,
    Bullet: _bullet,
    Code: _code,
    Qr: _qr,
    Logo: _logo,
    Rule: _rule,
    Ruler: _ruler,
    Gap: _gap,
}


def render_block(block: Block, paper: Paper) -> Image.Image:
    """One block as a 1-bit image `paper.dots` wide (black = 0, paper = 1)."""
    try:
        renderer = _RENDERERS[type(block)]
    except KeyError:
        raise TypeError(f"not a receipt block: {block!r}") from None
    return renderer(block, paper)  # type: ignore[operator]


def render_blocks(blocks: Iterable[Block], paper: Paper) -> Image.Image:
    """The blocks stacked top to bottom into one 1-bit image `paper.dots` wide."""
    ensure_shaping()
    parts = [render_block(block, paper) for block in blocks]
    picture = Image.new("1", (paper.dots, max(1, sum(p.height for p in parts))), 1)
    top = 0
    for part in parts:
        picture.paste(part, (0, top))
        top += part.height
    return picture


def to_png(receipt: Receipt, paper: Paper) -> Image.Image:
    """The receipt exactly as printed: a 1-bit image `paper.dots` wide (save it as PNG)."""
    return render_blocks(receipt.blocks, paper)
