"""The walk-in queue by SMS, for a ticket taken with a mobile: «۳ نفر جلوی شما هستند» once
when it nears the front, «نوبت شما: باجه ۴» when a counter calls it (not again on a recall),
the new counter when it is sent on to one, and the survey's link once the visit is served.

`walk_in_queue` calls these in the transaction of the call, the transfer or the finish, so a
message is written exactly when its cause is committed; the worker sends it (`notifications`),
under the same quiet hours and daily budget as every other message. A ticket without a
mobile gets nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.models import Counter, Notification, Ticket, TicketEvent, User
from counter_server.usecases import notifications, surveys

NEAR, CALLED, TRANSFERRED = "queue_near", "queue_called", "queue_transferred"


def called(session: Session, ticket: Ticket, label: str, counter: Counter) -> None:
    """«نوبت شما: باجه …» for a ticket a counter has just called."""
    _send(session, ticket, CALLED, label, counter=counter.number)


def transferred(session: Session, ticket: Ticket, label: str, counter: Counter) -> None:
    """The counter a ticket was sent on to; it is called from there later."""
    _send(session, ticket, TRANSFERRED, label, counter=counter.number)


def near(session: Session, ticket: Ticket, label: str, ahead: int) -> None:
    """«… نفر جلوی شما هستند», once per ticket and only while it has never been called."""
    if not ticket.mobile:
        return
    told = session.scalar(select(Notification.id).where(
        Notification.ticket_id == ticket.id, Notification.event == NEAR).limit(1))
    was_called = session.scalar(select(TicketEvent.id).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.action == "called").limit(1))
    if told is None and was_called is None:
        _send(session, ticket, NEAR, label, ahead=ahead)


def served(session: Session, ticket: Ticket, clerk: User | None, service_title: str,
           public_url: str, now: datetime) -> None:
    """The survey's one-time link for a served visit (one per ticket)."""
    surveys.invite_for_visit(session, ticket, clerk, service_title, public_url, now)


def _send(session: Session, ticket: Ticket, event: str, label: str, *, counter: int = 0,
          ahead: int = 0) -> None:
    if not ticket.mobile:
        return
    text = notifications.queue_text(event, ticket=label, counter=counter, ahead=ahead)
    if text:
        notifications.send_to_ticket(session, ticket, event, text)
