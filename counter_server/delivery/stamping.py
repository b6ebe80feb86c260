"""The seal stamped onto a PDF made elsewhere, so that every delivered document carries it.

A document drawn from the catalog's template prints its seal itself
(`counter_server/delivery/render.py`); an uploaded PDF gets the seal's QR and the
verification address in the bottom corner of its last page, added with pyHanko's QR stamp
as an incremental update before the PDF is signed (the signature then covers the stamp).
"""

from __future__ import annotations

from io import BytesIO

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.stamp import QRPosition, QRStamp, QRStampStyle

QR_SIZE = 110  # points: about 39 mm, a version-10 QR's modules stay over 0.6 mm
MARGIN = 12
FONT_SIZE = 7


def _last_page_corner(writer: IncrementalPdfFileWriter) -> tuple[int, float, float]:
    """The last page's index and the lower-left corner of its visible box."""
    count = int(writer.root["/Pages"]["/Count"])
    page = writer.find_page_for_modification(count - 1)[0].get_object()
    box = page.get("/CropBox") or page.get("/MediaBox")
    while box is None and "/Parent" in page:  # inherited from the page tree
        page = page["/Parent"].get_object()
        box = page.get("/CropBox") or page.get("/MediaBox")
    left, bottom = (float(box[0]), float(box[1])) if box is not None else (0.0, 0.0)
    return count - 1, left + MARGIN, bottom + MARGIN


def stamp_seal(pdf: bytes, seal_text: str) -> bytes:
    """`pdf` with the seal's QR (`seal_text`) and its verification address (the seal's
    address without the signed part) in the lower-left corner of the last page."""
    writer = IncrementalPdfFileWriter(BytesIO(pdf), strict=False)
    address = seal_text.split("#", 1)[0].replace("%", "%%")
    style = QRStampStyle(stamp_text=f"Verify:\n{address}", border_width=0,
                         qr_inner_size=QR_SIZE, innsep=2,
                         qr_position=QRPosition.LEFT_OF_TEXT,
                         text_box_style=TextBoxStyle(font_size=FONT_SIZE))
    index, x, y = _last_page_corner(writer)
    QRStamp(writer, seal_text, style).apply(index, int(x), int(y))
    out = BytesIO()
    writer.write(out)
    return out.getvalue()
