"""Big, debounced buttons: one tap is one action.

A touchscreen sends a touch and an emulated mouse event for one tap, and a finger that
lingers can bounce. `TapGate` lets a tap through unless an accepted tap came less than
`interval` seconds earlier at nearly the same place: the duplicate of a tap lands where the
tap did, even when the tap changed the screen under it, while a quick second tap on another
key of a keyboard is a real one. Every KioskButton asks the one gate (`GATE`) before it fires
`on_tap`; `on_press`/`on_release` stay Kivy's own.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Any

from kivy.metrics import mm
from kivy.properties import BooleanProperty, ListProperty, OptionProperty, StringProperty
from kivy.uix.behaviors import ButtonBehavior

from kiosk.app.widgets.text import PersianLabel


class TapGate:
    """Accepts a tap unless it repeats the last accepted one (same place, too soon)."""

    def __init__(self, interval: float = 0.4, radius_mm: float = 8.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.interval, self.radius_mm, self.clock = interval, radius_mm, clock
        self._last: tuple[float, float, float] | None = None
        self.refused = 0

    def accept(self, pos: tuple[float, float] | None) -> bool:
        now = self.clock()
        x, y = pos if pos is not None else (math.nan, math.nan)
        if self._last is not None:
            then, lx, ly = self._last
            near = pos is None or math.isnan(lx) or math.hypot(x - lx, y - ly) <= mm(
                self.radius_mm)
            if now - then < self.interval and near:
                self.refused += 1
                return False
        self._last = (now, x, y)
        return True

    def reset(self) -> None:
        self._last = None


GATE = TapGate()


class KioskButton(ButtonBehavior, PersianLabel):
    """A large labelled button; `on_tap` fires once per real tap."""

    kind = OptionProperty("primary", options=["primary", "secondary", "quiet", "danger",
                                              "key", "option", "accent"])
    selected = BooleanProperty(False)
    #: What the button stands for (a key's character, an option's value, a screen name).
    value = StringProperty("")
    fill = ListProperty([0, 0, 0, 0])
    ink = ListProperty([1, 1, 1, 1])
    edge = ListProperty([0, 0, 0, 0])

    __events__ = ("on_tap",)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("align", "center")
        super().__init__(**kwargs)
        for name in ("kind", "selected", "state", "disabled"):
            self.fbind(name, self._paint)
        self._paint()

    def _paint(self, *_: Any) -> None:
        from kiosk.app import theme

        down = self.state == "down"
        if self.kind == "primary":
            fill, ink, edge = (theme.BRAND_DARK if down else theme.BRAND), theme.WHITE, \
                theme.BRAND_DARK
        elif self.kind == "accent":
            fill, ink, edge = theme.ACCENT, theme.WHITE, theme.ACCENT
        elif self.kind == "danger":
            fill, ink, edge = theme.DANGER, theme.WHITE, theme.DANGER
        elif self.kind == "quiet":
            fill, ink, edge = (theme.BRAND_LIGHT if down else theme.GROUND), theme.BRAND_DARK, \
                theme.BRAND
        elif self.kind == "option":
            if self.selected:
                fill, ink, edge = theme.BRAND, theme.WHITE, theme.BRAND_DARK
            else:
                fill, ink, edge = (theme.BRAND_LIGHT if down else theme.PAPER), theme.INK, \
                    theme.LINE
        else:  # secondary, key
            fill = theme.BRAND_LIGHT if down else theme.PAPER
            ink, edge = theme.INK, theme.LINE if self.kind == "key" else theme.BRAND
        if self.disabled:
            fill, ink, edge = theme.GROUND, theme.MUTED, theme.LINE
        self.fill, self.ink, self.edge = list(fill), list(ink), list(edge)
        self.color = self.ink
        self.disabled_color = self.ink

    def on_release(self) -> None:
        from kivy.core.window import Window

        touch = self.last_touch  # spos: window-relative (0–1), whatever scrolled under it
        pos = (touch.sx * Window.width, touch.sy * Window.height) if touch is not None else None
        if GATE.accept(pos):
            self.dispatch("on_tap")

    def on_tap(self) -> None:
        """What the button does (bound in kv or code)."""

    def tap(self) -> None:
        """Act as if tapped (the keyboard's physical keys, tests)."""
        self.dispatch("on_tap")
