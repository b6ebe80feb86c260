"""Printing at the counter: the same receipt and ticket layouts the kiosks print
(shared.receipts), sent to a counter's network ESC/POS printer (TCP, usually port 9100)
through the driver the kiosks use (`shared.devices.escpos_printer`). Before each receipt the
printer is asked for its state (DLE EOT): out of paper, cover open or offline, nothing is
sent and the clerk reads why. Counters without a printer print through the browser (the
receipt and ticket pages' print styles).
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from counter_server.config import ASSETS_DIR
from counter_server.models import ServiceRequest, Ticket
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.walk_in_queue import Lobby
from shared.devices.escpos_printer import (
    NetworkTransport,
    PrinterError,
    PrinterStatus,
    ReceiptPrinter,
)
from shared.receipts import PAPER_80, Receipt, queue_ticket, request_receipt, to_escpos

DEFAULT_PORT = 9100
TIMEOUT_SECONDS = 5.0
STATUS_TIMEOUT_SECONDS = 1.0
UNREACHABLE = ("چاپگر باجه در دسترس نیست؛ از دکمه «چاپ رسید» مرورگر استفاده کنید "
               "یا روشن بودن و اتصال چاپگر را بررسی کنید.")
REFUSED = ("چاپگر باجه رسید را چاپ نکرد: {reason} پس از رفع آن دوباره چاپ کنید "
           "یا از دکمه «چاپ رسید» مرورگر استفاده کنید.")


class PrintFailed(Exception):
    """The counter's printer did not print; `message` says why, in Persian, for the clerk."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _logo(snapshot: Snapshot) -> str | None:
    logo = snapshot.catalog.agency.logo
    return str(ASSETS_DIR / logo) if logo else None


def request_layout(snapshot: Snapshot, item: ServiceRequest, place: str) -> Receipt:
    agency = snapshot.catalog.agency
    terms = item.service
    names = {d["id"]: d["name"] for d in terms.get("documents", [])}
    return request_receipt(
        agency_name=agency.name, service_title=terms["title"], tracking_code=item.tracking_code,
        public_base_url=str(agency.public_base_url), filed_at=item.created_at,
        channel=item.channel, place=place,
        documents=[names.get(d.slot, d.original_name) for d in item.documents if not d.replaced],
        duration=terms["duration"]["value"], duration_unit=terms["duration"]["unit"],
        due=item.due_date, logo=_logo(snapshot), phone=agency.contact.phone)


def ticket_layout(session: Session, lobby: Lobby, ticket: Ticket) -> Receipt:
    snapshot = lobby.snapshot
    spec = lobby.queue(ticket.queue_slug)
    ahead = walk_in_queue.ahead_of(session, ticket)
    guess = walk_in_queue.estimate(session, lobby, ticket, ahead)
    service = snapshot.service(ticket.service_slug)
    office = snapshot.catalog.office(ticket.office_slug)
    return queue_ticket(
        agency_name=snapshot.catalog.agency.name, ticket_label=spec.ticket_label(ticket.number), ticket_id=ticket.public_id,
        public_base_url=str(snapshot.catalog.agency.public_base_url), queue_title=spec.title,
        issued_at=ticket.issued_at, people_ahead=ahead, wait_minutes=guess.range or guess.minutes,
        service_title=service.title if service else None,
        office_name=office.name if office else None, logo=_logo(snapshot))


def parse_printer(address: str) -> tuple[str, int]:
    """"host" or "host:port" → (host, port)."""
    host, colon, port = address.strip().rpartition(":")
    if not colon:
        host, port = address.strip(), ""
    if not host or (port and not port.isdigit()):
        raise ValueError(f"not a printer address: {address!r} (use host or host:port)")
    return host, int(port or DEFAULT_PORT)


def send(address: str, receipt: Receipt) -> None:
    """Print `receipt` on the ESC/POS printer at `address` (80 mm paper), once the printer
    has said it can; PrintFailed when it is unreachable, out of paper, open or offline."""
    data = to_escpos(receipt, PAPER_80, qr="native")
    host, port = parse_printer(address)
    printer = ReceiptPrinter.open(NetworkTransport(host, port, timeout=TIMEOUT_SECONDS),
                                  STATUS_TIMEOUT_SECONDS)
    try:
        printer.print_bytes(data)
    except PrinterError as exc:
        raise PrintFailed(_clerk_message(exc)) from None
    finally:
        printer.close()


def _clerk_message(error: PrinterError) -> str:
    if error.status is PrinterStatus.OFFLINE:
        return UNREACHABLE
    return REFUSED.format(reason=error.message)
