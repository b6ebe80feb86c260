"""Survey answers by touch: five faces (very unhappy … very happy) or five stars.

Values run 1 (worst) to 5 (best), right to left as Persian reads: the first face or star is
the rightmost. Faces and stars are drawn with Kivy's canvas (no emoji font needed), each
with a word under it so that the meaning never depends on the picture alone.
"""

from __future__ import annotations

import math
from typing import Any

from kivy.graphics import Color, Ellipse, Line, Mesh
from kivy.properties import NumericProperty, OptionProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.app import theme
from kiosk.app.widgets.buttons import GATE
from kiosk.app.widgets.text import PersianLabel

FACE_WORDS = ("خیلی ناراضی", "ناراضی", "متوسط", "راضی", "خیلی راضی")
STAR_WORDS = ("خیلی بد", "بد", "متوسط", "خوب", "عالی")
FACE_COLOURS = ("#d64545", "#ef8a3c", "#f2c94c", "#8ccf6a", "#3aa35b")


class RatingChoice(ButtonBehavior, BoxLayout):
    """One face or star and its word."""

    value = NumericProperty(1)
    chosen = NumericProperty(0)  # the rating's current value
    scale = OptionProperty("faces", options=["faces", "stars"])

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.picture = Widget()
        words = FACE_WORDS if self.scale == "faces" else STAR_WORDS
        self.word = PersianLabel(ltext=words[int(self.value) - 1], align="center",
                                 font_size=theme.T.small, size_hint_y=None,
                                 color=theme.INK)
        self.word.bind(texture_size=lambda w, s: setattr(w, "height", s[1]))
        self.add_widget(self.picture)
        self.add_widget(self.word)
        for name in ("pos", "size", "chosen", "scale"):
            self.fbind(name, self._draw)
        self.picture.fbind("pos", self._draw)
        self.picture.fbind("size", self._draw)

    def on_release(self) -> None:
        from kivy.core.window import Window

        touch = self.last_touch
        pos = (touch.sx * Window.width, touch.sy * Window.height) if touch else None
        if GATE.accept(pos) and isinstance(self.parent, Rating):
            self.parent.value = self.value

    def _draw(self, *_: Any) -> None:
        canvas = self.picture.canvas
        canvas.clear()
        w, h = self.picture.size
        r = max(4.0, min(w, h) / 2 - 6)
        cx, cy = self.picture.center
        selected = self.chosen == self.value
        with canvas:
            if selected:
                Color(*theme.BRAND)
                Line(circle=(cx, cy, r + 4), width=max(3.0, r / 12))
            if self.scale == "faces":
                self._face(cx, cy, r * 0.86, selected)
            else:
                self._star(cx, cy, r * 0.92)

    def _face(self, cx: float, cy: float, r: float, selected: bool) -> None:
        from kivy.utils import get_color_from_hex

        colour = get_color_from_hex(FACE_COLOURS[int(self.value) - 1])
        if self.chosen and not selected:
            colour = [c * 0.5 + 0.5 for c in colour[:3]] + [1]
        Color(*colour)
        Ellipse(pos=(cx - r, cy - r), size=(2 * r, 2 * r))
        Color(*theme.INK)
        Line(circle=(cx, cy, r), width=max(1.5, r / 30))
        eye = r * 0.12
        for dx in (-0.35, 0.35):
            Ellipse(pos=(cx + dx * r - eye, cy + 0.25 * r - eye), size=(2 * eye, 2 * eye))
        # The mouth: a curve from a frown (1) through a straight line (3) to a smile (5).
        bend = (self.value - 3) / 2.0  # -1 … 1
        points = []
        for i in range(21):
            t = -1 + i / 10.0
            x = cx + t * r * 0.45
            y = cy - r * 0.35 - bend * r * 0.22 * (1 - t * t) + bend * r * 0.1
            points += [x, y]
        Line(points=points, width=max(2.0, r / 14), cap="round", joint="round")

    def _star(self, cx: float, cy: float, r: float) -> None:
        filled = self.chosen >= self.value
        outer, inner = r, r * 0.45
        corners = []
        for i in range(10):
            radius = outer if i % 2 == 0 else inner
            angle = math.pi / 2 + i * math.pi / 5
            corners.append((cx + radius * math.cos(angle), cy + radius * math.sin(angle)))
        if filled:
            Color(0.95, 0.68, 0.1, 1)
            vertices = [cx, cy, 0, 0]
            for x, y in corners + corners[:1]:
                vertices += [x, y, 0, 0]
            Mesh(vertices=vertices, indices=list(range(len(vertices) // 4)),
                 mode="triangle_fan")
        Color(*(theme.INK if filled else theme.MUTED))
        flat = [c for point in corners + corners[:1] for c in point]
        Line(points=flat, width=max(1.5, r / 25), joint="round")


class Rating(BoxLayout):
    """Five choices; `value` is 0 until one is tapped, then 1–5."""

    value = NumericProperty(0)
    scale = OptionProperty("faces", options=["faces", "stars"])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.choices: dict[int, RatingChoice] = {}
        self.fbind("scale", self._build)
        self.fbind("value", self._mark)
        self._build()

    def _build(self, *_: Any) -> None:
        self.clear_widgets()
        self.choices = {}
        # Right to left: add 5 … 1 so that 1 is the rightmost.
        for value in range(5, 0, -1):
            choice = RatingChoice(value=value, scale=self.scale, chosen=self.value)
            self.choices[value] = choice
            self.add_widget(choice)

    def _mark(self, *_: Any) -> None:
        for choice in self.choices.values():
            choice.chosen = self.value
