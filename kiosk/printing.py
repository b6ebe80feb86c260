"""Receipts on the kiosk: saved first, then rendered (`shared.receipts`) and printed.

The local store keeps each receipt's *input values* (what `request_receipt` or `queue_ticket`
was called with), not its bytes, so a reprint renders the same receipt for today's printer
settings. `save_and_print` is the one order the kiosk prints in: commit the record, render,
print, then mark it printed; a printer failure leaves it saved for a reprint.

A request that is not in the local store is rebuilt from the server's public tracking API
(`GET /api/v1/track/<code>`) and the agency's name from `GET /api/v1/catalog`.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any, cast
from urllib.error import HTTPError, URLError
from urllib.parse import quote
from urllib.request import Request, urlopen

from kiosk.config import KioskConfig, PrinterConfig
from kiosk.devices.receipt_printer import describe
from kiosk.local.store import KioskStore, ReceiptKind
from shared import tracking_codes
from shared.devices.escpos_printer import PrinterError, PrinterStatus, ReceiptPrinter
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

HTTP_TIMEOUT = 10.0
SAVED_AND_WHERE_TO_GO = "رسید شما ذخیره شده؛ لطفاً به پذیرش مراجعه کنید تا برایتان چاپ کنند."
DEFAULT_AGENCY_NAME = "میز خدمت الکترونیکی"
# request_receipt's rows that a receipt rebuilt from the public tracking API cannot fill:
# the API says neither where the request was filed nor which documents came with it.
BUILDERS: dict[str, Callable[..., Receipt]] = {"request": request_receipt,
                                               "ticket": queue_ticket}


class LookupFailed(Exception):
    """The server could not be asked (unreachable, or an unexpected answer)."""


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


# --- the server's public tracking API ------------------------------------------------------

def _get_json(config: KioskConfig, path: str) -> dict[str, Any] | None:
    """GET a JSON object from the server; None for 404, LookupFailed for anything else."""
    request = Request(f"{config.server_url}{path}", headers={
        "Accept": "application/json", "Authorization": f"Bearer {config.token}"})
    try:
        with urlopen(request, timeout=HTTP_TIMEOUT) as response:
            body = json.load(response)
    except HTTPError as exc:
        if exc.code == 404:
            return None
        raise LookupFailed(f"{config.server_url}{path}: HTTP {exc.code}") from exc
    except (URLError, TimeoutError, OSError, ValueError) as exc:
        raise LookupFailed(f"{config.server_url}{path}: {exc}") from exc
    if not isinstance(body, dict):
        raise LookupFailed(f"{config.server_url}{path}: not a JSON object")
    return body


def _agency(config: KioskConfig) -> dict[str, Any]:
    try:
        catalog = _get_json(config, "/api/v1/catalog") or {}
    except LookupFailed:
        return {}
    agency = catalog.get("agency")
    return agency if isinstance(agency, dict) else {}


def fetch_request_values(config: KioskConfig, code: str) -> dict[str, Any] | None:
    """`request_receipt` values rebuilt from the server, or None when it has no such request.

    Raises LookupFailed when the server cannot be asked.
    """
    code = tracking_codes.normalize(code)
    found = _get_json(config, f"/api/v1/track/{quote(code)}")
    if found is None:
        return None
    try:
        promised = found.get("promised") or {}
        agency = _agency(config)
        values: dict[str, Any] = {
            "agency_name": agency.get("name") or DEFAULT_AGENCY_NAME,
            "service_title": found["service"]["title"],
            "tracking_code": tracking_codes.normalize(found["tracking_code"]),
            "public_base_url": config.public_base_url,
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
