"""Handing over a delivered document at the kiosk: the citizen holds the receipt's QR to the
scanner (the tracking code), types their national code on the keypad, and gets a delivery
slip with the document's seal QR on the receipt printer — and the signed PDF on the A4
printer where the kiosk's configuration names one (`a4_printer`, a CUPS queue, printed
through `lp`).

The seal's text comes from the server, after its national-code check, in the kiosk's
authenticated call `POST /api/v1/requests/<code>/deliverables`; the PDF from
`POST …/deliverables/<id>/pdf` (written in the server's audit log). Nothing of it is kept on
the kiosk: the slip is printed from the answer, and the PDF's temporary file is removed once
`lp` has taken it.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, cast

from kiosk.local.store import PRINTER_STATE
from kiosk.sync.api_client import Reply, Unreachable, parse_time
from kiosk.sync.redaction import redacted_logger
from kiosk.usecases.errors import KioskError
from kiosk.usecases.parts import KioskParts, normalized_code
from kiosk.usecases.receipts import DEFAULT_AGENCY_NAME
from shared.devices.escpos_printer import PrinterError
from shared.receipts import Receipt, delivery_slip, paper_for, to_escpos
from shared.receipts.render_escpos import QrMode
from shared.validators import InvalidValue, clean_national_code

log = redacted_logger(__name__)

LP_TIMEOUT = 60.0
UNAVAILABLE = "سامانه اکنون در دسترس نیست؛ سند را کمی بعد دوباره بگیرید."
NOTHING_DELIVERED = "هنوز سندی برای این درخواست صادر نشده است."
NO_PRINTER = "این کیوسک چاپگر ندارد؛ لطفاً به پذیرش مراجعه کنید."
A4_FAILED = "سند روی چاپگر A4 چاپ نشد؛ برگهٔ تحویل چاپ شد، برای نسخهٔ کامل به پذیرش مراجعه کنید."


@dataclass(frozen=True)
class Delivered:
    """A document delivered for the request, as the server gave it to the holder."""

    id: str
    title: str
    number: str
    holder: str
    masked_national_code: str
    issued_at: datetime
    issued_on: date
    expires_on: date | None
    status: str
    seal_text: str


@dataclass(frozen=True)
class Handed:
    """What was printed: the slips, the PDFs sent to the A4 printer, what went wrong."""

    documents: list[Delivered]
    slips: int
    pdfs: int
    problem: str | None = None


def _refusal(reply: Reply) -> KioskError:
    body = reply.data if isinstance(reply.data, dict) else {}
    message = body.get("message")
    if reply.status in (403, 404, 429, 422) and isinstance(message, str):
        return KioskError(message, reply.error_text)
    return KioskError(UNAVAILABLE, reply.error_text)


def _post(parts: KioskParts, path: str, national_code: str) -> Reply:
    try:
        reply = parts.api.post_json(path, {"national_code": national_code},
                                    timeout=parts.policy.inline_timeout)
    except Unreachable as exc:
        raise KioskError(UNAVAILABLE, str(exc)) from None
    if reply.status != 200:
        raise _refusal(reply)
    parts.note_contact(reply)
    return reply


def _delivered(item: Any) -> Delivered:
    issued_at = parse_time(item["issued_at"])
    assert issued_at is not None
    return Delivered(id=item["id"], title=item["title"], number=item["number"],
                     holder=item["holder"], masked_national_code=item["masked_national_code"],
                     issued_at=issued_at, issued_on=date.fromisoformat(item["issued_on"]),
                     expires_on=date.fromisoformat(item["expires_on"])
                     if item.get("expires_on") else None,
                     status=item["status"], seal_text=item["seal_text"])


def fetch(parts: KioskParts, code: str, national_code: str) -> list[Delivered]:
    """The documents delivered for `code`, once the server has checked the national code;
    KioskError with the Persian reason (a wrong code, locked, none issued, no network)."""
    code = normalized_code(code)
    try:
        national_code = clean_national_code(national_code)
    except InvalidValue as exc:
        raise KioskError(exc.message, "invalid national code") from None
    reply = _post(parts, f"/api/v1/requests/{code}/deliverables", national_code)
    try:
        found = [_delivered(item) for item in reply.data["deliverables"]]
    except (KeyError, TypeError, ValueError, AssertionError) as exc:
        raise KioskError(UNAVAILABLE, f"unexpected answer: {exc}") from None
    if not found:
        raise KioskError(NOTHING_DELIVERED, f"{code}: none delivered")
    return found


def slip(parts: KioskParts, code: str, document: Delivered) -> Receipt:
    """The delivery slip of `document`, printed now (the kiosk's corrected clock)."""
    agency = parts.catalogs.current().catalog.agency
    return delivery_slip(agency_name=agency.name or DEFAULT_AGENCY_NAME, title=document.title,
                         number=document.number, holder=document.holder,
                         masked_national_code=document.masked_national_code,
                         issued_on=document.issued_on, expires_on=document.expires_on,
                         seal_text=document.seal_text, tracking_code=code,
                         printed_at=parts.server_now())


def slip_bytes(parts: KioskParts, receipt: Receipt) -> bytes:
    printer = parts.config.printer
    return to_escpos(receipt, paper_for(printer.paper_width_mm), qr=cast(QrMode, printer.qr),
                     profile=printer.profile)


def hand_over(parts: KioskParts, code: str, national_code: str) -> Handed:
    """Fetch the delivered documents (after the national-code check) and print a slip of
    each; where an A4 printer is configured, its signed PDF too."""
    code = normalized_code(code)
    documents = fetch(parts, code, national_code)
    if parts.printer is None:
        raise KioskError(NO_PRINTER, "no receipt printer")
    slips = 0
    for document in documents:
        try:
            status = parts.printer.print_bytes(slip_bytes(parts, slip(parts, code, document)))
        except PrinterError as exc:
            parts.store.set_state({PRINTER_STATE: exc.status.value})
            raise KioskError(exc.message, exc.detail) from None
        parts.store.set_state({PRINTER_STATE: status.value})
        slips += 1
    pdfs, problem = 0, None
    if parts.config.a4_printer:
        try:
            for document in documents:
                print_pdf(parts, code, national_code, document)
                pdfs += 1
        except KioskError as exc:
            problem = exc.message
    return Handed(documents, slips, pdfs, problem)


def print_pdf(parts: KioskParts, code: str, national_code: str, document: Delivered) -> None:
    """The signed PDF from the server, sent to the A4 printer's CUPS queue with `lp`."""
    queue = parts.config.a4_printer
    assert queue
    reply = _post(parts, f"/api/v1/requests/{code}/deliverables/{document.id}/pdf",
                  clean_national_code(national_code))
    if not reply.content.startswith(b"%PDF-"):
        raise KioskError(A4_FAILED, "the answer is not a PDF")
    handle, name = tempfile.mkstemp(prefix="miz-delivered-", suffix=".pdf")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(reply.content)
        done = subprocess.run(["lp", "-d", queue, "-t", document.number, "-n", "1", name],
                              capture_output=True, text=True, timeout=LP_TIMEOUT, check=False)
    except (OSError, subprocess.SubprocessError) as exc:
        raise KioskError(A4_FAILED, f"lp: {type(exc).__name__}") from None
    finally:
        Path(name).unlink(missing_ok=True)
    if done.returncode != 0:
        log.warning("lp refused the document: %s", done.stderr.strip()[:200])
        raise KioskError(A4_FAILED, f"lp exit {done.returncode}")
