"""Taking a queue ticket at the kiosk, saved before it is printed.

In touch with the server, the kiosk numbers the ticket from a lease (numbers the server
reserved for it) and tells the server at once, with a short timeout, to learn who is ahead;
if that call fails the sync delivers it. Without a lease it asks the server for a number.
Out of touch longer than `KioskPolicy.max_offline`, or with neither a lease nor the server,
the citizen is sent to reception (`CannotIssue`). The queue's hours and the ticket's label
are the catalog's rules (`QueueSpec.is_open`, `QueueSpec.ticket_label`).

A mobile the citizen types (optional, for the queue's SMS) goes in the ticket's body, checked
by the server's own rule first (`InvalidForm`); like an applicant's details it is purged from
the local store once the server has the ticket, and it is never printed or logged.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from kiosk.local.store import OFFICE, LeasedNumber, NewRecord, OutboxRecord, utcnow
from kiosk.sync.api_client import TICKETS_PATH, Reply, Unreachable, is_transient, parse_time
from kiosk.sync.delivery import ack_of, send_record
from kiosk.sync.redaction import redacted_logger
from kiosk.usecases.errors import CannotIssue, InvalidForm
from kiosk.usecases.parts import KioskParts, new_client_id, normalized_code, service_spec
from kiosk.usecases.receipts import print_receipt, to_plain
from shared.catalog.schema import Catalog, Office, QueueSpec
from shared.devices.escpos_printer import PrinterStatus
from shared.validators import InvalidValue, clean_mobile
from shared.workcalendar import WorkCalendar

log = redacted_logger(__name__)

OUT_OF_TOUCH = ("این کیوسک مدتی است به سامانه وصل نیست و نمی‌تواند نوبت بدهد؛ "
                "لطفاً از پذیرش نوبت بگیرید.")
NO_NUMBERS = ("این کیوسک اکنون شماره نوبت آماده ندارد و به سامانه هم وصل نیست؛ "
              "لطفاً از پذیرش نوبت بگیرید.")
NO_QUEUE = "برای این خدمت در این دفتر نوبت حضوری داده نمی‌شود؛ لطفاً به پذیرش مراجعه کنید."
QUEUE_CLOSED = "نوبت‌دهی صف «{title}» اکنون بسته است."
PRIORITY_NOT_OFFERED = "این گروه اولویت در صف این خدمت تعریف نشده است."
TICKET_REFUSED = "صدور نوبت انجام نشد؛ لطفاً از پذیرش نوبت بگیرید."


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


def take_ticket(parts: KioskParts, service: str, priority: str | None = None,
                tracking_code: str | None = None, mobile: str | None = None) -> Taken:
    """A ticket for `service`'s queue at this kiosk's office, saved before it is printed;
    CannotIssue (a Persian message sending the citizen to reception) when there is none,
    InvalidForm (under "mobile") for a mobile the server would refuse."""
    checked = ticket_mobile(mobile)
    loaded = parts.catalogs.current()
    queue = _queue_for(parts, loaded.catalog, service, priority)
    at = parts.server_now()
    if parts.policy.enforce_queue_hours and not queue.is_open(at, loaded.calendar):
        raise CannotIssue(QUEUE_CLOSED.format(title=queue.title), f"{queue.slug} closed")
    code = normalized_code(tracking_code) if tracking_code else None
    body = {"client_id": new_client_id(), "service": service, "priority": priority,
            "tracking_code": code}
    if checked is not None:
        body["mobile"] = checked
    if parts.in_touch():
        taken = _leased_ticket(parts, loaded.catalog, loaded.calendar, queue, body, at,
                               loaded.version)
        if taken is not None:
            return taken
    return _server_ticket(parts, loaded.catalog, queue, body, at, loaded.version)


def ticket_mobile(mobile: str | None) -> str | None:
    """The typed mobile as "09…" (None when none was typed); InvalidForm when invalid."""
    if mobile is None or not mobile.strip():
        return None
    try:
        return clean_mobile(mobile)
    except InvalidValue as exc:
        raise InvalidForm({"mobile": exc.message}) from None


def new_local_ticket_id() -> str:
    """The kiosk's own id of a ticket, shaped like the server's public ids."""
    return secrets.token_urlsafe(9)


def _queue_for(parts: KioskParts, catalog: Catalog, service: str,
               priority: str | None) -> QueueSpec:
    service_spec(catalog, service)
    queue = catalog.queue_for(service, _office(parts, catalog))
    if queue is None:
        raise CannotIssue(NO_QUEUE, f"no queue for {service} at this kiosk's office")
    if priority is not None and priority not in queue.priority_classes:
        raise CannotIssue(PRIORITY_NOT_OFFERED, f"priority {priority!r} not in {queue.slug}")
    return queue


def _office(parts: KioskParts, catalog: Catalog) -> Office | None:
    """This kiosk's office, as the server last said (None until it has)."""
    slug = parts.store.state(OFFICE)
    return catalog.office(slug) if slug else None


