"""The app's state: one observable object that every screen reads and writes.

Screens hold no data of their own: what a citizen chose, typed, scanned, filed or took is
here, in Kivy properties the screens' kv rules bind to. `reset()` wipes all of it — the idle
reset and «صفحه اصلی» call it — so nothing a citizen entered stays on screen for the next.
"""

from __future__ import annotations

from kivy.event import EventDispatcher
from kivy.properties import (
    BooleanProperty,
    DictProperty,
    ListProperty,
    NumericProperty,
    ObjectProperty,
    StringProperty,
)

from shared.catalog.schema import Catalog, ServiceSpec

#: Seconds without a touch before «هنوز اینجا هستید؟» (a kiosk's config may set `idle_seconds`).
IDLE_SECONDS = 60.0
#: Seconds the question stays up, counting down, before everything is wiped.
COUNTDOWN_SECONDS = 15.0


class KioskState(EventDispatcher):
    """Everything on screen that is not the catalog's own text."""

    catalog = ObjectProperty(None, allownone=True)
    catalog_version = ObjectProperty(None, allownone=True)

    # Browsing the catalog.
    category = StringProperty("")
    service_slug = StringProperty("")
    search_query = StringProperty("")

    # Applying: answers by "applicant.<name>" / "fields.<name>", raw as entered.
    answers = DictProperty({})
    errors = DictProperty({})
    question_index = NumericProperty(0)
    scans = DictProperty({})  # document id -> [ScannedDocument]
    thumbnails = DictProperty({})  # document id -> [small Pillow image]
    skipped = ListProperty([])  # optional documents the citizen chose not to give
    document_index = NumericProperty(0)
    document_error = StringProperty("")
    filed = ObjectProperty(None, allownone=True)  # kiosk.usecases.filing.Filed
    filed_service = StringProperty("")
    file_error = StringProperty("")

    # Queue tickets.
    ticket_service = StringProperty("")
    ticket_priority = StringProperty("")
    ticket_mobile = StringProperty("")  # as typed, Persian digits; empty: no SMS
    ticket = ObjectProperty(None, allownone=True)  # kiosk.usecases.tickets.Taken
    ticket_error = StringProperty("")

    # Tracking.
    track_code = StringProperty("")  # the digits as typed (logical text)
    tracked = ObjectProperty(None, allownone=True)  # kiosk.usecases.tracking.Tracked
    track_error = StringProperty("")
    # The delivery slip of a tracked request: the national code as typed, what was printed.
    holder_code = StringProperty("")
    handed = ObjectProperty(None, allownone=True)  # kiosk.usecases.delivered.Handed
    hand_error = StringProperty("")

    # Checking a delivered document's seal.
    verdict = ObjectProperty(None, allownone=True)  # kiosk.usecases.seal_check.Verdict

    # The survey, about the flow just finished (or about nothing in particular).
    survey_service = StringProperty("")
    survey_tracking_code = StringProperty("")
    survey_ticket_id = StringProperty("")
    survey_answers = DictProperty({})
    survey_error = StringProperty("")
    survey_sent = BooleanProperty(False)

    # The app.
    busy = BooleanProperty(False)
    busy_text = StringProperty("")
    idle_left = NumericProperty(-1)  # the countdown's seconds; -1 while not asking
    idle_seconds = NumericProperty(IDLE_SECONDS)
    countdown_seconds = NumericProperty(COUNTDOWN_SECONDS)

    # -- reading -------------------------------------------------------------------------

    @property
    def service(self) -> ServiceSpec | None:
        """The service on screen or being applied for."""
        catalog: Catalog | None = self.catalog
        return catalog.service(self.service_slug) if catalog and self.service_slug else None

    def has_input(self) -> bool:
        """True when anything a citizen entered or received is held (worth wiping)."""
        return bool(self.answers or self.scans or self.filed or self.ticket or self.track_code
                    or self.holder_code or self.handed
                    or self.ticket_mobile
                    or self.tracked or self.verdict or self.search_query or self.survey_answers
                    or self.skipped)

    # -- changing ------------------------------------------------------------------------

    def start_application(self, slug: str) -> None:
        """A fresh form for `slug`: earlier answers, scans and results are dropped."""
        self.clear_application()
        self.service_slug = slug

    def clear_application(self) -> None:
        self.answers = {}
        self.errors = {}
        self.question_index = 0
        self.scans = {}
        self.thumbnails = {}
        self.skipped = []
        self.document_index = 0
        self.document_error = ""
        self.filed = None
        self.filed_service = ""
        self.file_error = ""

    def clear_ticket(self) -> None:
        self.ticket_service = ""
        self.ticket_priority = ""
        self.ticket_mobile = ""
        self.ticket = None
        self.ticket_error = ""

    def clear_tracking(self) -> None:
        self.track_code = ""
        self.tracked = None
        self.track_error = ""
        self.clear_hand_over()

    def clear_hand_over(self) -> None:
        self.holder_code = ""
        self.handed = None
        self.hand_error = ""

    def clear_verdict(self) -> None:
        self.verdict = None

    def clear_survey(self) -> None:
        self.survey_service = ""
        self.survey_tracking_code = ""
        self.survey_ticket_id = ""
        self.survey_answers = {}
        self.survey_error = ""
        self.survey_sent = False

    def reset(self) -> None:
        """Wipe everything a citizen entered or was shown about themselves."""
        self.clear_application()
        self.clear_ticket()
        self.clear_tracking()
        self.clear_verdict()
        self.clear_survey()
        self.category = ""
        self.service_slug = ""
        self.search_query = ""
        self.idle_left = -1
