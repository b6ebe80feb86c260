"""Ticket: pick the service you came for (→ priority, when its queue has classes) → an
optional mobile for the queue's SMS → a printed queue ticket (linked to the request just
filed, when there is one)."""

from __future__ import annotations

from typing import Any

from kiosk.app.context import Ui, message_of
from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import Tile
from kiosk.app.widgets.text import Heading


def take_ticket(ui: Ui, slug: str, priority: str | None, mobile: str | None = None) -> None:
    """Take the ticket on the worker; the ticket screen, or the reason on this one."""
    state = ui.state
    filed = state.filed
    code = filed.tracking_code if filed is not None and state.filed_service == slug else None
    state.ticket_error = ""
    state.ticket_priority = priority or ""

    def done(taken: Any) -> None:
        state.ticket = taken
        state.ticket_mobile = ""  # the ticket has it; the screen keeps it no longer
        ui.nav.go("ticket_done", remember=False)

    def failed(exc: BaseException) -> None:
        errors = getattr(exc, "errors", None) or {}
        state.ticket_error = errors.get("mobile") or message_of(exc)

    ui.worker.run(lambda: ui.kiosk.take_ticket(slug, priority=priority, tracking_code=code,
                                               mobile=mobile),
                  done, failed, busy_text="در حال صدور و چاپ نوبت…")


class TicketScreen(KioskScreen):
    def refresh(self) -> None:
        box = self.ids.tiles
        box.clear_widgets()
        catalog = self.state.catalog
        if catalog is None:
            return
        services = {s.slug: s for s in catalog.services}
        for queue in catalog.queues:
            box.add_widget(Heading(ltext=queue.title))
            for slug in queue.services:
                service = services.get(slug)
                if service is None:
                    continue
                tile = Tile(title=service.title, value=slug)
                tile.bind(on_tap=lambda t: self.choose(t.value))
                box.add_widget(tile)
        self.ids.scroll.scroll_y = 1

    def choose(self, slug: str) -> None:
        """A service chosen: ask about priority if its queue has priority classes, then
        for a mobile."""
        state = self.state
        catalog = state.catalog
        queue = catalog.queue_for(slug) if catalog is not None else None
        state.ticket_service = slug
        state.ticket_priority = ""
        state.ticket_error = ""
        self.ui.nav.go("priority" if queue is not None and queue.priority_classes
                       else "ticket_mobile")
