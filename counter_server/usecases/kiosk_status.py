"""Kiosk heartbeats: what each lobby kiosk last reported, for staff on the desk."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from counter_server.models import Kiosk

STALE_AFTER = timedelta(minutes=5)
DRIFT_LIMIT_SECONDS = 120.0


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
    kiosk.heartbeat = {
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
