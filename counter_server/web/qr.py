"""QR codes on pages, as SVG: the same addresses the printed receipts and tickets carry."""

from __future__ import annotations

import base64
import io

import qrcode
import qrcode.image.svg
from flask import Response

ONE_DAY = 86400


def _svg(data: str) -> bytes:
    image = qrcode.make(data, image_factory=qrcode.image.svg.SvgPathImage, box_size=12,
                        border=2)
    buffer = io.BytesIO()
    image.save(buffer)
    return buffer.getvalue()


def qr_svg(data: str) -> Response:
    return Response(_svg(data), mimetype="image/svg+xml",
                    headers={"Cache-Control": f"public, max-age={ONE_DAY}"})


def qr_data_uri(data: str) -> str:
    """The QR code of `data` as a `data:` address for an <img>, for what must not be cached
    or fetched again (a second factor's secret)."""
    return "data:image/svg+xml;base64," + base64.b64encode(_svg(data)).decode()
