"""SMS to the citizen at each step: written with the event, sent by the worker.

The message and its `sms` job are committed in the same transaction as the event that
caused them, so no step goes unannounced and none is announced twice; the worker hands
the message to the gateway (`flask --app counter_server worker`). The gateway is the edge
of the machine (a fake one keeps what it was asked to send, for the desk and the tests).
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.jobs import queue as jobs
from counter_server.jobs.queue import Claimed
from counter_server.jobs.worker import Effect, JobContext, TemporaryFailure
from counter_server.models import Notification, RequestEvent, ServiceRequest
from shared.tracking_codes import format_code
from shared.workflow import STATUS_LABELS, Status

JOB_KIND = "sms"


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
    """The event's SMS and the job that sends it, in the caller's transaction."""
    message = Notification(request_id=request.id, event_id=event.id,
                           mobile=request.applicant_mobile, event=event.action,
                           text=message_for(request, event, public_url))
    session.add(message)
    session.flush()
    jobs.enqueue(session, JOB_KIND, f"sms:{message.id}", {"notification": message.id},
                 target="sms", max_attempts=5)


def handler(gateway: SmsGateway):  # type: ignore[no-untyped-def]
    """The worker's handler of `sms` jobs: hand the message to `gateway`."""

    def run(job: Claimed, context: JobContext) -> Effect | None:
        with context.db.session() as session:
            message = session.get(Notification, job.payload["notification"])
            if message is None or message.status == "sent":
                return None
            mobile, text = message.mobile, message.text
        try:
            gateway.send(mobile, text)
        except Exception as exc:  # noqa: BLE001 — the gateway's failure, retried
            raise TemporaryFailure(f"{type(exc).__name__}: {exc}",
                                   lambda session, gave_up: _failed(session, job, gave_up))
        return lambda session: _sent(session, job)
    return run


def _sent(session: Session, job: Claimed) -> None:
    message = session.get(Notification, job.payload["notification"])
    if message is not None:
        message.status, message.sent_at, message.attempts = "sent", utcnow(), job.attempt


def _failed(session: Session, job: Claimed, gave_up: bool) -> None:
    message = session.get(Notification, job.payload["notification"])
    if message is not None:
        message.attempts = job.attempt
        if gave_up:
            message.status = "failed"
