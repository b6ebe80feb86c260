"""Filing a request at the kiosk: the form checked by the server's own rules, each document
scanned and made into what the server takes for its slot, then the request, its documents
(their scans written inside the transaction, so a crash leaves none that nothing names) and
its receipt committed in one transaction, and only then printed. The sync delivers the
records later, in order, exactly once."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from kiosk.config import KioskConfig
from kiosk.devices.document_scanner import (
    MESSAGE_NOT_SET_UP,
    ScanError,
    ScannedDocument,
    to_upload,
)
from kiosk.local.store import NewRecord
from kiosk.sync.redaction import redacted_logger
from kiosk.usecases.errors import InvalidForm, KioskError, ScanFailed
from kiosk.usecases.parts import KioskParts, new_client_id, service_spec
from kiosk.usecases.receipts import print_receipt, to_plain
from shared import tracking_codes
from shared.catalog.schema import Catalog, Channel, ServiceSpec
from shared.devices.escpos_printer import PrinterStatus
from shared.forms import validate_applicant, validate_form
from shared.text import to_persian_digits
from shared.workcalendar import WorkCalendar

log = redacted_logger(__name__)

NOT_AT_KIOSK = "این خدمت از راه کیوسک ارائه نمی‌شود؛ لطفاً به پذیرش مراجعه کنید."
UNKNOWN_SLOT = "این مدرک در فهرست مدارک این خدمت نیست."
TOO_MANY_FILES = "برای «{name}» بیش از {count} سند پذیرفته نمی‌شود."
ONE_PAGE_ONLY = "برای «{name}» فقط یک صفحه پذیرفته می‌شود؛ لطفاً فقط یک صفحه اسکن کنید."
FORMAT_NOT_MADE = ("کیوسک نمی‌تواند «{name}» را در قالب پذیرفته‌شده آماده کند؛ "
                   "لطفاً آن را در پذیرش تحویل دهید.")
SUFFIXES = {"application/pdf": ".pdf", "image/jpeg": ".jpg"}


@dataclass(frozen=True)
class Filed:
    """A request filed at this kiosk (saved before anything was printed)."""

    tracking_code: str
    printed: PrinterStatus | None
    print_error: str | None


@dataclass(frozen=True)
class _Upload:
    """One scanned document ready to queue: its bytes, type and slot."""

    slot: str
    title: str
    data: bytes
    media_type: str
    client_id: str


@dataclass(frozen=True)
class _Checked:
    """A form checked by `shared.forms`: the cleaned values and the Persian errors."""

    applicant: dict[str, str]
    fields: dict[str, Any]
    errors: dict[str, str]


def _check(spec: ServiceSpec, applicant: Mapping[str, Any],
           fields: Mapping[str, Any]) -> _Checked:
    person = validate_applicant(applicant)
    form = validate_form(spec.form, fields)
    errors = ({f"applicant.{k}": v for k, v in person.errors.items()}
              | {f"fields.{k}": v for k, v in form.errors.items()})
    return _Checked({k: str(v) for k, v in person.values.items()}, dict(form.values), errors)


def validate(parts: KioskParts, service: str, applicant: Mapping[str, Any],
             fields: Mapping[str, Any]) -> dict[str, str]:
    """Persian errors by "applicant.<name>" and "fields.<name>" (empty: all good); the
    same rules the server applies (`shared.forms`)."""
    return _check(service_spec(parts.catalogs.current().catalog, service),
                  applicant, fields).errors


def scan_document(parts: KioskParts) -> ScannedDocument:
    """One document from the configured scanner; ScanFailed with a Persian message."""
    if parts.document_scanner is None:
        raise ScanFailed(MESSAGE_NOT_SET_UP, "no document scanner configured")
    try:
        return parts.document_scanner.scan()
    except ScanError as exc:
        raise ScanFailed(exc.message, exc.detail) from exc


def file_request(parts: KioskParts, service: str, applicant: Mapping[str, Any],
                 fields: Mapping[str, Any],
                 documents: Mapping[str, list[ScannedDocument]]) -> Filed:
    """Validate, commit the request, its documents and its receipt in one transaction,
    then print. InvalidForm / KioskError before anything is saved."""
    loaded = parts.catalogs.current()
    spec = service_spec(loaded.catalog, service)
    if Channel.kiosk not in spec.channels:
        raise KioskError(NOT_AT_KIOSK, f"{service} is not offered at kiosks")
    checked = _check(spec, applicant, fields)
    if checked.errors:
        raise InvalidForm(checked.errors)
    uploads = _uploads(parts.config, spec, documents)
    code, receipt = _commit(parts, loaded.catalog, loaded.calendar, loaded.version, spec,
                            checked, uploads, parts.clock())
    log.info("request %s filed for %s with %d document(s)", code, service, len(uploads))
    parts.notify()
    printed = print_receipt(parts, "request", code, receipt)
    return Filed(code, printed.printed, printed.print_error)


# --- documents -----------------------------------------------------------------------------

def _uploads(config: KioskConfig, spec: ServiceSpec,
             documents: Mapping[str, list[ScannedDocument]]) -> list[_Upload]:
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
        uploads += [_upload(config, slot.id, slot.name, [f.value for f in slot.formats], scan)
                    for scan in scans]
    return uploads


def _upload(config: KioskConfig, slot: str, title: str, formats: list[str],
            scan: ScannedDocument) -> _Upload:
    pdf_ok, jpeg_ok = "pdf" in formats, "jpeg" in formats
    if not pdf_ok and not jpeg_ok:
        raise ScanFailed(FORMAT_NOT_MADE.format(name=title), f"slot {slot} takes {formats}")
    if not pdf_ok and (scan.page_count > 1 or (scan.pdf and not scan.pages)):
        raise ScanFailed(ONE_PAGE_ONLY.format(name=title), f"slot {slot} takes no PDF")
    settings = config.document_scanner
    try:
        data, media_type = to_upload(scan, settings.max_upload_bytes,
                                     grayscale=settings.grayscale,
                                     as_pdf=True if not jpeg_ok else None)
    except ScanError as exc:
        raise ScanFailed(exc.message, exc.detail) from exc
    return _Upload(slot, title, data, media_type, new_client_id())


# --- the one transaction -------------------------------------------------------------------

def _commit(parts: KioskParts, catalog: Catalog, calendar: WorkCalendar, version: int | None,
            spec: ServiceSpec, checked: _Checked, uploads: list[_Upload],
            now: datetime) -> tuple[str, dict[str, Any]]:
    """Commit the request, its documents (their scans written durably in the transaction)
    and its receipt's values together; the tracking code and the values."""
    client_id = new_client_id()
    with parts.store.unit_of_work() as unit:
        code = unit.claim_code(lambda: tracking_codes.new_code(parts.config.kiosk_id),
                               spec.slug, now)
        body = {"client_id": client_id, "service": spec.slug, "channel": "kiosk",
                "applicant": checked.applicant, "fields": checked.fields,
                "tracking_code": code, "catalog_version": version,
                "created_at": now.isoformat()}
        request_id = unit.add_record(NewRecord(
            kind="request", client_id=client_id, body=body, kiosk_time=now, ref=code,
            service=spec.slug, catalog_version=version))
        for upload in uploads:
            path = unit.write_file(upload.client_id, upload.data,
                                   SUFFIXES.get(upload.media_type, ".bin"))
            unit.add_record(NewRecord(
                kind="document", client_id=upload.client_id, kiosk_time=now, ref=code,
                body={"slot": upload.slot, "filename": path.name}, service=spec.slug,
                depends_on=request_id, file=path, media_type=upload.media_type,
                catalog_version=version))
        receipt = _receipt_values(parts.config, catalog, calendar, spec, code, now,
                                  [u.title for u in uploads])
        unit.save_receipt("request", code, to_plain(receipt), created_at=now)
    return code, receipt


def _receipt_values(config: KioskConfig, catalog: Catalog, calendar: WorkCalendar,
                    spec: ServiceSpec, code: str, filed_at: datetime,
                    titles: list[str]) -> dict[str, Any]:
    """`shared.receipts.request_receipt` values (nothing personal on the paper)."""
    due = spec.duration.due_date(filed_at, calendar)
    return {"agency_name": catalog.agency.name, "service_title": spec.title,
            "tracking_code": code, "public_base_url": config.public_base_url,
            "filed_at": filed_at, "channel": "kiosk", "place": _place(config),
            "documents": list(dict.fromkeys(titles)), "duration": spec.duration.value,
            "duration_unit": spec.duration.unit.value, "due": due,
            "phone": catalog.agency.contact.phone}


def _place(config: KioskConfig) -> str:
    """Where a request was filed, as its receipt says: «کیوسک ۰۷»."""
    return f"کیوسک {to_persian_digits(f'{config.kiosk_id:02d}')}"
