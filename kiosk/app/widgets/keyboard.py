"""On-screen keyboards: Persian (with a Latin page) and a numeric keypad.

They never hold text: each tap fires `on_key` with the character to add, or BACKSPACE, and
the screen applies it to its own model of the logical text (`apply_key`), which a
PersianLabel shows shaped. Kivy's TextInput cannot edit Persian, so none is used.
"""

from __future__ import annotations

from typing import Any

from kivy.properties import BooleanProperty, OptionProperty, StringProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.gridlayout import GridLayout

from kiosk.app.widgets.buttons import KioskButton

BACKSPACE = "\b"
ZWNJ = "\u200c"
MODE = "\x0e"  # switch Persian ↔ Latin letters

PERSIAN_ROWS = (
    "۱۲۳۴۵۶۷۸۹۰",
    "ضصثقفغعهخحجچ",
    "شسیبلاتنمکگء",
    "ظطزرذدپوآژئؤ",
)
LATIN_ROWS = (
    "1234567890",
    "qwertyuiop",
    "asdfghjkl@",
    "zxcvbnm.-_",
)
DIGITS_FA = "۱۲۳۴۵۶۷۸۹"
KEY_NAMES = {BACKSPACE: "پاک کردن", " ": "فاصله", ZWNJ: "نیم‌فاصله", MODE: ""}
MAX_LENGTH = 4000


def apply_key(text: str, key: str, limit: int = MAX_LENGTH) -> str:
    """The logical text after one key: BACKSPACE removes the last character."""
    if key == BACKSPACE:
        return text[:-1]
    if key == MODE:
        return text
    if len(text) >= limit:
        return text
    if key in (" ", ZWNJ) and (not text or text[-1] in (" ", ZWNJ)):
        return text  # no leading or doubled spaces
    return text + key


class KeyButton(KioskButton):
    """One key; `value` is what it types."""


class PersianKeyboard(BoxLayout):
    """Persian letters right to left as on a standard (ISIRI 9147) keyboard, a Latin page
    for e-mail addresses, space, half-space (ZWNJ) and backspace."""

    mode = OptionProperty("fa", options=["fa", "en"])
    latin_allowed = BooleanProperty(True)

    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("orientation", "vertical")
        super().__init__(**kwargs)
        self.keys: dict[str, KeyButton] = {}
        self.fbind("mode", self._build)
        self.fbind("latin_allowed", self._build)
        self._build()

    def _key(self, value: str, label: str | None = None, kind: str = "key",
             **kwargs: Any) -> KeyButton:
        from kiosk.app.theme import T

        button = KeyButton(ltext=label if label is not None else value, value=value, kind=kind,
                           font_size=T.key, **kwargs)
        button.bind(on_tap=self._tapped)
        self.keys[value] = button
        return button

    def _build(self, *_: Any) -> None:
        from kiosk.app.theme import T

        self.clear_widgets()
        self.keys = {}
        self.spacing = T.gap / 3
        rows = PERSIAN_ROWS if self.mode == "fa" else LATIN_ROWS
        for row in rows:
            line = BoxLayout(spacing=T.gap / 3)
            # Persian keys run right to left: the row's first letter is the rightmost key.
            for ch in (reversed(row) if self.mode == "fa" else row):
                line.add_widget(self._key(ch))
            self.add_widget(line)
        bottom = BoxLayout(spacing=T.gap / 3)
        bottom.add_widget(self._key(BACKSPACE, KEY_NAMES[BACKSPACE], kind="secondary",
                                    size_hint_x=2.2))
        if self.latin_allowed:
            bottom.add_widget(self._key(MODE, "حروف فارسی" if self.mode == "en" else "ABC",
                                        kind="secondary", size_hint_x=1.8))
        if self.mode == "fa":
            bottom.add_widget(self._key(ZWNJ, KEY_NAMES[ZWNJ], kind="secondary",
                                        size_hint_x=1.8))
        bottom.add_widget(self._key(" ", KEY_NAMES[" "], kind="secondary", size_hint_x=4))
        self.add_widget(bottom)

    def _tapped(self, button: KeyButton) -> None:
        if button.value == MODE:
            self.mode = "en" if self.mode == "fa" else "fa"
            return
        self.dispatch("on_key", button.value)

    def on_key(self, key: str) -> None:
        """A key was tapped."""


class NumericKeypad(GridLayout):
    """Digits ۱–۹ and ۰ as on a phone, backspace, and one extra key (`/` for dates,
    «٫» for decimal numbers) when `extra` is set."""

    extra = StringProperty("")

    __events__ = ("on_key",)

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("cols", 3)
        super().__init__(**kwargs)
        self.keys: dict[str, KeyButton] = {}
        self.fbind("extra", self._build)
        self._build()

    def _build(self, *_: Any) -> None:
        from kiosk.app.theme import T

        self.clear_widgets()
        self.keys = {}
        self.spacing = T.gap / 2
        labels = list(DIGITS_FA) + [self.extra or "", "۰", BACKSPACE]
        # A keypad reads like a phone's, left to right: ۱ ۲ ۳ on top, ۰ at the bottom middle.
        for value in labels:
            label = KEY_NAMES.get(value, value)
            button = KeyButton(ltext=label, value=value,
                               font_size=T.key if value == BACKSPACE else T.heading * 1.4,
                               kind="secondary" if value == BACKSPACE else "key",
                               disabled=not value, opacity=1 if value else 0)
            button.bind(on_tap=self._tapped)
            if value:
                self.keys[value] = button
            self.add_widget(button)

    def _tapped(self, button: KeyButton) -> None:
        self.dispatch("on_key", button.value)

    def on_key(self, key: str) -> None:
        """A key was tapped."""
