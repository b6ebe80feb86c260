"""Apply, done: the tracking code, large, with its QR; whether the receipt printed."""

from __future__ import annotations

from kivy.properties import BooleanProperty, StringProperty

from kiosk.app.screens.base import KioskScreen
from kiosk.app.widgets.chrome import show_only
from shared import tracking_codes
from shared.receipts.layout import tracking_url

PRINTED = "رسید شما چاپ شد؛ آن را از دستگاه بردارید و نگه دارید."
NOT_PRINTED_TAIL = ("کد رهگیری بالا را یادداشت کنید یا با تلفن همراه از QR عکس بگیرید؛ "
                    "درخواست شما ثبت شده است و از بین نمی‌رود.")


class FiledScreen(KioskScreen):
    code = StringProperty("")
    url = StringProperty("")
    service_title = StringProperty("")
    print_message = StringProperty("")
    printed = BooleanProperty(True)
    has_queue = BooleanProperty(False)

    def refresh(self) -> None:
        filed = self.state.filed
        if filed is None:
            return
        code = filed.tracking_code
        self.code = tracking_codes.format_code_rtl_safe(code)
        self.url = tracking_url(self.ui.config.public_base_url, code)
        service = self.state.service
        self.service_title = service.title if service is not None else ""
        catalog = self.state.catalog
        self.has_queue = bool(catalog and catalog.queue_for(self.state.filed_service))
        show_only(self.ids.bar, [(self.ids.ticket, self.has_queue), (self.ids.finish, True)])
        self.printed = not filed.print_error
        if not filed.print_error:
            self.print_message = PRINTED
        else:
            reason = filed.print_error or "رسید چاپ نشد."
            self.print_message = f"{reason} {NOT_PRINTED_TAIL}"

    def ticket(self) -> None:
        """A queue ticket for the request just filed."""
        self.state.clear_ticket()
        self.ui.screen("ticket").choose(self.state.filed_service)

    def finish(self) -> None:
        filed = self.state.filed
        self.state.clear_survey()
        self.state.survey_service = self.state.filed_service
        self.state.survey_tracking_code = filed.tracking_code if filed is not None else ""
        self.ui.nav.go("survey")
