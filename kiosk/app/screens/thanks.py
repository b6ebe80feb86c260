"""Thanks: a moment, then home with everything wiped."""

from __future__ import annotations

from typing import Any

from kivy.clock import Clock

from kiosk.app.screens.base import KioskScreen

BACK_HOME_AFTER = 8.0


class ThanksScreen(KioskScreen):
    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui, **kwargs)
        self._event: Any = None

    def refresh(self) -> None:
        self._cancel()
        self._event = Clock.schedule_once(lambda _dt: self.finish(), BACK_HOME_AFTER)

    def on_leave(self, *_: Any) -> None:
        self._cancel()

    def _cancel(self) -> None:
        if self._event is not None:
            self._event.cancel()
            self._event = None

    def finish(self) -> None:
        self._cancel()
        if self.ui.nav.current == "thanks":
            self.ui.home()
