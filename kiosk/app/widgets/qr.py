"""Images made in memory: a QR code (the `qrcode` package) and scanned-page thumbnails."""

from __future__ import annotations

from typing import Any

import qrcode
from kivy.graphics.texture import Texture
from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.image import Image
from PIL import Image as PILImage

THUMBNAIL_PIXELS = 480


def qr_texture(data: str, border: int = 2) -> Texture:
    """A texture with one texel per QR module (drawn scaled up, nearest-neighbour)."""
    code = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, border=border)
    code.add_data(data)
    code.make(fit=True)
    matrix = code.get_matrix()
    size = len(matrix)
    # Kivy's textures start at the bottom row.
    pixels = bytes(0 if cell else 255 for row in reversed(matrix) for cell in row)
    texture = Texture.create(size=(size, size), colorfmt="luminance")
    texture.blit_buffer(pixels, colorfmt="luminance", bufferfmt="ubyte")
    texture.mag_filter = texture.min_filter = "nearest"
    return texture


def thumbnail_image(page: PILImage.Image, pixels: int = THUMBNAIL_PIXELS) -> PILImage.Image:
    """A small RGB copy of a scanned page (made off the UI thread)."""
    small = page.convert("RGB")
    small.thumbnail((pixels, pixels))
    return small


def pil_texture(image: PILImage.Image) -> Texture:
    """A Kivy texture of a Pillow image (UI thread only)."""
    rgb = image.convert("RGB")
    texture = Texture.create(size=rgb.size, colorfmt="rgb")
    texture.blit_buffer(rgb.tobytes(), colorfmt="rgb", bufferfmt="ubyte")
    texture.flip_vertical()
    return texture


class QrImage(Image):
    """Shows `data` as a QR code, as large as the widget allows."""

    data = StringProperty("")

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fit_mode", "contain")
        super().__init__(**kwargs)
        self.fbind("data", self._draw)
        self._draw()

    def _draw(self, *_: Any) -> None:
        self.texture = qr_texture(self.data) if self.data else None


class PageThumbnail(Image):
    """A scanned page, shrunk: set `page` (a Pillow image) or `thumbnail` (already small)."""

    thumbnail = ObjectProperty(None, allownone=True)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("fit_mode", "contain")
        super().__init__(**kwargs)
        self.fbind("thumbnail", self._draw)
        self._draw()

    def _draw(self, *_: Any) -> None:
        self.texture = pil_texture(self.thumbnail) if self.thumbnail is not None else None
