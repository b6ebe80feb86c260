"""What every screen has: the app (`ui`), its state, and `refresh()` before it shows."""

from __future__ import annotations

from typing import Any

from kivy.properties import ObjectProperty, StringProperty
from kivy.uix.screenmanager import Screen


class KioskScreen(Screen):
    ui = ObjectProperty(None)
    state = ObjectProperty(None)
    agency = StringProperty("")
    logo = StringProperty("")

    def __init__(self, ui: Any, **kwargs: Any) -> None:
        super().__init__(ui=ui, state=ui.state, **kwargs)

    def on_pre_enter(self, *_: Any) -> None:
        catalog = self.state.catalog
        self.agency = catalog.agency.name if catalog is not None else ""
        self.logo = self.ui.icons.logo() or "" if self.ui.icons is not None else ""
        self.refresh()

    def refresh(self) -> None:
        """Show the state as it is now (called each time the screen comes up)."""

    # Helpers for the buttons every screen has.
    def go_home(self) -> None:
        self.ui.home()

    def go_back(self) -> None:
        self.ui.nav.back()
