"""The kiosk's use cases, called by the touchscreen's screens (no Kivy here).

`Kiosk` is the one object the screens talk to:

    catalog() / catalog_version() / survey_for(service)      what the kiosk offers
    validate(service, applicant, fields)                     Persian errors, the server's rules
    scan_document()                                          one document from the scanner
    file_request(service, applicant, fields, documents)      -> Filed (code, printed or why not)
    take_ticket(service, priority=None, tracking_code=None)  -> Taken, or CannotIssue
    track(code)                                              -> Tracked (live, or what it knows)
    answer_survey(answers, service=…, tracking_code=…, ticket_id=…)
    status() / check_printer() / reprint(key)

Every use case that makes something commits it to the local store — the outbox record(s)
and the receipt's values, in one transaction — before anything is printed; the sync
(`kiosk.sync`) delivers it later, in order, exactly once. A printer failure never loses a
record: the citizen is told in Persian to ask reception, which reprints it.

Everything the screens must show arrives as Persian text: `KioskError.message` (and its
kinds `CannotIssue`, `InvalidForm`, `NotFound`, `ScanFailed`), `Filed.print_error`,
`Taken.print_error`, `Tracked.status_label`, `KioskStatus.message`. National codes and other
personal data never go to logs.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import requests

from kiosk.config import KioskConfig
from kiosk.devices.document_scanner import (
    MESSAGE_NOT_SET_UP,
    DocumentScanner,
    ScanError,
    ScannedDocument,
    to_upload,
)
from kiosk.local.catalog_cache import CatalogCache
from kiosk.local.store import (
    CLOCK_DRIFT,
    CLOCK_OFFSET,
    LAST_CONTACT,
    LAST_SYNC,
    OFFICE,
    PRINTER_STATE,
    KioskStore,
    LeasedNumber,
    NewRecord,
    OutboxRecord,
    ReceiptKind,
    clock_offset,
    utcnow,
)
from kiosk.printing import SAVED_AND_WHERE_TO_GO, save_and_print, to_plain, told_to_citizen
from kiosk.sync.api_client import (
    TICKETS_PATH,
    ApiClient,
    Reply,
    Unreachable,
    is_transient,
    parse_time,
)
from kiosk.sync.delivery import ack_of, send_record
from kiosk.sync.policy import KioskPolicy
from kiosk.sync.redaction import redacted_logger
from shared import tracking_codes
from shared.catalog.schema import Catalog, Channel, QueueSpec, ServiceSpec, Survey
from shared.devices.escpos_printer import (
    PRINT_FAILED,
    PrinterError,
    PrinterStatus,
    ReceiptPrinter,
)
from shared.forms import validate_applicant, validate_form
from shared.text import to_persian_digits
from shared.workcalendar import WorkCalendar

log = redacted_logger(__name__)

SERVICE_NOT_FOUND = "خدمتی با این شناسه در فهرست خدمات نیست."
NOT_AT_KIOSK = "این خدمت از راه کیوسک ارائه نمی‌شود؛ لطفاً به پذیرش مراجعه کنید."
FORM_INVALID = "برخی از اطلاعات واردشده درست نیست؛ لطفاً موارد مشخص‌شده را اصلاح کنید."
UNKNOWN_SLOT = "این مدرک در فهرست مدارک این خدمت نیست."
TOO_MANY_FILES = "برای «{name}» بیش از {count} سند پذیرفته نمی‌شود."
ONE_PAGE_ONLY = "برای «{name}» فقط یک صفحه پذیرفته می‌شود؛ لطفاً فقط یک صفحه اسکن کنید."
FORMAT_NOT_MADE = ("کیوسک نمی‌تواند «{name}» را در قالب پذیرفته‌شده آماده کند؛ "
                   "لطفاً آن را در پذیرش تحویل دهید.")
NOT_SAVED = "ثبت در کیوسک انجام نشد؛ لطفاً دوباره تلاش کنید یا به پذیرش مراجعه کنید."
NO_PRINTER = f"این کیوسک چاپگر ندارد. {SAVED_AND_WHERE_TO_GO}"
OUT_OF_TOUCH = ("این کیوسک مدتی است به سامانه وصل نیست و نمی‌تواند نوبت بدهد؛ "
                "لطفاً از پذیرش نوبت بگیرید.")
NO_NUMBERS = ("این کیوسک اکنون شماره نوبت آماده ندارد و به سامانه هم وصل نیست؛ "
              "لطفاً از پذیرش نوبت بگیرید.")
NO_QUEUE = "برای این خدمت در این دفتر نوبت حضوری داده نمی‌شود؛ لطفاً به پذیرش مراجعه کنید."
QUEUE_CLOSED = "نوبت‌دهی صف «{title}» اکنون بسته است."
PRIORITY_NOT_OFFERED = "این گروه اولویت در صف این خدمت تعریف نشده است."
TICKET_REFUSED = "صدور نوبت انجام نشد؛ لطفاً از پذیرش نوبت بگیرید."
NO_SURVEY = "برای این خدمت نظرسنجی تعریف نشده است."
BAD_ANSWERS = "پاسخ‌ها با پرسش‌های نظرسنجی نمی‌خوانند."
COMMENT_TOO_LONG = "توضیح نظرسنجی نباید بیش از {limit} نویسه باشد."
TRACK_NOT_FOUND = "درخواستی با این کد رهگیری پیدا نشد."
TRACK_UNAVAILABLE = ("سامانه اکنون در دسترس نیست و این کد در این کیوسک ثبت نشده است؛ "
                     "لطفاً کمی بعد دوباره تلاش کنید.")
NOT_LIVE_NOTE = ("سامانه اکنون در دسترس نیست؛ این وضعیت از سوابق همین کیوسک است "
                 "و ممکن است به‌روز نباشد.")
RECEIPT_NOT_FOUND = "رسیدی با این شناسه در این کیوسک پیدا نشد."
LOCAL_STATUS = {
    "pending": ("queued", "در صف ارسال به سامانه"),
    "sent": ("received", "ثبت‌شده در سامانه"),
    "failed": ("refused", "ارسال نشد؛ لطفاً به پذیرش مراجعه کنید"),
}
STATUS_OFFLINE = ("کیوسک به سامانه وصل نیست؛ درخواست‌ها در کیوسک ذخیره و پس از "
                  "برقراری ارتباط ارسال می‌شوند.")
STATUS_DRIFT = "ساعت کیوسک {seconds} ثانیه با ساعت سامانه اختلاف دارد؛ لطفاً آن را تنظیم کنید."
STATUS_FAILED = "{count} مورد را سامانه نپذیرفت؛ کارکنان باید آن‌ها را بررسی کنند."
MAX_COMMENT = 500  # the server takes no more
SCORE_RANGE = range(1, 6)


# --- errors the screens show -----------------------------------------------------------

class KioskError(Exception):
    """Something the citizen must be told: `message` is Persian, `detail` is for the log."""

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(detail or message)
        self.message, self.detail = message, detail


class CannotIssue(KioskError):
    """No ticket from this kiosk now (no numbers, out of touch, queue closed); the message
    sends the citizen to reception."""


class InvalidForm(KioskError):
    """The form has errors: `errors` maps "applicant.<name>" / "fields.<name>" to Persian."""

    def __init__(self, errors: Mapping[str, str]) -> None:
        super().__init__(FORM_INVALID, f"{len(errors)} field error(s)")
        self.errors = dict(errors)


class NotFound(KioskError):
    """No such request or receipt."""


class ScanFailed(KioskError):
    """The document could not be scanned or prepared for upload."""


# --- what the use cases return ---------------------------------------------------------

@dataclass(frozen=True)
class Printed:
    """How printing went: the printer's state before printing, or the Persian reason."""

    printed: PrinterStatus | None
    print_error: str | None


