"""Ticket: an ordinary ticket, or one for a priority class (elderly, disabled, veterans);
then the optional mobile."""

from __future__ import annotations

from kivy.properties import StringProperty

from kiosk.app import theme
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.buttons import KioskButton


class PriorityScreen(KioskScreen):
    service_title = StringProperty("")

    def refresh(self) -> None:
        catalog = self.state.catalog
        slug = self.state.ticket_service
        service = catalog.service(slug) if catalog is not None else None
        queue = catalog.queue_for(slug) if catalog is not None else None
        self.service_title = service.title if service is not None else ""
        box = self.ids.classes
        box.clear_widgets()
        if queue is None or catalog is None:
            return
        titles = {p.slug: p.title for p in catalog.priority_classes}
        for slug_ in queue.priority_classes:
            button = KioskButton(ltext=titles.get(slug_, slug_), value=slug_, kind="secondary",
                                 font_size=theme.T.button)
            button.bind(on_tap=lambda b: self.take(b.value))
            box.add_widget(button)

    def take(self, priority: str | None) -> None:
        self.state.ticket_priority = priority or ""
        self.state.ticket_error = ""
        self.ui.nav.go("ticket_mobile")
