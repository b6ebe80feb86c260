"""Kiosk heartbeats: what each lobby kiosk last reported, for staff on the desk, and the
fleet's alerts for supervisors: a kiosk gone silent, an outbox that keeps growing, a printer
out of paper or with its cover open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from counter_server.models import Kiosk
from shared.text import to_persian_digits

STALE_AFTER = timedelta(minutes=5)
DRIFT_LIMIT_SECONDS = 120.0
# The outbox depths of the last reports kept; it "keeps growing" when each of the last
# GROWING_REPORTS reports held more than the one before.
OUTBOX_HISTORY = 6
GROWING_REPORTS = 3
PRINTER_ALERTS = {"paper_out": "چاپگر کاغذ ندارد", "cover_open": "درب چاپگر باز است"}


@dataclass(frozen=True)
class Beat:
    software_version: str
    outbox_depth: int
    last_sync_at: datetime | None
    printer_state: str
    kiosk_time: datetime


def record_heartbeat(session: Session, kiosk: Kiosk, beat: Beat, now: datetime) -> float:
    """Keep the kiosk's report; returns the clock offset (server minus kiosk, seconds)."""
    offset = (now - beat.kiosk_time).total_seconds()
    kiosk.last_seen_at = now
    history = [*(kiosk.heartbeat or {}).get("outbox_history", []), beat.outbox_depth]
    kiosk.heartbeat = {
        "outbox_history": history[-OUTBOX_HISTORY:],
        "software_version": beat.software_version, "outbox_depth": beat.outbox_depth,
        "last_sync_at": beat.last_sync_at.isoformat() if beat.last_sync_at else None,
        "printer_state": beat.printer_state, "clock_offset_seconds": round(offset, 1),
    }
    return offset


@dataclass(frozen=True)
class KioskHealth:
    kiosk: Kiosk
    online: bool
    clock_drift: bool
    report: dict[str, Any]


def health(kiosk: Kiosk, now: datetime) -> KioskHealth:
    report = kiosk.heartbeat or {}
    online = kiosk.last_seen_at is not None and now - kiosk.last_seen_at <= STALE_AFTER
    drift = abs(float(report.get("clock_offset_seconds", 0.0))) > DRIFT_LIMIT_SECONDS
    return KioskHealth(kiosk, online, drift, report)


@dataclass(frozen=True)
class KioskAlert:
    """Something wrong with a kiosk that a supervisor should see: `kind` is silent,
    outbox_growing or printer; `message` is Persian."""

    kiosk: Kiosk
    kind: str
    message: str


def outbox_growing(report: dict[str, Any]) -> bool:
    recent = report.get("outbox_history", [])[-GROWING_REPORTS:]
    return len(recent) == GROWING_REPORTS and all(
        later > earlier for earlier, later in zip(recent, recent[1:], strict=False))


def alerts(kiosks: list[Kiosk], now: datetime, silent_after: timedelta) -> list[KioskAlert]:
    """The alerts of every kiosk in service (not revoked), kiosk by kiosk."""
    found = []
    for kiosk in kiosks:
        if kiosk.revoked_at is not None:
            continue
        report = kiosk.heartbeat or {}
        heard = kiosk.last_seen_at or kiosk.created_at
        if heard is not None and now - heard > silent_after:
            minutes = int((now - heard).total_seconds() // 60)
            found.append(KioskAlert(kiosk, "silent", (
                f"{to_persian_digits(minutes)} دقیقه است که خبری نداده"
                if kiosk.last_seen_at else "از هنگام ثبت هیچ گزارشی نداده است")))
        if outbox_growing(report):
            found.append(KioskAlert(kiosk, "outbox_growing", (
                f"صف ارسالش پیوسته بزرگ‌تر می‌شود "
                f"({to_persian_digits(report['outbox_history'][-1])} مورد در صف)")))
        printer = PRINTER_ALERTS.get(report.get("printer_state", ""))
        if printer:
            found.append(KioskAlert(kiosk, "printer", printer))
    return found