@dataclass(frozen=True)
class Filed:
    """A request filed at this kiosk (saved before anything was printed)."""

    tracking_code: str
    printed: PrinterStatus | None
    print_error: str | None


@dataclass(frozen=True)
class Taken:
    """A queue ticket. `ahead` and `wait` are None when the kiosk numbered it offline."""

    ticket_id: str
    label_fa: str
    queue_title: str
    ahead: int | None
    wait: int | tuple[int, int] | None
    printed: PrinterStatus | None
    print_error: str | None
    label: str = ""
    online: bool = False
    issued_at: datetime | None = None


@dataclass(frozen=True)
class Tracked:
    """A request's state: from the server (`live`), or what this kiosk knows (`note` says so).

    `status` is the server's status slug, or locally "queued" / "received" / "refused";
    `details` is the server's whole public answer (steps, documents, citizen action) when live.
    """

    tracking_code: str
    live: bool
    status: str
    status_label: str
    service: str | None
    service_title: str | None
    submitted_at: datetime | None
    due_date: date | None
    note: str | None = None
    details: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class KioskStatus:
    """The kiosk's state for its status bar and for staff."""

    online: bool
    last_contact_at: datetime | None
    last_sync_at: datetime | None
    outbox_depth: int
    failed: int
    printer: PrinterStatus | None
    clock_offset_seconds: float | None
    clock_drift: bool
    can_issue_tickets: bool
    catalog_version: int | None
    message: str | None


