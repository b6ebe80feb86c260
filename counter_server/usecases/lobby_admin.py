"""Setting up the lobby: counters, and the daily rollover of every office."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.models import Counter, Office
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.counter_printing import parse_printer
from counter_server.usecases.walk_in_queue import close_past_days
from shared.text import to_persian_digits


class LobbyAdminError(Exception):
    """A lobby set-up command that cannot be carried out."""


def add_counter(session: Session, office: str, number: int, name: str | None,
                queues: list[str], printer: str | None = None) -> Counter:
    snapshot = current_snapshot(session)
    spec = snapshot.catalog.office(office)
    if spec is None or session.get(Office, office) is None:
        raise LobbyAdminError(f"no office {office!r}")
    known = {q.slug for q in snapshot.catalog.queues_of(spec)}
    unknown = sorted(set(queues) - known)
    if unknown:
        raise LobbyAdminError(f"queues not run in {office}: {', '.join(unknown)}")
    if printer:
        try:
            parse_printer(printer)
        except ValueError as exc:
            raise LobbyAdminError(str(exc)) from None
    if session.scalar(select(Counter).where(Counter.office_slug == office,
                                            Counter.number == number)):
        raise LobbyAdminError(f"{office} already has a counter {number}")
    counter = Counter(office_slug=office, number=number,
                      name=name or f"باجه {to_persian_digits(number)}",
                      queues=list(dict.fromkeys(queues)), printer=printer or None, active=True)
    session.add(counter)
    session.flush()
    return counter


def all_counters(session: Session) -> list[Counter]:
    return list(session.scalars(select(Counter).order_by(Counter.office_slug, Counter.number)))


def rollover(session: Session) -> int:
    """Close earlier days' unserved tickets in every office."""
    calendar = current_snapshot(session).calendar
    today = calendar.local_date(utcnow())
    return sum(close_past_days(session, office.slug, today)
               for office in session.scalars(select(Office)))
