"""Ticket, done: the number, large; people ahead and the estimated wait; the printout."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from kivy.properties import BooleanProperty, StringProperty

from kiosk.app.screens.base import KioskScreen
from shared.receipts.layout import wait_label
from shared.text import to_persian_digits

PRINTED = "نوبت شما چاپ شد؛ برگه را از دستگاه بردارید."
NOT_PRINTED_TAIL = "شمارهٔ نوبت بالا را به خاطر بسپارید؛ وقتی روی نمایشگر آمد به باجه بروید."


def wait_text(wait: Any) -> str:
    """The estimated wait as words: minutes, a (low, high) range, a timedelta, or unknown."""
    if isinstance(wait, timedelta):
        wait = round(wait.total_seconds() / 60)
    if isinstance(wait, list):
        wait = tuple(wait)
    try:
        return wait_label(wait)
    except (TypeError, ValueError):
        return to_persian_digits(wait) if wait is not None else wait_label(None)


class TicketDoneScreen(KioskScreen):
    number = StringProperty("")
    queue_title = StringProperty("")
    ahead = StringProperty("")
    wait = StringProperty("")
    linked = StringProperty("")
    print_message = StringProperty("")
    printed = BooleanProperty(True)

    def refresh(self) -> None:
        taken = self.state.ticket
        if taken is None:
            return
        self.number = taken.label_fa  # «ب-۰۲۳»: the letter first, read right to left
        self.queue_title = taken.queue_title
        ahead = taken.ahead
        self.ahead = ("نفر پیش از شما: " + to_persian_digits(ahead)) if ahead is not None \
            else ""
        self.wait = f"زمان تقریبی انتظار: {wait_text(taken.wait)}"
        filed = self.state.filed
        self.linked = ("این نوبت به درخواست تازهٔ شما پیوسته است." if filed is not None
                       and self.state.filed_service == self.state.ticket_service else "")
        error = getattr(taken, "print_error", None)
        self.printed = not error
        self.print_message = PRINTED if not error else f"{error} {NOT_PRINTED_TAIL}"

    def finish(self) -> None:
        taken = self.state.ticket
        filed = self.state.filed
        self.state.clear_survey()
        self.state.survey_service = self.state.ticket_service
        self.state.survey_ticket_id = str(taken.ticket_id) if taken is not None else ""
        if filed is not None and self.state.filed_service == self.state.ticket_service:
            self.state.survey_tracking_code = filed.tracking_code
        self.ui.nav.go("survey")
