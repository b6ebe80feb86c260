"""Receipt paper: how many dots a thermal printer prints across, and the type sizes for it.

Thermal receipt printers print 8 dots per millimetre (203 dpi). The common widths:

    58 mm paper   48 mm printable   384 dots
    80 mm paper   64 mm printable   512 dots (Epson TM-T88 family)
                  72 mm printable   576 dots (most others: TM-T20, Xprinter, Rongta …)

A `Paper` knows its dots, the side margin left blank for text, the body type size, and the
QR module size (dots per QR module). Layouts name sizes ("small" … "huge"); the paper turns a
name into pixels, so one receipt description fits every width.
"""

from __future__ import annotations

from dataclasses import dataclass

DOTS_PER_MM = 8

# Type sizes as multiples of the paper's body size.
SIZE_SCALE = {
    "small": 0.85,
    "normal": 1.0,
    "large": 1.3,
    "xlarge": 1.75,
    "huge": 4.0,
}


@dataclass(frozen=True)
class Paper:
    """A paper roll as the printer sees it.

    `dots` is the printable width in dots (a multiple of 8: raster rows are sent in bytes);
    `margin` the blank dots kept on each side of text; `body` the body type size in pixels;
    `qr_module` the largest QR module size in dots.
    """

    name: str
    width_mm: int
    dots: int
    margin: int
    body: int
    qr_module: int

    def __post_init__(self) -> None:
        if self.dots <= 0 or self.dots % 8:
            raise ValueError(f"paper width must be a positive multiple of 8 dots, not {self.dots}")
        if not 0 <= self.margin < self.dots // 4:
            raise ValueError(f"margin {self.margin} does not fit {self.dots} dots")
        if not 1 <= self.qr_module <= 16:
            raise ValueError("QR module size must be 1–16 dots")

    @property
    def text_width(self) -> int:
        """Dots available to a line of text, between the margins."""
        return self.dots - 2 * self.margin

    def font_size(self, size: str) -> int:
        """Pixels of a named type size ("small", "normal", "large", "xlarge", "huge")."""
        try:
            scale = SIZE_SCALE[size]
        except KeyError:
            raise ValueError(f"unknown type size {size!r}; one of {sorted(SIZE_SCALE)}") from None
        return round(self.body * scale)

    def mm(self, millimetres: float) -> int:
        """Dots in `millimetres` of paper."""
        return round(millimetres * DOTS_PER_MM)


PAPER_58 = Paper(name="58mm", width_mm=58, dots=384, margin=8, body=24, qr_module=6)
PAPER_80 = Paper(name="80mm", width_mm=80, dots=576, margin=16, body=28, qr_module=8)
PAPER_80_512 = Paper(name="80mm-512", width_mm=80, dots=512, margin=12, body=28, qr_module=8)

PAPERS = {paper.name: paper for paper in (PAPER_58, PAPER_80, PAPER_80_512)}


def paper_for(width_mm: int, dots: int | None = None) -> Paper:
    """The paper for a printer configured as `width_mm` (58 or 80) and, optionally, its dots.

    80 mm printers print 576 dots unless told 512 (Epson TM-T88). Raises ValueError for any
    other combination.
    """
    if width_mm == 58 and dots in (None, 384):
        return PAPER_58
    if width_mm == 80 and dots in (None, 576):
        return PAPER_80
    if width_mm == 80 and dots == 512:
        return PAPER_80_512
    raise ValueError(f"unsupported paper: {width_mm} mm, {dots} dots (58/384, 80/576, 80/512)")
