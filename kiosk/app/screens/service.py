"""The service page: every directive field, scrollable; apply here or take a ticket."""

from __future__ import annotations

from kivy.properties import BooleanProperty, ObjectProperty, StringProperty

from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import show_only
from shared.catalog.schema import Channel


class ServiceScreen(KioskScreen):
    service = ObjectProperty(None, allownone=True)
    can_apply = BooleanProperty(False)
    has_queue = BooleanProperty(False)
    note = StringProperty("")

    def refresh(self) -> None:
        service = self.state.service
        self.service = service
        catalog = self.state.catalog
        self.can_apply = bool(service and Channel.kiosk in service.channels)
        self.has_queue = bool(service and catalog and catalog.queue_for(service.slug))
        if service is not None and not self.can_apply:
            self.note = ("درخواست این خدمت در کیوسک ثبت نمی‌شود؛ "
                         + ("نوبت بگیرید تا در باجه ثبت شود." if self.has_queue
                            else "لطفاً به پذیرش مراجعه کنید."))
        else:
            self.note = ""
        show_only(self.ids.bar, [(self.ids.back, True), (self.ids.ticket, self.has_queue),
                                 (self.ids.apply, self.can_apply)])

    def apply(self) -> None:
        if self.service is None or not self.can_apply:
            return
        self.state.start_application(self.service.slug)
        self.ui.nav.go("question")

    def ticket(self) -> None:
        if self.service is None:
            return
        self.state.clear_ticket()
        self.state.ticket_service = self.service.slug
        self.ui.screen("ticket").choose(self.service.slug)
