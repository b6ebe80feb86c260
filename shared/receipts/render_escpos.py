"""Turn a receipt into the ESC/POS bytes a thermal printer prints.

ESC/POS code pages cannot shape Persian, so everything but a native QR code is sent as raster
bit images (`GS v 0`), drawn by the very code that draws the PNG preview, in bands of
`BAND_ROWS` rows (small buffers on cheap printers). The QR code is either part of the raster
(`qr="image"`) or the printer's own QR command (`qr="native"`: `GS ( k`, model 2, error
correction M, the same module size as the image), centred with `ESC a`. A profile without
native QR support (many cheap printers) gets the image. The job starts with `ESC @` and ends
with a feed and a cut.

The bytes are made with python-escpos's `Dummy` printer; the kiosk writes them to its real
printer backend (USB, serial, network, file) in one go.
"""

from __future__ import annotations

from typing import Literal

from escpos.constants import QR_ECLEVEL_M, QR_MODEL_2, TXT_STYLE  # type: ignore[import-untyped]
from escpos.printer import Dummy  # type: ignore[import-untyped]
from PIL import Image

from shared.receipts.layout import Block, Qr, Receipt
from shared.receipts.paper import Paper
from shared.receipts.render_png import qr_module, qr_padding, render_blocks

QrMode = Literal["native", "image"]

BAND_ROWS = 128
DEFAULT_PROFILE = "default"


def _printer(paper: Paper, profile: str) -> Dummy:
    """A Dummy printer with `profile`'s capabilities and the paper's width in dots."""
    printer = Dummy(profile=profile)
    data = dict(printer.profile.profile_data)
    data["media"] = {"width": {"mm": paper.width_mm, "pixels": paper.dots}}
    printer.profile.profile_data = data  # on this instance only: the class is shared
    return printer


def _send_raster(printer: Dummy, picture: Image.Image) -> None:
    """`picture` as `GS v 0` bands of at most BAND_ROWS rows (cut here, not by python-escpos,
    which would convert the whole picture once more before cutting it)."""
    for top in range(0, picture.height, BAND_ROWS):
        band = picture.crop((0, top, picture.width, min(top + BAND_ROWS, picture.height)))
        printer.image(band, impl="bitImageRaster", fragment_height=BAND_ROWS)


def _with_blank_rows(
    picture: Image.Image | None, paper: Paper, top: int, bottom: int
) -> Image.Image:
    """`picture` (or nothing) with `top` and `bottom` blank rows added."""
    height = (picture.height if picture is not None else 0) + top + bottom
    framed = Image.new("1", (paper.dots, height), 1)
    if picture is not None:
        framed.paste(picture, (0, top))
    return framed


def supports_native_qr(profile: str = DEFAULT_PROFILE) -> bool:
    """True if the printer profile says the printer draws QR codes itself."""
    return bool(Dummy(profile=profile).profile.supports("qrCode"))


def to_escpos(
    receipt: Receipt,
    paper: Paper,
    qr: QrMode = "native",
    profile: str = DEFAULT_PROFILE,
) -> bytes:
    """The ESC/POS job printing `receipt` on `paper`, its QR codes native or as images.

    `profile` is a python-escpos printer profile name ("default", "TM-T20II", …); native QR
    falls back to an image when the profile has no QR support.
    """
    if qr not in ("native", "image"):
        raise ValueError(f"qr must be 'native' or 'image', not {qr!r}")
    printer = _printer(paper, profile)
    native = qr == "native" and bool(printer.profile.supports("qrCode"))
    printer.hw("INIT")
    pending: list[Block] = []
    carry = 0  # blank rows owed below the last native QR code
    for block in receipt.blocks:
        if not (native and isinstance(block, Qr)):
            pending.append(block)
            continue
        pad = qr_padding(block.data, paper)
        picture = render_blocks(pending, paper) if pending else None
        _send_raster(printer, _with_blank_rows(picture, paper, carry, pad))
        printer._raw(TXT_STYLE["align"]["center"])
        printer.qr(block.data, ec=QR_ECLEVEL_M, size=qr_module(block.data, paper),
                   model=QR_MODEL_2, native=True)
        printer._raw(TXT_STYLE["align"]["left"])
        pending, carry = [], pad
    if pending or carry:
        picture = render_blocks(pending, paper) if pending else None
        _send_raster(printer, _with_blank_rows(picture, paper, carry, 0))
    printer.cut()
    return printer.output
