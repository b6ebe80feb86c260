"""Receipts on the kiosk: saved first, then rendered (`shared.receipts`) and printed.

The local store keeps each receipt's *input values* (what `request_receipt` or `queue_ticket`
was called with, as plain JSON values), not its bytes, so a reprint renders the same receipt
for today's printer settings. `save_and_print` is the one order the kiosk prints in: commit
the record, render, print, then mark it printed; a printer failure leaves it saved for a
reprint, and the citizen is told so in Persian (`print_receipt`).

A request that is not in the local store is rebuilt from the server's public tracking API
(`GET /api/v1/track/<code>`) and the agency's name from `GET /api/v1/catalog`, through the
kiosk's one HTTP client (`fetch_request_values`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from kiosk.config import KioskConfig, PrinterConfig
from kiosk.devices.receipt_printer import describe
from kiosk.local.store import PRINTER_STATE, KioskStore, ReceiptKind
from kiosk.sync.api_client import CATALOG_PATH, ApiClient, Unreachable
from kiosk.sync.redaction import redacted_logger
from kiosk.usecases.errors import NotFound
from kiosk.usecases.parts import KioskParts
from shared import tracking_codes
from shared.devices.escpos_printer import (
    PRINT_FAILED,
    PrinterError,
    PrinterStatus,
    ReceiptPrinter,
)
from shared.receipts import (
    Receipt,
    paper_for,
    printer_test_page,
    queue_ticket,
    request_receipt,
    to_escpos,
)
from shared.receipts.render_escpos import QrMode
from shared.text import to_persian_digits

log = redacted_logger(__name__)

LOOKUP_TIMEOUT = 10.0
DEFAULT_AGENCY_NAME = "میز خدمت الکترونیکی"
SAVED_AND_WHERE_TO_GO = "رسید شما ذخیره شده؛ لطفاً به پذیرش مراجعه کنید تا برایتان چاپ کنند."
NO_PRINTER = f"این کیوسک چاپگر ندارد. {SAVED_AND_WHERE_TO_GO}"
RECEIPT_NOT_FOUND = "رسیدی با این شناسه در این کیوسک پیدا نشد."
BUILDERS: dict[str, Callable[..., Receipt]] = {"request": request_receipt,
                                               "ticket": queue_ticket}


class LookupFailed(Exception):
    """The server could not be asked (unreachable, or an unexpected answer)."""


@dataclass(frozen=True)
class Printed:
    """How printing went: the printer's state before printing, or the Persian reason."""

    printed: PrinterStatus | None
    print_error: str | None


# --- plain values <-> builder arguments ----------------------------------------------------

def to_plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """Builder arguments as JSON-safe values (dates, times and tuples tagged)."""
    return {key: _plain(value) for key, value in values.items()}


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    if isinstance(value, date):
        return {"$date": value.isoformat()}
    if isinstance(value, tuple):
        return {"$tuple": [_plain(item) for item in value]}
    if isinstance(value, list):
        return [_plain(item) for item in value]
    return value


def from_plain(values: Mapping[str, Any]) -> dict[str, Any]:
    """The inverse of `to_plain`."""
    return {key: _unplain(value) for key, value in values.items()}


def _unplain(value: Any) -> Any:
    if isinstance(value, dict) and len(value) == 1:
        (tag, inner), = value.items()
        if tag == "$datetime":
            return datetime.fromisoformat(inner)
        if tag == "$date":
            return date.fromisoformat(inner)
        if tag == "$tuple":
            return tuple(_unplain(item) for item in inner)
    if isinstance(value, list):
        return [_unplain(item) for item in value]
    return value


# --- building, rendering, printing ---------------------------------------------------------

def build_receipt(kind: ReceiptKind, values: Mapping[str, Any]) -> Receipt:
    """The receipt layout of a stored kind from its plain values."""
    return BUILDERS[kind](**from_plain(values))


def render(receipt: Receipt, printer: PrinterConfig) -> bytes:
    """The ESC/POS bytes of `receipt` for this kiosk's paper width and QR mode."""
    return to_escpos(receipt, paper_for(printer.paper_width_mm), qr=cast(QrMode, printer.qr),
                     profile=printer.profile)


def save_and_print(store: KioskStore, printer: ReceiptPrinter, config: PrinterConfig,
                   kind: ReceiptKind, key: str, values: Mapping[str, Any]) -> PrinterStatus:
    """Commit the receipt's values, then print it, then record that it printed.

    Raises PrinterError (Persian `message`) after the values are safely stored.
    """
    stored = store.save_receipt(kind, key, to_plain(values))
    status = printer.print_bytes(render(build_receipt(kind, stored.values), config))
    store.mark_printed(kind, key)
    return status


def told_to_citizen(error: PrinterError) -> str:
    """What the citizen reads when a receipt did not print: why, and that it is saved."""
    return f"{error.message} {SAVED_AND_WHERE_TO_GO}"


