"""SMS to the citizen at each step: written to an outbox with the event, sent by a gateway.

The outbox row is committed in the same transaction as the event that caused it, so no
step goes unannounced and none is announced twice. Sending happens afterwards; the gateway
is the edge of the machine (a fake one marks messages sent and keeps them for the desk).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.models import Notification, RequestEvent, ServiceRequest
from shared.tracking_codes import format_code
from shared.workflow import STATUS_LABELS, Status

MAX_ATTEMPTS = 5


class SmsGateway(Protocol):
    def send(self, mobile: str, text: str) -> None: ...


class FakeGateway:
    """Stands in for the SMS provider: keeps what it was asked to send."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, str]] = []

    def send(self, mobile: str, text: str) -> None:
        self.sent.append((mobile, text))


def message_for(request: ServiceRequest, event: RequestEvent, public_url: str) -> str:
    """The Persian SMS for an event of a request."""
    # Dashes keep the groups in order inside right-to-left text (one number run, bidi W4).
    code = format_code(request.tracking_code).replace(" ", "-")
    title = request.service["title"]
    if event.action == "submit":
        head = f"درخواست «{title}» ثبت شد. کد رهگیری: {code}"
    else:
        head = f"درخواست «{title}» با کد {code}: {STATUS_LABELS[Status(event.to_status)]}"
    note = f"\n{event.public_note}" if event.public_note else ""
    return f"{head}{note}\nپیگیری: {public_url.rstrip('/')}/t/{request.tracking_code}"


def enqueue(session: Session, request: ServiceRequest, event: RequestEvent,
            public_url: str) -> None:
    session.add(Notification(request_id=request.id, event_id=event.id,
                             mobile=request.applicant_mobile, event=event.action,
                             text=message_for(request, event, public_url)))


def send_pending(session: Session, gateway: SmsGateway, limit: int = 100) -> int:
    """Send up to `limit` pending messages, oldest first; returns how many were sent."""
    pending = session.scalars(
        select(Notification).where(Notification.status == "pending")
        .order_by(Notification.id).limit(limit)
    ).all()
    sent = 0
    for message in pending:
        message.attempts += 1
        try:
            gateway.send(message.mobile, message.text)
        except Exception:  # noqa: BLE001 — a gateway failure is retried later
            if message.attempts >= MAX_ATTEMPTS:
                message.status = "failed"
            continue
        message.status, message.sent_at = "sent", utcnow()
        sent += 1
    return sent
