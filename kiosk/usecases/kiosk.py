"""`Kiosk`: the one object the touchscreen's screens talk to, each method one use case.

    catalog() / catalog_version() / survey_for(service)      what the kiosk offers
    validate(service, applicant, fields)                     Persian errors, the server's rules
    scan_document()                                          one document from the scanner
    file_request(service, applicant, fields, documents)      -> Filed (code, printed or why not)
    take_ticket(service, priority=None, tracking_code=None, mobile=None)
                                                             -> Taken, or CannotIssue
    track(code)                                              -> Tracked (live, or what it knows)
    answer_survey(answers, service=…, tracking_code=…, ticket_id=…)
    verify_seal(text)                                        -> Verdict (offline)
    hand_over(code, national_code)                           -> Handed (slips printed)
    status() / check_printer() / reprint(key)

Each method hands its work to the use case's module (`filing`, `tickets`, `tracking`,
`surveys`, `status`, `receipts`) with the kiosk's `KioskParts`. No Kivy here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests

from kiosk.config import KioskConfig
from kiosk.devices.document_scanner import DocumentScanner, ScannedDocument
from kiosk.local.catalog_cache import CatalogCache
from kiosk.local.store import KioskStore, utcnow
from kiosk.sync.api_client import ApiClient
from kiosk.sync.policy import KioskPolicy
from kiosk.usecases import (
    delivered,
    filing,
    receipts,
    seal_check,
    status,
    surveys,
    tickets,
    tracking,
)
from kiosk.usecases.delivered import Handed
from kiosk.usecases.filing import Filed
from kiosk.usecases.parts import KioskParts
from kiosk.usecases.receipts import Printed
from kiosk.usecases.seal_check import Verdict
from kiosk.usecases.status import KioskStatus
from kiosk.usecases.tickets import Taken
from kiosk.usecases.tracking import Tracked
from shared.catalog.schema import Catalog, Survey
from shared.devices.escpos_printer import PrinterStatus, ReceiptPrinter


class Kiosk:
    """The kiosk's use cases over its store, printer, scanner and the server."""

    def __init__(self, config: KioskConfig, store: KioskStore,
                 printer: ReceiptPrinter | None, document_scanner: DocumentScanner | None,
                 clock: Callable[[], datetime] = utcnow, *,
                 policy: KioskPolicy | None = None,
                 session: requests.Session | None = None,
                 notify: Callable[[], None] | None = None) -> None:
        """`notify` is called after each new record (the app passes `SyncEngine.wake`)."""
        policy = policy or KioskPolicy()
        self.parts = KioskParts(
            config=config, store=store, printer=printer, document_scanner=document_scanner,
            api=ApiClient(config, session, clock, policy), catalogs=CatalogCache(store),
            policy=policy, clock=clock, notify=notify or (lambda: None))

    # --- what the kiosk offers -----------------------------------------------------------

    def catalog(self) -> Catalog:
        """The last good catalog from the store, else the one bundled with the kiosk."""
        return self.parts.catalogs.current().catalog

    def catalog_version(self) -> int | None:
        """The version of `catalog()`; None for the bundled catalog."""
        return self.parts.catalogs.current().version

    def survey_for(self, service: str | None) -> Survey | None:
        """The service's own survey, else the catalog's default one (None: no survey)."""
        return surveys.survey_for(self.parts, service)

    # --- filing a request ----------------------------------------------------------------

    def validate(self, service: str, applicant: Mapping[str, Any],
                 fields: Mapping[str, Any]) -> dict[str, str]:
        """Persian errors by "applicant.<name>" and "fields.<name>" (empty: all good)."""
        return filing.validate(self.parts, service, applicant, fields)

    def scan_document(self) -> ScannedDocument:
        """One document from the configured scanner; ScanFailed with a Persian message."""
        return filing.scan_document(self.parts)

    def file_request(self, service: str, applicant: Mapping[str, Any],
                     fields: Mapping[str, Any],
                     documents: Mapping[str, list[ScannedDocument]]) -> Filed:
        """Commit the request, its documents and its receipt together, then print."""
        return filing.file_request(self.parts, service, applicant, fields, documents)

    # --- tickets, tracking, surveys ------------------------------------------------------

    def take_ticket(self, service: str, priority: str | None = None,
                    tracking_code: str | None = None, mobile: str | None = None) -> Taken:
        """A queue ticket, saved before it is printed; CannotIssue when there is none,
        InvalidForm for a mobile (optional, for the queue's SMS) that is not valid."""
        return tickets.take_ticket(self.parts, service, priority, tracking_code, mobile)

    def track(self, code: str) -> Tracked:
        """A request's state, live from the server or what this kiosk knows of it."""
        return tracking.track(self.parts, code)

    def answer_survey(self, answers: Mapping[str, int], *, service: str | None = None,
                      tracking_code: str | None = None, ticket_id: str | None = None,
                      comment: str | None = None) -> None:
        """Queue the answers (1 worst … 5 best, by question id) for the server."""
        surveys.answer_survey(self.parts, answers, service=service,
                              tracking_code=tracking_code, ticket_id=ticket_id,
                              comment=comment)

    def verify_seal(self, text: str) -> Verdict:
        """A delivered document's seal checked offline: the stored keys and revocations."""
        return seal_check.check(self.parts.config, self.parts.store, text,
                                self.parts.server_now())

    def hand_over(self, code: str, national_code: str) -> Handed:
        """The delivery slips of the request's documents, after the server's national-code
        check (and their PDFs on the A4 printer, where there is one); KioskError if not."""
        return delivered.hand_over(self.parts, code, national_code)

    # --- status, printer, reprint --------------------------------------------------------

    def status(self) -> KioskStatus:
        """The status bar's facts (no device or network call)."""
        return status.status(self.parts)

    def check_printer(self) -> PrinterStatus | None:
        """Ask the printer now; None when the kiosk has no printer."""
        return status.check_printer(self.parts)

    def reprint(self, key: str) -> Printed:
        """Print a receipt again by tracking code or ticket id; NotFound if not here."""
        return receipts.reprint(self.parts, key)
