"""Tracking a request at the kiosk: its state from the server's public tracking API while the
citizen waits (a short timeout); offline, or before the sync has delivered it, what this
kiosk knows of the requests it filed itself, marked as not live."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from kiosk.sync.api_client import Reply, Unreachable, parse_time
from kiosk.usecases.errors import KioskError, NotFound
from kiosk.usecases.parts import KioskParts, normalized_code
from shared.jalali import format_datetime

TRACK_NOT_FOUND = "درخواستی با این کد رهگیری پیدا نشد."
TRACK_UNAVAILABLE = ("سامانه اکنون در دسترس نیست و این کد در این کیوسک ثبت نشده است؛ "
                     "لطفاً کمی بعد دوباره تلاش کنید.")
NOT_LIVE_NOTE = ("سامانه اکنون در دسترس نیست؛ این وضعیت از سوابق همین کیوسک است "
                 "و ممکن است به‌روز نباشد.")
LOCAL_STATUS = {
    "pending": ("queued", "در صف ارسال به سامانه"),
    "sent": ("received", "ثبت‌شده در سامانه"),
    "failed": ("refused", "ارسال نشد؛ لطفاً به پذیرش مراجعه کنید"),
}


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


def track(parts: KioskParts, code: str) -> Tracked:
    """The request's state from the server; offline (or not there yet), what this kiosk
    knows of it, marked not live. NotFound when neither knows the code."""
    code = normalized_code(code)
    try:
        reply: Reply | None = parts.api.track(code, timeout=parts.policy.inline_timeout)
    except Unreachable:
        reply = None
    if reply is not None and reply.status == 200 and isinstance(reply.data, dict):
        parts.note_contact(reply)
        return _live(code, reply.data)
    local = _local(parts, code)
    if local is not None:
        return local
    if reply is not None and reply.status == 404:
        raise NotFound(TRACK_NOT_FOUND, f"{code} unknown to the server")
    raise KioskError(TRACK_UNAVAILABLE, "server unreachable and code not local")


def _live(code: str, answer: dict[str, Any]) -> Tracked:
    found = answer.get("service")
    service: dict[str, Any] = found if isinstance(found, dict) else {}
    return Tracked(tracking_code=code, live=True, status=str(answer.get("status", "")),
                   status_label=str(answer.get("status_label", "")),
                   service=service.get("slug"), service_title=service.get("title"),
                   submitted_at=parse_time(answer.get("submitted_at")),
                   due_date=_date_or_none(answer.get("due_date")), details=answer)


def _local(parts: KioskParts, code: str) -> Tracked | None:
    records = parts.store.records_for(code, "request")
    if not records:
        return None
    record = records[-1]
    status, label = LOCAL_STATUS[record.state]
    answer = record.response or {}
    if record.state == "sent" and answer.get("status_label"):
        status, label = str(answer.get("status", status)), str(answer["status_label"])
    spec = parts.catalogs.current().catalog.service(record.service or "")
    return Tracked(tracking_code=code, live=False, status=status, status_label=label,
                   service=record.service, service_title=spec.title if spec else None,
                   submitted_at=record.kiosk_time,
                   due_date=_date_or_none(answer.get("due_date")), note=NOT_LIVE_NOTE)


def step_notes(step: Mapping[str, Any]) -> list[str]:
    """«date — event: text» for each note the server reported under a step."""
    lines = []
    for note in step.get("notes") or []:
        if not isinstance(note, dict) or not note.get("text"):
            continue
        when = parse_time(note.get("at"))
        prefix = f"{format_datetime(when)} — " if when is not None else ""
        lines.append(f"{prefix}{note.get('label', '')}: {note['text']}")
    return lines


def state_note(details: Mapping[str, Any] | None) -> str | None:
    """The note of the request's current state, unless it waits for the citizen (the
    citizen's action says it then); a server without `note` sends it as `decision`."""
    if not isinstance(details, Mapping) or details.get("status") == "waiting_citizen":
        return None
    note = details["note"] if "note" in details else details.get("decision")
    return str(note) if note else None


def _date_or_none(value: Any) -> date | None:
    try:
        return date.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