# --- numbered from a lease -----------------------------------------------------------------

def _leased_ticket(parts: KioskParts, catalog: Catalog, calendar: WorkCalendar,
                   queue: QueueSpec, body: dict[str, Any], at: datetime,
                   version: int | None) -> Taken | None:
    """Number the ticket from a lease (None when there is none), commit, tell the server at
    once if it answers, print."""
    local_id, kiosk_time = new_local_ticket_id(), parts.clock()
    with parts.store.unit_of_work() as unit:
        leased = unit.take_number(queue.slug, calendar.local_date(at))
        if leased is None:
            return None
        numbered = {**body, "number": leased.number, "issued_at": at.isoformat()}
        record_id = unit.add_record(NewRecord(
            kind="ticket", client_id=body["client_id"], body=numbered,
            kiosk_time=kiosk_time, ref=local_id, service=body["service"],
            catalog_version=version))
        values = _receipt_values(parts, catalog, queue, leased, local_id, at, None, None,
                                 body["service"])
        unit.save_receipt("ticket", local_id, to_plain(values), created_at=kiosk_time)
    answer = _send_now(parts, record_id)
    parts.notify()
    if answer is not None:
        values |= {"ticket_id": answer.get("id") or local_id,
                   "people_ahead": answer.get("ahead"), "wait_minutes": _wait_of(answer)}
    return _taken(parts, local_id, values, leased, queue, answer, at)


def _send_now(parts: KioskParts, record_id: int) -> dict[str, Any] | None:
    """Deliver a just-committed record while the citizen waits; the server's answer, or
    None when it must wait for the sync. CannotIssue when the server refuses it."""
    record = parts.store.record(record_id)
    assert record is not None
    if not parts.store.claim(record_id, utcnow() + timedelta(
            seconds=parts.policy.inline_timeout + 2)):
        return None
    try:
        reply = send_record(parts.api, record, timeout=parts.policy.inline_timeout)
    except Unreachable:
        parts.store.release(record_id)
        return None
    return _settle(parts, record, reply)


def _settle(parts: KioskParts, record: OutboxRecord, reply: Reply) -> dict[str, Any] | None:
    if reply.status in (200, 201) and isinstance(reply.data, dict):
        parts.store.acknowledge([ack_of(record.id, reply)],
                                purge=parts.policy.purge_after_ack)
        parts.note_contact(reply)
        return dict(reply.data)
    if is_transient(reply):
        parts.store.release(record.id)
        return None
    parts.store.fail(record.id, reply.status, reply.error_text, parts.clock())
    raise CannotIssue(_server_message(reply) or TICKET_REFUSED, reply.error_text)


# --- numbered by the server ----------------------------------------------------------------

