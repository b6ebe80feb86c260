"""The parts every screen shares: the header, right-to-left rows, tiles, notices, the answer
box that shows what is being typed."""

from __future__ import annotations

from typing import Any

from kivy.properties import (
    BooleanProperty,
    ListProperty,
    NumericProperty,
    OptionProperty,
    StringProperty,
)
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout

from kiosk.app.widgets.buttons import GATE


class RtlBox(BoxLayout):
    """A horizontal row laid out right to left: the first child is the rightmost."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "horizontal")
        super().__init__(**kwargs)

    def add_widget(self, widget: Any, index: int = 0, canvas: Any = None) -> None:
        if self.orientation == "horizontal" and index == 0:
            index = len(self.children)
        super().add_widget(widget, index=index, canvas=canvas)


class Header(RtlBox):
    """The agency's bar at the top of a screen: logo, title, a line under it."""

    title = StringProperty("")
    subtitle = StringProperty("")
    logo = StringProperty("")


class Tile(ButtonBehavior, RtlBox):
    """A tappable card: an icon on the right, a bold title and a line or two under it."""

    title = StringProperty("")
    subtitle = StringProperty("")
    icon = StringProperty("")
    value = StringProperty("")
    highlight = BooleanProperty(False)

    __events__ = ("on_tap",)

    def on_release(self) -> None:
        from kivy.core.window import Window

        touch = self.last_touch
        pos = (touch.sx * Window.width, touch.sy * Window.height) if touch else None
        if GATE.accept(pos):
            self.dispatch("on_tap")

    def on_tap(self) -> None:
        """What the tile does."""

    def tap(self) -> None:
        self.dispatch("on_tap")


class Notice(BoxLayout):
    """A message box: error (red), ok (green), warning (amber) or info; hidden when empty."""

    ltext = StringProperty("")
    kind = OptionProperty("error", options=["error", "ok", "warning", "info"])
    fill = ListProperty([1, 1, 1, 1])
    edge = ListProperty([0, 0, 0, 1])
    ink = ListProperty([0, 0, 0, 1])

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.fbind("kind", self._paint)
        self._paint()

    def _paint(self, *_: Any) -> None:
        from kiosk.app import theme

        fill, edge, ink = {
            "error": (theme.DANGER_BG, theme.DANGER, theme.DANGER),
            "ok": (theme.OK_BG, theme.OK, theme.OK),
            "warning": (theme.WARN_BG, theme.ACCENT, theme.INK),
            "info": (theme.BRAND_LIGHT, theme.BRAND, theme.INK),
        }[self.kind]
        self.fill, self.edge, self.ink = list(fill), list(edge), list(ink)


class AnswerBox(BoxLayout):
    """Shows the logical text being typed, shaped, in a framed box (a caret at its end)."""

    ltext = StringProperty("")
    placeholder = StringProperty("")
    direction = OptionProperty("auto", options=["auto", "rtl", "ltr"])
    #: "center" for digits (a code, a date, a phone number), which read left to right.
    align = OptionProperty("start", options=["start", "center", "end"])
    invalid = BooleanProperty(False)
    lines = NumericProperty(1)


class BottomBar(RtlBox):
    """The row of big buttons at the foot of a screen, first (rightmost) to last."""


def show_only(row: Any, widgets: list[tuple[Any, bool]]) -> None:
    """Put in `row` just the widgets whose flag is true, in the order given (a hidden button
    takes no room and cannot be tapped)."""
    # kv ids are weak references: a widget out of the tree needs a strong one to survive.
    row.kept_widgets = [widget.__self__ for widget, _ in widgets]
    wanted = [widget.__self__ for widget, visible in widgets if visible]
    current = list(row.children) if isinstance(row, RtlBox) else list(reversed(row.children))
    if current == wanted:
        return
    row.clear_widgets()
    for widget in wanted:
        row.add_widget(widget)
