"""Category icons and the agency's logo as PNG: Kivy cannot draw SVG, so each SVG is drawn
once with cairosvg into a cache folder and reused (redrawn when the SVG is newer)."""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path

log = logging.getLogger(__name__)

ASSETS = Path(__file__).resolve().parents[2] / "assets"
ICONS = ASSETS / "icons"
LOGO = ASSETS / "images" / "logo.svg"
ICON_COLOUR = "#0b5c6b"


class IconCache:
    """PNG files of the SVG icons at one pixel size, in `folder`."""

    def __init__(self, folder: Path, size: int = 160) -> None:
        self.folder, self.size = folder, size

    def _draw(self, svg: Path, png: Path, size: int) -> None:
        import cairosvg

        source = svg.read_text(encoding="utf-8").replace("currentColor", ICON_COLOUR)
        self.folder.mkdir(parents=True, exist_ok=True)
        handle, temporary = tempfile.mkstemp(dir=self.folder, suffix=".png.tmp")
        os.close(handle)
        try:
            cairosvg.svg2png(bytestring=source.encode("utf-8"), write_to=temporary,
                             output_width=size, output_height=size)
            os.replace(temporary, png)
        finally:
            Path(temporary).unlink(missing_ok=True)

    def png(self, svg: Path, size: int | None = None) -> str | None:
        """The PNG of `svg` (drawn now if missing or stale); None if it cannot be drawn."""
        size = size or self.size
        if not svg.is_file():
            return None
        png = self.folder / f"{svg.stem}-{size}.png"
        try:
            if not png.is_file() or png.stat().st_mtime < svg.stat().st_mtime:
                self._draw(svg, png, size)
        except Exception as exc:  # noqa: BLE001 — cairo missing, a broken SVG: no icon
            log.warning("cannot draw %s: %s", svg, exc)
            return None
        return str(png)

    def icon(self, name: str) -> str | None:
        return self.png(ICONS / f"{name}.svg")

    def logo(self, size: int = 112) -> str | None:
        return self.png(LOGO, size)
