"""A small ESC/POS printer for the tests: it reads a job's bytes and rebuilds the printed paper.

It understands exactly the commands a receipt job may hold and fails on anything else, so a
command the printer would misread (or print as code-page text) cannot slip through:

    ESC @               initialise (alignment left, default line spacing)
    ESC a n             alignment: 0/48 left, 1/49 centre, 2/50 right
    ESC d n             print and feed n lines          LF    print and feed one line
    ESC J n             print and feed n dots           ESC 2 / ESC 3 n   line spacing
    GS v 0 m xL xH yL yH d…   raster bit image, normal density only (m = 0 or 48)
    GS ( k pL pH 49 fn …      QR code: fn 65 model, 67 module size, 69 error correction,
                              80 store data, 81 print the stored symbol
    GS V m / GS V m n   cut (m = 0, 1, 48, 49; or 65, 66 with a feed n)

A native QR code is drawn the way a printer does it: the stored data encoded at the stored
error-correction level (python-qrcode picks the smallest version, as printers do), the
stored module size in dots, placed by the current alignment. Any other byte — printable text,
an unknown ESC/GS command, a truncated command — raises `EscposDecodeError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import qrcode
from PIL import Image

ESC, GS, LF = 0x1B, 0x1D, 0x0A
DEFAULT_LINE_SPACING = 30  # dots: 1/6 inch at the usual 180 motion units per inch

QR_LEVELS = {48: "L", 49: "M", 50: "Q", 51: "H"}
_QRCODE_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}
_ALIGN = {0: "left", 48: "left", 1: "center", 49: "center", 2: "right", 50: "right"}


class EscposDecodeError(AssertionError):
    """The bytes hold something a receipt job must not: unknown, truncated or text."""


@dataclass(frozen=True)
class Raster:
    """One `GS v 0` band as placed on the paper."""

    top: int
    left: int
    width: int
    height: int


@dataclass(frozen=True)
class NativeQr:
    """One QR code printed with `GS ( k`, as stored and as placed on the paper."""

    data: bytes
    model: int
    module: int
    level: str
    top: int
    left: int
    size: int

    @property
    def text(self) -> str:
        return self.data.decode("utf-8")


@dataclass
class Printout:
    """What came out of the printer: the picture, and what made it."""

    width: int
    image: Image.Image
    commands: list[str] = field(default_factory=list)
    rasters: list[Raster] = field(default_factory=list)
    qr_codes: list[NativeQr] = field(default_factory=list)
    cuts: int = 0


def render_native_qr(data: bytes, level: str, module: int) -> Image.Image:
    """The symbol a printer draws for `GS ( k` data: 1-bit, no quiet zone."""
    code = qrcode.QRCode(version=None, error_correction=_QRCODE_LEVELS[level], border=0)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    count = len(matrix)
    small = Image.new("1", (count, count), 1)
    small.putdata([0 if dark else 1 for row in matrix for dark in row])
    return small.resize((count * module, count * module), Image.Resampling.NEAREST)


class _Printer:
    def __init__(self, data: bytes, width: int) -> None:
        self.data = data
        self.width = width
        self.pos = 0
        self.y = 0
        self.align = "left"
        self.line_spacing = DEFAULT_LINE_SPACING
        self.pieces: list[tuple[int, int, Image.Image]] = []
        self.commands: list[str] = []
        self.rasters: list[Raster] = []
        self.qr_codes: list[NativeQr] = []
        self.cuts = 0
        self.qr_model = 2
        self.qr_module = 3
        self.qr_level = "L"
        self.qr_data: bytes | None = None

    # Reading ------------------------------------------------------------------------------

    def fail(self, message: str) -> EscposDecodeError:
        return EscposDecodeError(f"at byte {self.pos}: {message}")

    def take(self, count: int, what: str) -> bytes:
        if self.pos + count > len(self.data):
            raise self.fail(f"truncated {what}: needs {count} bytes, "
                            f"{len(self.data) - self.pos} left")
        chunk = self.data[self.pos : self.pos + count]
        self.pos += count
        return chunk

    def byte(self, what: str) -> int:
        return self.take(1, what)[0]

    # Paper --------------------------------------------------------------------------------

    def x_for(self, width: int) -> int:
        if width > self.width:
            raise self.fail(f"{width} dots do not fit on {self.width}-dot paper")
        if self.align == "center":
            return (self.width - width) // 2
        if self.align == "right":
            return self.width - width
        return 0

    def place(self, image: Image.Image) -> tuple[int, int]:
        left, top = self.x_for(image.width), self.y
        self.pieces.append((left, top, image))
        self.y += image.height
        return left, top

    # Commands -----------------------------------------------------------------------------

    def run(self) -> Printout:
        while self.pos < len(self.data):
            start = self.pos
            lead = self.byte("command")
            if lead == ESC:
                self.esc()
            elif lead == GS:
                self.gs()
            elif lead == LF:
                self.commands.append("LF")
                self.y += self.line_spacing
            else:
                self.pos = start
                raise self.fail(f"unexpected byte 0x{lead:02x}: text or an unknown command "
                                f"({self.data[start:start + 12]!r})")
        picture = Image.new("1", (self.width, max(1, self.y)), 1)
        for left, top, image in self.pieces:
            picture.paste(image, (left, top))
        return Printout(self.width, picture, self.commands, self.rasters, self.qr_codes,
                        self.cuts)

    def esc(self) -> None:
        cmd = self.byte("ESC command")
        if cmd == ord("@"):
            self.commands.append("ESC @")
            self.align, self.line_spacing = "left", DEFAULT_LINE_SPACING
        elif cmd == ord("a"):
            n = self.byte("ESC a")
            if n not in _ALIGN:
                raise self.fail(f"ESC a {n}: no such alignment")
            self.align = _ALIGN[n]
            self.commands.append(f"ESC a {self.align}")
        elif cmd == ord("d"):
            n = self.byte("ESC d")
            self.commands.append(f"ESC d {n}")
            self.y += n * self.line_spacing
        elif cmd == ord("J"):
            n = self.byte("ESC J")
            self.commands.append(f"ESC J {n}")
            self.y += n
        elif cmd == ord("2"):
            self.commands.append("ESC 2")
            self.line_spacing = DEFAULT_LINE_SPACING
        elif cmd == ord("3"):
            self.line_spacing = self.byte("ESC 3")
            self.commands.append(f"ESC 3 {self.line_spacing}")
        else:
            raise self.fail(f"unknown command ESC 0x{cmd:02x}")

    def gs(self) -> None:
        cmd = self.byte("GS command")
        if cmd == ord("v"):
            self.raster()
        elif cmd == ord("("):
            if self.byte("GS ( function") != ord("k"):
                raise self.fail("unknown GS ( function (only GS ( k)")
            self.two_d_code()
        elif cmd == ord("V"):
            m = self.byte("GS V")
            if m in (65, 66):
                self.y += self.byte("GS V feed")
            elif m not in (0, 1, 48, 49):
                raise self.fail(f"GS V {m}: no such cut")
            self.cuts += 1
            self.commands.append("GS V cut")
        else:
            raise self.fail(f"unknown command GS 0x{cmd:02x}")

    def raster(self) -> None:
        if self.byte("GS v") != ord("0"):
            raise self.fail("GS v: only GS v 0 (raster bit image)")
        mode = self.byte("GS v 0 mode")
        if mode not in (0, 48):
            raise self.fail(f"GS v 0 mode {mode}: only normal density is used")
        header = self.take(4, "GS v 0 size")
        width_bytes = header[0] + 256 * header[1]
        height = header[2] + 256 * header[3]
        if not width_bytes or not height:
            raise self.fail("GS v 0 with an empty image")
        bits = self.take(width_bytes * height, "GS v 0 image data")
        band = Image.frombytes("1", (width_bytes * 8, height), bits, "raw", "1;I")
        left, top = self.place(band)
        self.rasters.append(Raster(top, left, band.width, height))
        self.commands.append("GS v 0")

    def two_d_code(self) -> None:
        size = self.take(2, "GS ( k length")
        body = self.take(size[0] + 256 * size[1], "GS ( k data")
        if len(body) < 3:
            raise self.fail("GS ( k too short")
        cn, fn, rest = body[0], body[1], body[2:]
        if cn != 49:
            raise self.fail(f"GS ( k symbol type {cn}: only QR (49)")
        if fn == 65:
            if len(rest) != 2 or rest[0] not in (49, 50, 51) or rest[1] != 0:
                raise self.fail(f"GS ( k QR model {rest!r}")
            self.qr_model = rest[0] - 48
            self.commands.append(f"QR model {self.qr_model}")
        elif fn == 67:
            if len(rest) != 1 or not 1 <= rest[0] <= 16:
                raise self.fail(f"GS ( k QR module size {rest!r}")
            self.qr_module = rest[0]
            self.commands.append(f"QR module {self.qr_module}")
        elif fn == 69:
            if len(rest) != 1 or rest[0] not in QR_LEVELS:
                raise self.fail(f"GS ( k QR error correction {rest!r}")
            self.qr_level = QR_LEVELS[rest[0]]
            self.commands.append(f"QR level {self.qr_level}")
        elif fn == 80:
            if rest[0] != 48 or len(rest) < 2:
                raise self.fail("GS ( k QR store: bad m or no data")
            self.qr_data = bytes(rest[1:])
            self.commands.append("QR store")
        elif fn == 81:
            if rest != b"0":
                raise self.fail(f"GS ( k QR print: bad m {rest!r}")
            if self.qr_data is None:
                raise self.fail("GS ( k QR print with no stored data")
            if self.qr_model != 2:
                raise self.fail(f"QR model {self.qr_model}: receipts use model 2")
            symbol = render_native_qr(self.qr_data, self.qr_level, self.qr_module)
            left, top = self.place(symbol)
            self.qr_codes.append(NativeQr(self.qr_data, self.qr_model, self.qr_module,
                                          self.qr_level, top, left, symbol.width))
            self.commands.append("QR print")
        else:
            raise self.fail(f"GS ( k QR function {fn}: not used by receipts")


def decode(data: bytes, width: int) -> Printout:
    """Run an ESC/POS job on a `width`-dot printer; raise EscposDecodeError on anything odd."""
    return _Printer(data, width).run()
