"""Home: the four things a visitor comes for, checking a document, and the survey."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.app.screens.base import KioskScreen


class HomeScreen(KioskScreen):
    status_text = StringProperty("")

    def refresh(self) -> None:
        self.status_text = self.ui.extras.get("status_text", lambda: "")()

    def browse(self) -> None:
        self.ui.nav.go("categories")

    def search(self) -> None:
        self.state.search_query = ""
        self.ui.nav.go("search")

    def take_ticket(self) -> None:
        self.state.clear_ticket()
        self.ui.nav.go("ticket")

    def track(self) -> None:
        self.state.clear_tracking()
        self.ui.nav.go("track")

    def verify(self) -> None:
        self.state.clear_verdict()
        self.ui.nav.go("verify")

    def survey(self) -> None:
        self.state.clear_survey()
        self.ui.nav.go("survey")
