"""Hand over: after tracking a request whose document was delivered, the citizen types their
national code on the keypad and gets the delivery slip with the document's seal QR (and the
signed PDF on the A4 printer, where the kiosk has one): `kiosk.usecases.delivered`."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.app.context import message_of
from kiosk.app.persian import ltr
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.keyboard import BACKSPACE
from shared.text import to_ascii_digits, to_persian_digits

NATIONAL_CODE_DIGITS = 10


def printed_note(handed: Any) -> str:
    """«برگهٔ تحویل «کارت راهنمای گردشگری» چاپ شد.» for each document printed."""
    titles = "، ".join(f"«{d.title}»" for d in handed.documents)
    note = f"برگهٔ تحویل {titles} چاپ شد؛ آن را بردارید."
    if handed.pdfs:
        note += " نسخهٔ کامل سند هم روی چاپگر A4 چاپ شد."
    return note


class HandOverScreen(KioskScreen):
    shown_code = StringProperty("")
    done_text = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self.state.fbind("holder_code", self._show)

    def refresh(self) -> None:
        self._show()
        handed = self.state.handed
        self.done_text = printed_note(handed) if handed is not None else ""

    def _show(self, *_: Any) -> None:
        code = self.state.holder_code
        self.shown_code = ltr(code) if code else ""

    def key(self, key: str) -> None:
        code = self.state.holder_code
        if key == BACKSPACE:
            code = code[:-1]
        elif (len(key) == 1 and to_ascii_digits(key).isdigit()
              and len(code) < NATIONAL_CODE_DIGITS):
            code += to_persian_digits(key)
        self.state.holder_code = code
        self.state.hand_error = ""

    def submit(self) -> None:
        tracked = self.state.tracked
        if tracked is None:
            return
        state = self.state

        def done(handed: Any) -> None:
            state.handed = handed
            state.holder_code = ""  # the national code does not stay on screen
            state.hand_error = handed.problem or ""
            self.refresh()

        def failed(exc: BaseException) -> None:
            state.hand_error = message_of(exc)

        code = to_ascii_digits(state.holder_code)
        self.ui.worker.run(lambda: self.ui.kiosk.hand_over(tracked.tracking_code, code), done,
                           failed, busy_text="در حال چاپ برگهٔ تحویل…")
