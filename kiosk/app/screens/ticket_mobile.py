"""Ticket: an optional mobile for the queue's SMS («… نفر جلوی شما هستند», «نوبت شما: باجه ۴»),
typed on the keypad; empty, the ticket is taken without SMS."""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.app.persian import ltr
from kiosk.app.screens.base import KioskScreen
from kiosk.app.screens.ticket import take_ticket
from kiosk.app.widgets.keyboard import BACKSPACE
from shared.text import to_ascii_digits, to_persian_digits
from shared.validators import InvalidValue, clean_mobile

MOBILE_DIGITS = 11


def grouped_mobile(digits: str) -> str:
    """Typed digits as a mobile is read aloud, «۰۹۱۲ ۳۴۵ ۶۷۸۹», kept left to right."""
    digits = to_persian_digits(digits)
    groups = [digits[:4], digits[4:7], digits[7:]]
    return ltr(" ".join(g for g in groups if g)) if digits else ""


class TicketMobileScreen(KioskScreen):
    shown_mobile = StringProperty("")
    error = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self.state.fbind("ticket_mobile", self._show)

    def refresh(self) -> None:
        self.error = ""
        self._show()

    def _show(self, *_: Any) -> None:
        self.shown_mobile = grouped_mobile(self.state.ticket_mobile)

    def key(self, key: str) -> None:
        mobile = self.state.ticket_mobile
        if key == BACKSPACE:
            mobile = mobile[:-1]
        elif len(key) == 1 and to_ascii_digits(key).isdigit() and len(mobile) < MOBILE_DIGITS:
            mobile += to_persian_digits(key)
        self.state.ticket_mobile = mobile
        self.error = ""
        self.state.ticket_error = ""

    def submit(self) -> None:
        """Take the ticket, with the mobile when one was typed (checked here first)."""
        typed = self.state.ticket_mobile
        if typed:
            try:
                clean_mobile(typed)
            except InvalidValue as exc:
                self.error = exc.message
                return
        take_ticket(self.ui, self.state.ticket_service, self.state.ticket_priority or None,
                    mobile=typed or None)
