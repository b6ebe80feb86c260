"""Look of the kiosk: colours, Vazirmatn, and sizes that scale with the screen.

High contrast, dark text on a light ground, the agency's turquoise (as on the web desk,
`counter_server/static/desk.css`). Sizes are given for a 1080-pixel-wide portrait screen and
scale with the shorter side of the window; a touch target is never smaller than 9 mm at the
screen's DPI (`kivy.metrics.mm`, from Kivy's Metrics.dpi; set KIVY_DPI where the display
reports it wrongly).
"""

from __future__ import annotations

from pathlib import Path

from kivy.core.text import DEFAULT_FONT, LabelBase
from kivy.event import EventDispatcher
from kivy.metrics import mm
from kivy.properties import NumericProperty
from kivy.utils import get_color_from_hex

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FONT_REGULAR = ASSETS / "fonts" / "Vazirmatn-Regular.ttf"
FONT_BOLD = ASSETS / "fonts" / "Vazirmatn-Bold.ttf"
FONT = "Vazirmatn"
MIN_TARGET_MM = 9.0


def color(hex_code: str) -> list[float]:
    return list(get_color_from_hex(hex_code))


INK = color("#1b1f23")
MUTED = color("#3f4a54")
BRAND = color("#0b5c6b")
BRAND_DARK = color("#08434e")
BRAND_LIGHT = color("#e1eff1")
ACCENT = color("#8a4a12")
GROUND = color("#f3f6f7")
PAPER = color("#ffffff")
LINE = color("#9fb0b6")
WHITE = color("#ffffff")
DANGER = color("#9b1c1c")
DANGER_BG = color("#fde8e8")
OK = color("#1e6b34")
OK_BG = color("#e3f3e7")
WARN_BG = color("#fff4d6")
SHADE = [0.0, 0.0, 0.0, 0.55]


def register_fonts() -> None:
    """Vazirmatn as Kivy's default font, so every label draws with it."""
    for name in (DEFAULT_FONT, FONT):
        LabelBase.register(name, str(FONT_REGULAR), fn_bold=str(FONT_BOLD))


class Theme(EventDispatcher):
    """Sizes in pixels for the current window (kv files bind to these)."""

    scale = NumericProperty(1.0)
    title = NumericProperty(58)
    heading = NumericProperty(46)
    body = NumericProperty(36)
    small = NumericProperty(31)
    button = NumericProperty(40)
    key = NumericProperty(44)
    code = NumericProperty(80)
    pad = NumericProperty(32)
    gap = NumericProperty(24)
    button_height = NumericProperty(128)
    key_height = NumericProperty(104)
    header_height = NumericProperty(150)
    radius = NumericProperty(18)

    def fit(self, width: float, height: float) -> None:
        """Scale everything to a window of `width` × `height` pixels."""
        s = min(width, height) / 1080.0
        target = mm(MIN_TARGET_MM)
        self.scale = s
        self.title, self.heading, self.body, self.small = 58 * s, 46 * s, 36 * s, 31 * s
        self.button, self.key, self.code = 40 * s, 44 * s, 80 * s
        self.pad, self.gap, self.radius = 32 * s, 24 * s, 18 * s
        self.button_height = max(128 * s, target)
        self.key_height = max(104 * s, target)
        self.header_height = max(150 * s, target)


T = Theme()