def print_receipt(parts: KioskParts, kind: ReceiptKind, key: str,
                  values: Mapping[str, Any]) -> Printed:
    """`save_and_print` (the values are saved again: already committed with the record),
    every failure turned into a Persian message; the record stays either way."""
    if parts.printer is None:
        return Printed(None, NO_PRINTER)
    try:
        status = save_and_print(parts.store, parts.printer, parts.config.printer, kind, key,
                                values)
    except PrinterError as exc:
        parts.store.set_state({PRINTER_STATE: exc.status.value})
        log.warning("%s receipt not printed: %s", kind, exc.detail)
        return Printed(None, told_to_citizen(exc))
    except (RuntimeError, ValueError, TypeError, OSError) as exc:
        log.error("%s receipt could not be rendered: %s", kind, type(exc).__name__)
        return Printed(None, f"{PRINT_FAILED} {SAVED_AND_WHERE_TO_GO}")
    parts.store.set_state({PRINTER_STATE: status.value})
    return Printed(status, None)


def reprint(parts: KioskParts, key: str) -> Printed:
    """Print a receipt again: a tracking code, or a ticket's id (the kiosk's or the
    server's). NotFound when this kiosk has no such receipt."""
    kind: ReceiptKind = "ticket"
    if tracking_codes.is_valid(key):
        kind, key = "request", tracking_codes.normalize(key)
    else:
        key = key.strip()
        if parts.store.find_receipt("ticket", key) is None:
            key = parts.store.ticket_ref_for(key) or key
    stored = parts.store.find_receipt(kind, key)
    if stored is None:
        raise NotFound(RECEIPT_NOT_FOUND, f"no {kind} receipt {key!r}")
    return print_receipt(parts, kind, key, stored.values)


def test_page(config: KioskConfig, printed_at: datetime) -> Receipt:
    """The printer test page of this kiosk, listing its settings."""
    settings = {
        "سرور": config.server_url,
        "نشانی عمومی": config.public_base_url,
        "چاپگر": describe(config.printer),
        "کاغذ": f"{to_persian_digits(config.printer.paper_width_mm)} میلی‌متر",
        "QR": config.printer.qr,
    }
    return printer_test_page(kiosk_id=to_persian_digits(f"{config.kiosk_id:02d}"),
                             printed_at=printed_at, config=settings,
                             qr_data=f"miz-printer-test:kiosk-{config.kiosk_id:02d}")


# --- a request's receipt rebuilt from the server -------------------------------------------

def _agency(api: ApiClient) -> dict[str, Any]:
    """The catalog's agency as the server publishes it; empty when it cannot be had."""
    try:
        reply = api.get(CATALOG_PATH, timeout=LOOKUP_TIMEOUT)
    except Unreachable:
        return {}
    catalog = reply.data if reply.status == 200 and isinstance(reply.data, dict) else {}
    agency = catalog.get("agency")
    return agency if isinstance(agency, dict) else {}


def _tracked(api: ApiClient, code: str) -> dict[str, Any] | None:
    """The server's public tracking answer for `code`; None for 404, else LookupFailed."""
    where = f"{api.config.server_url} tracking {code}"
    try:
        reply = api.track(code, timeout=LOOKUP_TIMEOUT)
    except Unreachable as exc:
        raise LookupFailed(f"{where}: {exc}") from exc
    if reply.status == 404:
        return None
    if reply.status != 200:
        raise LookupFailed(f"{where}: {reply.error_text}")
    if not isinstance(reply.data, dict):
        raise LookupFailed(f"{where}: not a JSON object")
    return reply.data


def fetch_request_values(api: ApiClient, code: str) -> dict[str, Any] | None:
    """`request_receipt` values rebuilt from the server, or None when it has no such request.

    Raises LookupFailed when the server cannot be asked.
    """
    code = tracking_codes.normalize(code)
    found = _tracked(api, code)
    if found is None:
        return None
    try:
        promised = found.get("promised") or {}
        agency = _agency(api)
        values: dict[str, Any] = {
            "agency_name": agency.get("name") or DEFAULT_AGENCY_NAME,
            "service_title": found["service"]["title"],
            "tracking_code": tracking_codes.normalize(found["tracking_code"]),
            "public_base_url": api.config.public_base_url,
            "filed_at": datetime.fromisoformat(found["submitted_at"]),
            "channel": found["channel"],
            "documents": list(found.get("documents", [])),
            "duration": promised.get("value"),
            "duration_unit": promised.get("unit", "working_days"),
            "due": date.fromisoformat(found["due_date"]) if found.get("due_date") else None,
            "phone": (agency.get("contact") or {}).get("phone"),
        }
    except (KeyError, TypeError, ValueError) as exc:
        raise LookupFailed(f"unexpected tracking answer for {code}: {exc}") from exc
    return values
