"""PersianLabel: a Label that takes the logical text, wraps it, then shapes each line.

Set `ltext` (the text as typed, never `text`): the label wraps it to its own width with the
font's real measurements, shapes and reorders each line (`kiosk.app.persian`), and aligns
right-to-left paragraphs to the right. `text` holds what is drawn.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from kivy.clock import Clock
from kivy.core.text import Label as CoreLabel
from kivy.properties import (
    BooleanProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
    VariableListProperty,
)
from kivy.uix.label import Label

from kiosk.app.persian import is_rtl, layout, shape_line

_MEASURERS: dict[tuple[str, float, bool], Callable[[str], float]] = {}
WRAP_MARGIN = 0.985  # a hair narrower than the box: measured and drawn widths differ slightly


def measurer(font_name: str, font_size: float, bold: bool) -> Callable[[str], float]:
    """Width in pixels of a logical text as drawn (shaped) in this font; cached per word."""
    key = (font_name, round(float(font_size), 2), bool(bold))
    found = _MEASURERS.get(key)
    if found is not None:
        return found
    core = CoreLabel(font_name=font_name, font_size=font_size, bold=bold,
                     font_script_name="Zyyy", font_direction="ltr",
                     font_features="-liga,-rlig,-clig,-dlig,-calt")
    widths: dict[str, float] = {}

    def measure(text: str) -> float:
        width = widths.get(text)
        if width is None:
            width = widths[text] = float(core.get_extents(shape_line(text, is_rtl(text)))[0])
        return width

    _MEASURERS[key] = measure
    return measure


class PersianLabel(Label):
    """A label for Persian (and mixed) text: give it `ltext`, the logical text."""

    ltext = StringProperty("")
    #: "start" is right for right-to-left text and left for left-to-right text.
    align = OptionProperty("start", options=["start", "center", "end"])
    #: None: each paragraph's own direction; or force "rtl"/"ltr".
    direction = OptionProperty("auto", options=["auto", "rtl", "ltr"])
    wrap = BooleanProperty(True)
    #: Space kept free inside the box: [left, top, right, bottom] (use this, not `padding`).
    inset = VariableListProperty([0, 0, 0, 0], length=4)
    #: Blank margin drawn around the text inside its texture (see `relayout`).
    ink_margin = NumericProperty(0)

    def __init__(self, **kwargs: Any) -> None:
        self._relayout_trigger = Clock.create_trigger(self.relayout, -1)
        kwargs.setdefault("valign", "middle")
        super().__init__(**kwargs)
        for name in ("ltext", "width", "font_size", "font_name", "bold", "align",
                     "direction", "wrap", "inset"):
            self.fbind(name, self._relayout_trigger)
        self.relayout()

    def relayout(self, *_: Any) -> None:
        """Wrap, shape and align now (it also happens by itself before the next frame)."""
        width = max(1.0, self.width - self.inset[0] - self.inset[2])
        forced = None if self.direction == "auto" else self.direction == "rtl"
        measure = measurer(self.font_name, self.font_size, self.bold)
        lines, rtl = layout(self.ltext, width * WRAP_MARGIN if self.wrap else None,
                            measure if self.wrap else None, forced)
        self.text = "\n".join(lines)
        if self.align == "center":
            self.halign = "center"
        else:
            self.halign = "right" if rtl == (self.align == "start") else "left"
        # Kivy neither wraps (done above) nor aligns within the box (widgets.kv places the
        # texture); a blank margin inside the texture keeps glyphs that reach past their
        # advance (a final «ی»'s tail) from being cut.
        self.text_size = (None, None)
        self.ink_margin = max(2, int(self.font_size * 0.25))
        self.padding = [self.ink_margin, 0, self.ink_margin, 0]


class Paragraph(PersianLabel):
    """Flowing text: as wide as its parent gives, as tall as its lines."""

    def __init__(self, **kwargs: Any) -> None:
        from kiosk.app import theme

        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("font_size", theme.T.body)
        kwargs.setdefault("color", theme.INK)
        super().__init__(**kwargs)
        self.fbind("texture_size", self._fit)
        self._fit()

    def _fit(self, *_: Any) -> None:
        self.height = self.texture_size[1]


class Heading(Paragraph):
    """A section's title: bold, in the agency's colour."""

    def __init__(self, **kwargs: Any) -> None:
        from kiosk.app import theme

        kwargs.setdefault("font_size", theme.T.heading)
        kwargs.setdefault("bold", True)
        kwargs.setdefault("color", theme.BRAND_DARK)
        super().__init__(**kwargs)
