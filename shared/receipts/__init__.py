"""Receipts that the kiosk and the counter print alike: request receipts, queue tickets and the
printer test page.

    receipt = request_receipt(agency_name=…, service_title=…, tracking_code=…, …)
    to_png(receipt, PAPER_80).save("preview.png")          # the preview: exactly what prints
    job = to_escpos(receipt, PAPER_58, qr="native")        # bytes for the printer

`layout` holds the one description (blocks and builders), `render_png` draws it (Persian shaped
by Pillow's raqm; `ensure_shaping` refuses to draw without it), `render_escpos` turns it into
ESC/POS raster images and QR commands, `paper` knows the widths.
"""

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
    delivery_slip,
    printer_test_page,
    queue_ticket,
    request_receipt,
    ticket_url,
    tracking_url,
)
from shared.receipts.paper import PAPER_58, PAPER_80, PAPER_80_512, PAPERS, Paper, paper_for
from shared.receipts.render_escpos import supports_native_qr, to_escpos
from shared.receipts.render_png import ensure_shaping, to_png

__all__ = [
    "PAPERS",
    "PAPER_58",
    "PAPER_80",
    "PAPER_80_512",
    "Block",
    "Bullet",
    "Code",
    "Field",
    "Gap",
    "Line",
    "Logo",
    "Paper",
    "Qr",
    "Receipt",
    "Rule",
    "Ruler",
    "delivery_slip",
    "ensure_shaping",
    "paper_for",
    "printer_test_page",
    "queue_ticket",
    "request_receipt",
    "supports_native_qr",
    "ticket_url",
    "to_escpos",
    "to_png",
    "tracking_url",
]
