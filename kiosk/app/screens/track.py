"""Track: hold the receipt's QR to the scanner, or type the 16-digit code on the keypad."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.app.context import Ui, message_of
from kiosk.app.persian import ltr
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.keyboard import BACKSPACE
from shared import tracking_codes
from shared.text import to_ascii_digits, to_persian_digits

CODE_DIGITS = tracking_codes.CODE_LENGTH


def grouped(digits: str) -> str:
    """Typed digits in groups of four, Persian, kept left to right inside Persian text."""
    digits = to_persian_digits(digits)
    return ltr(" ".join(digits[i:i + 4] for i in range(0, len(digits), 4))) if digits else ""


def look_up(ui: Ui, code: str) -> None:
    """Ask for the request's state (on the worker); the result screen, or the reason."""
    state = ui.state
    state.track_error = ""
    try:
        normalized = tracking_codes.normalize(code)
    except tracking_codes.InvalidCode as exc:
        state.track_error = exc.message
        return
    state.track_code = to_persian_digits(normalized)

    def done(found: Any) -> None:
        state.tracked = found
        ui.nav.go("track_result")

    def failed(exc: BaseException) -> None:
        state.track_error = message_of(exc)
        if ui.nav.current != "track":
            ui.nav.go("track")

    ui.worker.run(lambda: ui.kiosk.track(normalized), done, failed,
                  busy_text="در حال دریافت وضعیت درخواست…")


class TrackScreen(KioskScreen):
    shown_code = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self.state.fbind("track_code", self._show)

    def refresh(self) -> None:
        self._show()

    def _show(self, *_: Any) -> None:
        self.shown_code = grouped(self.state.track_code)

    def key(self, key: str) -> None:
        code = self.state.track_code
        if key == BACKSPACE:
            code = code[:-1]
        elif len(key) == 1 and to_ascii_digits(key).isdigit() and len(code) < CODE_DIGITS:
            code += to_persian_digits(key)
        self.state.track_code = code
        self.state.track_error = ""

    def submit(self) -> None:
        look_up(self.ui, self.state.track_code)