# --- small helpers -------------------------------------------------------------------------

def new_client_id() -> str:
    return str(uuid.uuid4())


def new_local_ticket_id() -> str:
    """The kiosk's own id of a ticket, shaped like the server's public ids."""
    return secrets.token_urlsafe(9)


def _wait_of(answer: Mapping[str, Any]) -> int | tuple[int, int] | None:
    minutes = answer.get("estimated_wait_minutes")
    if isinstance(minutes, int):
        return minutes
    span = answer.get("estimated_wait_range")
    if isinstance(span, list) and len(span) == 2:
        return int(span[0]), int(span[1])
    return None


def _date_or_none(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@dataclass(frozen=True)
class _Upload:
    """One scanned document ready to queue: its bytes, type and slot."""

    slot: str
    title: str
    data: bytes
    media_type: str
    client_id: str


class Kiosk:
    """The kiosk's use cases over its store, printer, scanner and the server."""

    def __init__(self, config: KioskConfig, store: KioskStore,
                 printer: ReceiptPrinter | None, document_scanner: DocumentScanner | None,
                 clock: Callable[[], datetime] = utcnow, *,
                 policy: KioskPolicy | None = None,
                 session: requests.Session | None = None,
                 notify: Callable[[], None] | None = None) -> None:
        """`notify` is called after each new record (the app passes `SyncEngine.wake`)."""
        self.config, self.store = config, store
        self.printer, self.document_scanner = printer, document_scanner
        self.clock = clock
        self.policy = policy or KioskPolicy()
        self.api = ApiClient(config, session, clock, self.policy)
        self.catalogs = CatalogCache(store)
        self.notify = notify or (lambda: None)

    # --- the catalog ---------------------------------------------------------------------

    def catalog(self) -> Catalog:
        """The last good catalog from the store, else the one bundled with the kiosk."""
        return self.catalogs.current().catalog

    def catalog_version(self) -> int | None:
        """The version of `catalog()`; None for the bundled catalog."""
        return self.catalogs.current().version

    def survey_for(self, service: str | None) -> Survey | None:
        """The service's own survey, else the catalog's default one (None: no survey)."""
        return self.catalog().survey_for(service)

    def _service(self, catalog: Catalog, slug: str) -> ServiceSpec:
        spec = catalog.service(slug)
        if spec is None:
            raise KioskError(SERVICE_NOT_FOUND, f"unknown service {slug!r}")
        return spec

    # --- forms ----------------------------------------------------------------------------

    def validate(self, service: str, applicant: Mapping[str, Any],
                 fields: Mapping[str, Any]) -> dict[str, str]:
        """Persian errors by "applicant.<name>" and "fields.<name>" (empty: all good);
        the same rules the server applies (`shared.forms`)."""
        spec = self._service(self.catalog(), service)
        person = validate_applicant(applicant)
        form = validate_form(spec.form, fields)
        return ({f"applicant.{k}": v for k, v in person.errors.items()}
                | {f"fields.{k}": v for k, v in form.errors.items()})

    def _cleaned(self, spec: ServiceSpec, applicant: Mapping[str, Any],
                 fields: Mapping[str, Any]) -> tuple[dict[str, str], dict[str, Any]]:
        person = validate_applicant(applicant)
        form = validate_form(spec.form, fields)
        errors = ({f"applicant.{k}": v for k, v in person.errors.items()}
                  | {f"fields.{k}": v for k, v in form.errors.items()})
        if errors:
            raise InvalidForm(errors)
        return {k: str(v) for k, v in person.values.items()}, dict(form.values)

    # --- documents ------------------------------------------------------------------------

    def scan_document(self) -> ScannedDocument:
        """One document from the configured scanner; ScanFailed with a Persian message."""
        if self.document_scanner is None:
            raise ScanFailed(MESSAGE_NOT_SET_UP, "no document scanner configured")
        try:
            return self.document_scanner.scan()
        except ScanError as exc:
            raise ScanFailed(exc.message, exc.detail) from exc

    def _uploads(self, spec: ServiceSpec, documents: Mapping[str, list[ScannedDocument]]
                 ) -> list[_Upload]:
        """Every scan as the bytes the server takes for its slot, in the service's order."""
        slots = {d.id: d for d in spec.documents}
        unknown = sorted(set(documents) - set(slots))
        if unknown:
            raise KioskError(UNKNOWN_SLOT, f"unknown document slots {unknown}")
        uploads: list[_Upload] = []
        for slot in (d for d in spec.documents if documents.get(d.id)):
            scans = documents[slot.id]
            if len(scans) > slot.count:
                raise KioskError(TOO_MANY_FILES.format(
                    name=slot.name, count=to_persian_digits(slot.count)))
            uploads += [self._upload(slot.id, slot.name, [f.value for f in slot.formats], scan)
                        for scan in scans]
        return uploads

    def _upload(self, slot: str, title: str, formats: list[str],
                scan: ScannedDocument) -> _Upload:
        pdf_ok, jpeg_ok = "pdf" in formats, "jpeg" in formats
        if not pdf_ok and not jpeg_ok:
            raise ScanFailed(FORMAT_NOT_MADE.format(name=title), f"slot {slot} takes {formats}")
        if not pdf_ok and (scan.page_count > 1 or (scan.pdf and not scan.pages)):
            raise ScanFailed(ONE_PAGE_ONLY.format(name=title), f"slot {slot} takes no PDF")
        settings = self.config.document_scanner
        try:
            data, media_type = to_upload(scan, settings.max_upload_bytes,
                                         grayscale=settings.grayscale,
                                         as_pdf=True if not jpeg_ok else None)
        except ScanError as exc:
            raise ScanFailed(exc.message, exc.detail) from exc
        return _Upload(slot, title, data, media_type, new_client_id())

    # --- filing a request -----------------------------------------------------------------

    def file_request(self, service: str, applicant: Mapping[str, Any],
                     fields: Mapping[str, Any],
                     documents: Mapping[str, list[ScannedDocument]]) -> Filed:
        """Validate, commit the request, its documents and its receipt in one transaction,
        then print. InvalidForm / KioskError before anything is saved."""
        loaded = self.catalogs.current()
        spec = self._service(loaded.catalog, service)
        if Channel.kiosk not in spec.channels:
            raise KioskError(NOT_AT_KIOSK, f"{service} is not offered at kiosks")
        person, values = self._cleaned(spec, applicant, fields)
        uploads = self._uploads(spec, documents)
        now = self.clock()
        files = [self.store.write_outbox_file(u.client_id, u.data, _suffix(u.media_type))
                 for u in uploads]
        try:
            code, receipt = self._commit_request(loaded.catalog, loaded.calendar,
                                                 loaded.version, spec, person, values,
                                                 uploads, files, now)
        except BaseException:
            for path in files:
                path.unlink(missing_ok=True)
            raise
        log.info("request %s filed for %s with %d document(s)", code, service, len(uploads))
        self.notify()
        printed = self._print("request", code, receipt)
        return Filed(code, printed.printed, printed.print_error)

    def _commit_request(self, catalog: Catalog, calendar: WorkCalendar, version: int | None,
                        spec: ServiceSpec, person: dict[str, str], values: dict[str, Any],
                        uploads: list[_Upload], files: list[Any], now: datetime
                        ) -> tuple[str, dict[str, Any]]:
        client_id = new_client_id()
        with self.store.unit_of_work() as unit:
            code = unit.claim_code(lambda: tracking_codes.new_code(self.config.kiosk_id),
                                   spec.slug, now)
            body = {"client_id": client_id, "service": spec.slug, "channel": "kiosk",
                    "applicant": person, "fields": values, "tracking_code": code,
                    "catalog_version": version, "created_at": now.isoformat()}
            request_id = unit.add_record(NewRecord(
                kind="request", client_id=client_id, body=body, kiosk_time=now, ref=code,
                service=spec.slug, catalog_version=version))
            for upload, path in zip(uploads, files, strict=True):
                unit.add_record(NewRecord(
                    kind="document", client_id=upload.client_id, kiosk_time=now, ref=code,
                    body={"slot": upload.slot, "filename": path.name}, service=spec.slug,
                    depends_on=request_id, file=path, media_type=upload.media_type,
                    catalog_version=version))
            receipt = self._request_receipt(catalog, calendar, spec, code, now,
                                            [u.title for u in uploads])
            unit.save_receipt("request", code, to_plain(receipt), created_at=now)
        return code, receipt

    def _request_receipt(self, catalog: Catalog, calendar: WorkCalendar, spec: ServiceSpec,
                         code: str, filed_at: datetime, titles: list[str]) -> dict[str, Any]:
        """`shared.receipts.request_receipt` values (nothing personal on the paper)."""
        due = spec.duration.due_date(filed_at, calendar)
        return {"agency_name": catalog.agency.name, "service_title": spec.title,
                "tracking_code": code, "public_base_url": self.config.public_base_url,
                "filed_at": filed_at, "channel": "kiosk", "place": self.place,
                "documents": list(dict.fromkeys(titles)), "duration": spec.duration.value,
                "duration_unit": spec.duration.unit.value, "due": due,
                "phone": catalog.agency.contact.phone}

    @property
    def place(self) -> str:
        """Where a request was filed, as its receipt says: «کیوسک ۰۷»."""
        return f"کیوسک {to_persian_digits(f'{self.config.kiosk_id:02d}')}"

    # --- queue tickets --------------------------------------------------------------------

    def take_ticket(self, service: str, priority: str | None = None,
                    tracking_code: str | None = None) -> Taken:
        """A ticket for `service`'s queue, saved before it is printed.

        In touch with the server, the kiosk numbers it from a lease and tells the server at
        once (short timeout) to learn who is ahead; if that call fails the sync delivers it.
        Without a lease it asks the server for a number. Out of touch longer than
        `policy.max_offline`, or with neither a lease nor the server, CannotIssue.
        """
        loaded = self.catalogs.current()
        queue = self._queue_for(loaded.catalog, service, priority)
        at = self._server_now()
        if self.policy.enforce_queue_hours and not queue.is_open(at, loaded.calendar):
            raise CannotIssue(QUEUE_CLOSED.format(title=queue.title), f"{queue.slug} closed")
        code = self._normalized(tracking_code) if tracking_code else None
        body = {"client_id": new_client_id(), "service": service, "priority": priority,
                "tracking_code": code}
        if self._in_touch():
            taken = self._leased_ticket(loaded.catalog, loaded.calendar, queue, body, at,
                                        loaded.version)
            if taken is not None:
                return taken
        return self._server_ticket(loaded.catalog, queue, body, at, loaded.version)

    def _queue_for(self, catalog: Catalog, service: str, priority: str | None) -> QueueSpec:
        self._service(catalog, service)
        queue = catalog.queue_for(service, self._office(catalog))
        if queue is None:
            raise CannotIssue(NO_QUEUE, f"no queue for {service} at this kiosk's office")
        if priority is not None and priority not in queue.priority_classes:
            raise CannotIssue(PRIORITY_NOT_OFFERED, f"priority {priority!r} not in {queue.slug}")
        return queue

    def _office(self, catalog: Catalog) -> Any:
        slug = self.store.state(OFFICE)
        return catalog.office(slug) if slug else None

    def _leased_ticket(self, catalog: Catalog, calendar: WorkCalendar, queue: QueueSpec,
                       body: dict[str, Any], at: datetime, version: int | None
                       ) -> Taken | None:
        """Number the ticket from a lease (None when there is none), commit, tell the
        server at once if it answers, print."""
        local_id, kiosk_time = new_local_ticket_id(), self.clock()
        with self.store.unit_of_work() as unit:
            leased = unit.take_number(queue.slug, calendar.local_date(at))
            if leased is None:
                return None
            numbered = {**body, "number": leased.number, "issued_at": at.isoformat()}
            record_id = unit.add_record(NewRecord(
                kind="ticket", client_id=body["client_id"], body=numbered,
                kiosk_time=kiosk_time, ref=local_id, service=body["service"],
                catalog_version=version))
            values = self._ticket_receipt(catalog, queue, leased, local_id, at, None, None,
                                          body["service"])
            unit.save_receipt("ticket", local_id, to_plain(values), created_at=kiosk_time)
        answer = self._send_now(record_id)
        self.notify()
        if answer is not None:
            values |= {"ticket_id": answer.get("id") or local_id,
                       "people_ahead": answer.get("ahead"), "wait_minutes": _wait_of(answer)}
        return self._taken(local_id, values, leased, queue, answer, at)

    def _send_now(self, record_id: int) -> dict[str, Any] | None:
        """Deliver a just-committed record while the citizen waits; the server's answer, or
        None when it must wait for the sync. CannotIssue when the server refuses it."""
        record = self.store.record(record_id)
        assert record is not None
        if not self.store.claim(record_id, utcnow() + timedelta(
                seconds=self.policy.inline_timeout + 2)):
            return None
        try:
            reply = send_record(self.api, record, timeout=self.policy.inline_timeout)
        except Unreachable:
            self.store.release(record_id)
            return None
        return self._settle(record, reply)

    def _settle(self, record: OutboxRecord, reply: Reply) -> dict[str, Any] | None:
        if reply.status in (200, 201) and isinstance(reply.data, dict):
            self.store.acknowledge([ack_of(record.id, reply)],
                                   purge=self.policy.purge_after_ack)
            self._note_contact(reply)
            return dict(reply.data)
        if is_transient(reply):
            self.store.release(record.id)
            return None
        self.store.fail(record.id, reply.status, reply.error_text, self.clock())
        raise CannotIssue(_server_message(reply) or TICKET_REFUSED, reply.error_text)

    def _server_ticket(self, catalog: Catalog, queue: QueueSpec, body: dict[str, Any],
                       at: datetime, version: int | None) -> Taken:
        """No lease (or out of touch): ask the server for a number, then commit and print."""
        try:
            reply = self.api.post_json(TICKETS_PATH, body, timeout=self.policy.inline_timeout)
        except Unreachable as exc:
            message = NO_NUMBERS if self._in_touch() else OUT_OF_TOUCH
            raise CannotIssue(message, str(exc)) from None
        answer = reply.data if isinstance(reply.data, dict) else {}
        if reply.status not in (200, 201) or not answer.get("id"):
            message = (_server_message(reply) or TICKET_REFUSED) if reply.status < 500 \
                else NO_NUMBERS
            raise CannotIssue(message, reply.error_text)
        self._note_contact(reply)
        return self._commit_server_ticket(catalog, queue, body, answer, reply, version)

    def _commit_server_ticket(self, catalog: Catalog, queue: QueueSpec, body: dict[str, Any],
                              answer: dict[str, Any], reply: Reply, version: int | None
                              ) -> Taken:
        local_id, kiosk_time = new_local_ticket_id(), self.clock()
        issued = parse_time(answer.get("issued_at")) or kiosk_time
        number = int(str(answer.get("number", "0")).rsplit("-", 1)[-1] or 0)
        leased = LeasedNumber(office=str(answer.get("office", "")), queue=queue.slug,
                              day=issued.date(), number=number, prefix=queue.prefix,
                              prefix_fa=queue.prefix_fa)
        values = self._ticket_receipt(catalog, queue, leased, str(answer["id"]), issued,
                                      answer.get("ahead"), _wait_of(answer), body["service"])
        with self.store.unit_of_work() as unit:
            record_id = unit.add_record(NewRecord(
                kind="ticket", client_id=body["client_id"], body=body, kiosk_time=kiosk_time,
                ref=local_id, service=body["service"], catalog_version=version))
            unit.acknowledge(ack_of(record_id, reply), purge=self.policy.purge_after_ack)
            unit.save_receipt("ticket", local_id, to_plain(values), created_at=kiosk_time)
        return self._taken(local_id, values, leased, queue, answer, issued)

    def _ticket_receipt(self, catalog: Catalog, queue: QueueSpec, leased: LeasedNumber,
                        ticket_id: str, issued_at: datetime, ahead: int | None,
                        wait: int | tuple[int, int] | None, service: str) -> dict[str, Any]:
        """`shared.receipts.queue_ticket` values; `people_ahead` None when not known."""
        office = catalog.office(leased.office) if leased.office else None
        spec = catalog.service(service)
        return {"agency_name": catalog.agency.name,
                "ticket_label": queue.ticket_label(leased.number),
                "ticket_id": ticket_id, "public_base_url": self.config.public_base_url,
                "queue_title": queue.title, "issued_at": issued_at, "people_ahead": ahead,
                "wait_minutes": wait, "service_title": spec.title if spec else None,
                "office_name": office.name if office else None}

    def _taken(self, local_id: str, values: dict[str, Any], leased: LeasedNumber,
               queue: QueueSpec, answer: dict[str, Any] | None, at: datetime) -> Taken:
        printed = self._print("ticket", local_id, values)
        log.info("ticket %s issued (%s)", queue.ticket_label(leased.number, persian=False),
                 "online" if answer else "offline")
        return Taken(ticket_id=str(values["ticket_id"]), label_fa=values["ticket_label"],
                     queue_title=queue.title, ahead=values["people_ahead"],
                     wait=values["wait_minutes"], printed=printed.printed,
                     print_error=printed.print_error,
                     label=queue.ticket_label(leased.number, persian=False),
                     online=answer is not None, issued_at=at)

    # --- tracking -------------------------------------------------------------------------

    def track(self, code: str) -> Tracked:
        """The request's state from the server; offline (or not there yet), what this kiosk
        knows of it, marked not live. NotFound when neither knows the code."""
        code = self._normalized(code)
        try:
            reply: Reply | None = self.api.get(f"/api/v1/track/{code}",
                                               timeout=self.policy.inline_timeout)
        except Unreachable:
            reply = None
        if reply is not None and reply.status == 200 and isinstance(reply.data, dict):
            self._note_contact(reply)
            return self._live(code, reply.data)
        local = self._local_track(code)
        if local is not None:
            return local
        if reply is not None and reply.status == 404:
            raise NotFound(TRACK_NOT_FOUND, f"{code} unknown to the server")
        raise KioskError(TRACK_UNAVAILABLE, "server unreachable and code not local")

    def _normalized(self, code: str) -> str:
        try:
            return tracking_codes.normalize(code)
        except tracking_codes.InvalidCode as exc:
            raise KioskError(exc.message, exc.code) from None

    def _live(self, code: str, answer: dict[str, Any]) -> Tracked:
        found = answer.get("service")
        service: dict[str, Any] = found if isinstance(found, dict) else {}
        return Tracked(tracking_code=code, live=True, status=str(answer.get("status", "")),
                       status_label=str(answer.get("status_label", "")),
                       service=service.get("slug"), service_title=service.get("title"),
                       submitted_at=parse_time(answer.get("submitted_at")),
                       due_date=_date_or_none(answer.get("due_date")), details=answer)

    def _local_track(self, code: str) -> Tracked | None:
        records = self.store.records_for(code, "request")
        if not records:
            return None
        record = records[-1]
        status, label = LOCAL_STATUS[record.state]
        answer = record.response or {}
        if record.state == "sent" and answer.get("status_label"):
            status, label = str(answer.get("status", status)), str(answer["status_label"])
        spec = self.catalog().service(record.service or "")
        return Tracked(tracking_code=code, live=False, status=status, status_label=label,
                       service=record.service, service_title=spec.title if spec else None,
                       submitted_at=record.kiosk_time,
                       due_date=_date_or_none(answer.get("due_date")), note=NOT_LIVE_NOTE)

    # --- survey ---------------------------------------------------------------------------

    def answer_survey(self, answers: Mapping[str, int], *, service: str | None = None,
                      tracking_code: str | None = None, ticket_id: str | None = None,
                      comment: str | None = None) -> None:
        """Queue the answers (1 worst … 5 best, by question id) for the server."""
        survey = self.survey_for(service)
        if survey is None:
            raise KioskError(NO_SURVEY, f"no survey for {service!r}")
        known = {q.id for q in survey.questions}
        if not answers or set(answers) - known or not all(
                isinstance(v, int) and not isinstance(v, bool) and v in SCORE_RANGE
                for v in answers.values()):
            raise KioskError(BAD_ANSWERS, "answers do not fit the survey")
        comment = (comment or "").strip() or None
        if comment and len(comment) > MAX_COMMENT:
            raise KioskError(COMMENT_TOO_LONG.format(limit=to_persian_digits(MAX_COMMENT)))
        now, client_id = self.clock(), new_client_id()
        code = self._normalized(tracking_code) if tracking_code else None
        body = {"client_id": client_id, "service": service, "tracking_code": code,
                "ticket_id": ticket_id, "answers": dict(answers), "comment": comment,
                "created_at": now.isoformat()}
        self.store.add_record(NewRecord(kind="survey", client_id=client_id, body=body,
                                        kiosk_time=now, service=service, ref=code or ticket_id,
                                        catalog_version=self.catalog_version()))
        self.notify()

    # --- status, printer, reprint ---------------------------------------------------------

    def status(self) -> KioskStatus:
        """Cheap (no device or network call): for the status bar, polled often."""
        states, counts = self.store.states(), self.store.counts()
        contact = parse_time(states.get(LAST_CONTACT))
        online = contact is not None and self.clock() - contact <= self.policy.online_window
        offset = float(states[CLOCK_OFFSET]) if CLOCK_OFFSET in states else None
        drift = states.get(CLOCK_DRIFT) == "1"
        printer = states.get(PRINTER_STATE)
        return KioskStatus(
            online=online, last_contact_at=contact,
            last_sync_at=parse_time(states.get(LAST_SYNC)), outbox_depth=counts["pending"],
            failed=counts["failed"],
            printer=_printer_status(printer),
            clock_offset_seconds=offset, clock_drift=drift, can_issue_tickets=self._in_touch(),
            catalog_version=self.catalog_version(),
            message=_status_message(online, drift, offset, counts["failed"]))

    def check_printer(self) -> PrinterStatus | None:
        """Ask the printer now (a second or so when it does not answer); kept for the
        heartbeat. None when the kiosk has no printer."""
        if self.printer is None:
            return None
        state = self.printer.status()
        self.store.set_state({PRINTER_STATE: state.value})
        return state

    def reprint(self, key: str) -> Printed:
        """Print a receipt again: a tracking code, or a ticket's id (the kiosk's or the
        server's). NotFound when this kiosk has no such receipt."""
        kind: ReceiptKind = "ticket"
        if tracking_codes.is_valid(key):
            kind, key = "request", tracking_codes.normalize(key)
        else:
            key = key.strip()
            if self.store.find_receipt("ticket", key) is None:
                key = self.store.ticket_ref_for(key) or key
        stored = self.store.find_receipt(kind, key)
        if stored is None:
            raise NotFound(RECEIPT_NOT_FOUND, f"no {kind} receipt {key!r}")
        return self._print(kind, key, stored.values)

    # --- shared pieces --------------------------------------------------------------------

    def _print(self, kind: ReceiptKind, key: str, values: Mapping[str, Any]) -> Printed:
        """save_and_print (values saved again: already committed with the record), with
        every failure turned into a Persian message; the record stays either way."""
        if self.printer is None:
            return Printed(None, NO_PRINTER)
        try:
            status = save_and_print(self.store, self.printer, self.config.printer, kind, key,
                                    values)
        except PrinterError as exc:
            self.store.set_state({PRINTER_STATE: exc.status.value})
            log.warning("%s receipt not printed: %s", kind, exc.detail)
            return Printed(None, told_to_citizen(exc))
        except (RuntimeError, ValueError, TypeError, OSError) as exc:
            log.error("%s receipt could not be rendered: %s", kind, type(exc).__name__)
            return Printed(None, f"{PRINT_FAILED} {SAVED_AND_WHERE_TO_GO}")
        self.store.set_state({PRINTER_STATE: status.value})
        return Printed(status, None)

    def _server_now(self) -> datetime:
        """The kiosk's clock corrected by the last measured offset (the server's time)."""
        return self.clock() + timedelta(seconds=clock_offset(self.store))

    def _in_touch(self) -> bool:
        """Whether the server answered recently enough for the kiosk to number tickets."""
        contact = parse_time(self.store.state(LAST_CONTACT))
        return contact is not None and self.clock() - contact <= self.policy.max_offline

    def _note_contact(self, reply: Reply) -> None:
        self.store.set_state({LAST_CONTACT: reply.received_at.isoformat()})


def _server_message(reply: Reply) -> str | None:
    """The server's Persian message for the citizen, if its answer has one."""
    body = reply.data
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) and message else None


def _printer_status(value: str | None) -> PrinterStatus | None:
    try:
        return PrinterStatus(value) if value else None
    except ValueError:
        return None


def _suffix(media_type: str) -> str:
    return {"application/pdf": ".pdf", "image/jpeg": ".jpg"}.get(media_type, ".bin")


def _status_message(online: bool, drift: bool, offset: float | None, failed: int) -> str | None:
    parts = []
    if not online:
        parts.append(STATUS_OFFLINE)
    if drift and offset is not None:
        parts.append(STATUS_DRIFT.format(seconds=to_persian_digits(round(abs(offset)))))
    if failed:
        parts.append(STATUS_FAILED.format(count=to_persian_digits(failed)))
    return " ".join(parts) or None