def _server_ticket(parts: KioskParts, catalog: Catalog, queue: QueueSpec,
                   body: dict[str, Any], at: datetime, version: int | None) -> Taken:
    """No lease (or out of touch): ask the server for a number, then commit and print."""
    try:
        reply = parts.api.post_json(TICKETS_PATH, body, timeout=parts.policy.inline_timeout)
    except Unreachable as exc:
        message = NO_NUMBERS if parts.in_touch() else OUT_OF_TOUCH
        raise CannotIssue(message, str(exc)) from None
    answer = reply.data if isinstance(reply.data, dict) else {}
    if reply.status not in (200, 201) or not answer.get("id"):
        message = (_server_message(reply) or TICKET_REFUSED) if reply.status < 500 \
            else NO_NUMBERS
        raise CannotIssue(message, reply.error_text)
    parts.note_contact(reply)
    return _commit_server_ticket(parts, catalog, queue, body, answer, reply, version)


def _commit_server_ticket(parts: KioskParts, catalog: Catalog, queue: QueueSpec,
                          body: dict[str, Any], answer: dict[str, Any], reply: Reply,
                          version: int | None) -> Taken:
    local_id, kiosk_time = new_local_ticket_id(), parts.clock()
    issued = parse_time(answer.get("issued_at")) or kiosk_time
    number = int(str(answer.get("number", "0")).rsplit("-", 1)[-1] or 0)
    leased = LeasedNumber(office=str(answer.get("office", "")), queue=queue.slug,
                          day=issued.date(), number=number, prefix=queue.prefix,
                          prefix_fa=queue.prefix_fa)
    values = _receipt_values(parts, catalog, queue, leased, str(answer["id"]), issued,
                             answer.get("ahead"), _wait_of(answer), body["service"])
    with parts.store.unit_of_work() as unit:
        record_id = unit.add_record(NewRecord(
            kind="ticket", client_id=body["client_id"], body=body, kiosk_time=kiosk_time,
            ref=local_id, service=body["service"], catalog_version=version))
        unit.acknowledge(ack_of(record_id, reply), purge=parts.policy.purge_after_ack)
        unit.save_receipt("ticket", local_id, to_plain(values), created_at=kiosk_time)
    return _taken(parts, local_id, values, leased, queue, answer, issued)


# --- the receipt ---------------------------------------------------------------------------

def _receipt_values(parts: KioskParts, catalog: Catalog, queue: QueueSpec,
                    leased: LeasedNumber, ticket_id: str, issued_at: datetime,
                    ahead: int | None, wait: int | tuple[int, int] | None,
                    service: str) -> dict[str, Any]:
    """`shared.receipts.queue_ticket` values; `people_ahead` None when not known."""
    office = catalog.office(leased.office) if leased.office else None
    spec = catalog.service(service)
    return {"agency_name": catalog.agency.name,
            "ticket_label": queue.ticket_label(leased.number),
            "ticket_id": ticket_id, "public_base_url": parts.config.public_base_url,
            "queue_title": queue.title, "issued_at": issued_at, "people_ahead": ahead,
            "wait_minutes": wait, "service_title": spec.title if spec else None,
            "office_name": office.name if office else None}


def _taken(parts: KioskParts, local_id: str, values: dict[str, Any], leased: LeasedNumber,
           queue: QueueSpec, answer: dict[str, Any] | None, at: datetime) -> Taken:
    printed = print_receipt(parts, "ticket", local_id, values)
    label = queue.ticket_label(leased.number, persian=False)
    log.info("ticket %s issued (%s)", label, "online" if answer else "offline")
    return Taken(ticket_id=str(values["ticket_id"]), label_fa=values["ticket_label"],
                 queue_title=queue.title, ahead=values["people_ahead"],
                 wait=values["wait_minutes"], printed=printed.printed,
                 print_error=printed.print_error, label=label,
                 online=answer is not None, issued_at=at)


def _wait_of(answer: Mapping[str, Any]) -> int | tuple[int, int] | None:
    minutes = answer.get("estimated_wait_minutes")
    if isinstance(minutes, int):
        return minutes
    span = answer.get("estimated_wait_range")
    if isinstance(span, list) and len(span) == 2:
        return int(span[0]), int(span[1])
    return None


def _server_message(reply: Reply) -> str | None:
    """The server's Persian message for the citizen, if its answer has one."""
    body = reply.data
    message = body.get("message") if isinstance(body, dict) else None
    return message if isinstance(message, str) and message else None
