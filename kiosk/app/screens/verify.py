"""Verify: hold a delivered document's QR to the scanner; its seal is checked on this kiosk,
with no network, and the verdict shown with the document's facts (`kiosk.usecases.seal_check`).
"""

from __future__ import annotations

from typing import Any

from kivy.properties import StringProperty

from kiosk.app import theme
from kiosk.app.context import Ui, message_of
from kiosk.app.persian import ltr
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import Notice
from kiosk.app.widgets.service_page import Card
from kiosk.app.widgets.text import Paragraph

#: Facts written left to right inside the Persian line (a number with a dash, a masked code).
LTR_FACTS = frozenset({"شماره سند", "کد ملی دارنده"})
OUTCOME_KINDS = {"valid": "ok", "revoked": "error", "expired": "warning", "refused": "error"}
WAITING = "در انتظار خواندن QR مدرک…"


def check_seal(ui: Ui, text: str) -> None:
    """Check the scanned seal (on the worker) and show the verdict on the verify screen."""
    state = ui.state

    def done(verdict: Any) -> None:
        state.verdict = verdict
        ui.nav.go("verify")

    def failed(exc: BaseException) -> None:
        state.verdict = None
        ui.nav.go("verify")
        ui.screen("verify").show_error(message_of(exc))

    ui.worker.run(lambda: ui.kiosk.verify_seal(text), done, failed,
                  busy_text="در حال بررسی مهر مدرک…")


class VerifyScreen(KioskScreen):
    headline = StringProperty(WAITING)
    kind = StringProperty("info")

    def refresh(self) -> None:
        box = self.ids.body
        box.clear_widgets()
        verdict = self.state.verdict
        if verdict is None:
            self.headline, self.kind = WAITING, "info"
            return
        self.headline = verdict.headline
        self.kind = OUTCOME_KINDS[verdict.outcome]
        if verdict.reason:
            box.add_widget(Notice(kind=self.kind, ltext=verdict.reason))
        rows = verdict.lines()
        if rows:
            card = Card()
            for label, value in rows:
                shown = ltr(value) if label in LTR_FACTS else value
                card.add_widget(Paragraph(ltext=f"{label}: {shown}"))
            box.add_widget(card)
        if verdict.outcome != "refused" or verdict.code == "no_seal_key":
            box.add_widget(Paragraph(ltext=verdict.freshness(), font_size=theme.T.small,
                                     color=theme.MUTED))
        self.ids.scroll.scroll_y = 1

    def show_error(self, message: str) -> None:
        self.headline, self.kind = message, "error"

    def another(self) -> None:
        self.state.clear_verdict()
        self.refresh()
