"""The kiosk's state for its status bar and for staff: online or not, the outbox, the clock,
whether it may number tickets, and the printer (asked only on `check_printer`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kiosk.local.store import CLOCK_DRIFT, CLOCK_OFFSET, LAST_CONTACT, LAST_SYNC, PRINTER_STATE
from kiosk.sync.api_client import parse_time
from kiosk.usecases.parts import KioskParts
from shared.devices.escpos_printer import PrinterStatus
from shared.text import to_persian_digits

STATUS_OFFLINE = ("کیوسک به سامانه وصل نیست؛ درخواست‌ها در کیوسک ذخیره و پس از "
                  "برقراری ارتباط ارسال می‌شوند.")
STATUS_DRIFT = "ساعت کیوسک {seconds} ثانیه با ساعت سامانه اختلاف دارد؛ لطفاً آن را تنظیم کنید."
STATUS_FAILED = "{count} مورد را سامانه نپذیرفت؛ کارکنان باید آن‌ها را بررسی کنند."


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


def status(parts: KioskParts) -> KioskStatus:
    """Cheap (no device or network call): for the status bar, polled often."""
    states, counts = parts.store.states(), parts.store.counts()
    contact = parse_time(states.get(LAST_CONTACT))
    online = contact is not None and parts.clock() - contact <= parts.policy.online_window
    offset = float(states[CLOCK_OFFSET]) if CLOCK_OFFSET in states else None
    drift = states.get(CLOCK_DRIFT) == "1"
    return KioskStatus(
        online=online, last_contact_at=contact,
        last_sync_at=parse_time(states.get(LAST_SYNC)), outbox_depth=counts["pending"],
        failed=counts["failed"], printer=_printer_status(states.get(PRINTER_STATE)),
        clock_offset_seconds=offset, clock_drift=drift, can_issue_tickets=parts.in_touch(),
        catalog_version=parts.catalogs.current().version,
        message=_message(online, drift, offset, counts["failed"]))


def check_printer(parts: KioskParts) -> PrinterStatus | None:
    """Ask the printer now (a second or so when it does not answer); kept for the
    heartbeat. None when the kiosk has no printer."""
    if parts.printer is None:
        return None
    state = parts.printer.status()
    parts.store.set_state({PRINTER_STATE: state.value})
    return state


def _printer_status(value: str | None) -> PrinterStatus | None:
    try:
        return PrinterStatus(value) if value else None
    except ValueError:
        return None


def _message(online: bool, drift: bool, offset: float | None, failed: int) -> str | None:
    lines = []
    if not online:
        lines.append(STATUS_OFFLINE)
    if drift and offset is not None:
        lines.append(STATUS_DRIFT.format(seconds=to_persian_digits(round(abs(offset)))))
    if failed:
        lines.append(STATUS_FAILED.format(count=to_persian_digits(failed)))
    return " ".join(lines) or None
