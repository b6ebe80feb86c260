"""QR codes on pages, as SVG: the same addresses the printed receipts and tickets carry."""

from __future__ import annotations

import io

import qrcode
import qrcode.image.svg
from flask import Response

ONE_DAY = 86400


def qr_svg(data: str) -> Response:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12,
                        border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return Response(buffer.getvalue(), mimetype="image/svg+xml",
                    headers={"Cache-Control": f"public, max-age={ONE_DAY}"})
