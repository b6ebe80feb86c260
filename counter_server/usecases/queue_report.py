"""The queue report over a range of days: tickets per weekday and hour, waiting and service
times (median and 90th percentile) by office, queue, counter and clerk, no-shows, transfers,
the longest waits.

Definitions: a ticket's *wait* runs from taking it to its (last) call — a recall or a transfer
moves the call later, since the person was still waiting; its *service time* from the start
of service (or the call, when the clerk finished without pressing «شروع») to its end, for
served tickets only. A ticket's day is its local day of issue; its channel is the kiosk that
issued it, the staff who did (counter), or neither (online).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, and_, case, func, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from counter_server.models import Counter, Ticket, TicketEvent, User
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.reports import (
    Filters,
    Histogram,
    local_hour,
    merge,
    percentile,
    seconds_between,
    whole,
)
from counter_server.usecases.walk_in_queue import DONE, NO_SHOW

DIMENSIONS: dict[str, str] = {"office": "دفتر", "queue": "صف", "counter": "باجه",
                              "clerk": "کارمند"}
UNKNOWN = "نامشخص"
LONGEST = 20
# Saturday first, as the Iranian week runs; date.weekday() is Monday = 0.
WEEKDAYS = ("شنبه", "یکشنبه", "دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه")


def weekday_index(day: date) -> int:
    """0 for Saturday … 6 for Friday."""
    return (day.weekday() + 2) % 7


@dataclass(frozen=True)
class Figures:
    key: str
    label: str
    tickets: int
    served: int
    no_shows: int
    wait_median: float | None
    wait_p90: float | None
    service_median: float | None
    service_p90: float | None


@dataclass(frozen=True)
class LongWait:
    ticket: str
    office: str
    queue: str
    issued_at: datetime
    called_at: datetime
    wait: float
    counter: str
    status: str


@dataclass(frozen=True)
class QueueReport:
    totals: Figures
    transfers: int
    heat: dict[tuple[int, int], int] = field(default_factory=dict)  # (weekday, hour) → tickets
    groups: dict[str, list[Figures]] = field(default_factory=dict)
    longest: list[LongWait] = field(default_factory=list)


def report(session: Session, snapshot: Snapshot, filters: Filters) -> QueueReport:
    """The queue report for `filters` (office, service, queue, counter, clerk, channel)."""
    where = _where(filters)
    offset = filters.offset_minutes(snapshot.calendar)
    counts = _counts(session, where)
    waits = _histograms(session, where, Ticket.called_at.is_not(None),
                        seconds_between(Ticket.issued_at, Ticket.called_at),
                        Ticket.office_slug, Ticket.queue_slug)
    services = _histograms(
        session, where, Ticket.status == DONE,
        seconds_between(func.coalesce(Ticket.serving_started_at, Ticket.called_at),
                        Ticket.finished_at),
        Ticket.office_slug, Ticket.queue_slug, Ticket.counter_id, Ticket.called_by_id)
    label = _labeller(session, snapshot)
    groups = {dimension: _figures(dimension, counts, waits, services, label)
              for dimension in DIMENSIONS}
    return QueueReport(
        totals=_total(counts, waits, services), transfers=_transfers(session, where),
        heat=_heat(session, where, offset), groups=groups,
        longest=_longest(session, snapshot, where, label))


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    where = [Ticket.day >= filters.date_from, Ticket.day <= filters.date_to]
    for column, value in ((Ticket.office_slug, filters.office),
                          (Ticket.service_slug, filters.service),
                          (Ticket.queue_slug, filters.queue),
                          (Ticket.counter_id, filters.counter),
                          (Ticket.called_by_id, filters.clerk)):
        if value is not None:
            where.append(column == value)
    if filters.channel == "kiosk":
        where.append(Ticket.kiosk_id.is_not(None))
    elif filters.channel == "counter":
        where.append(and_(Ticket.kiosk_id.is_(None), Ticket.issued_by_id.is_not(None)))
    elif filters.channel == "online":
        where.append(and_(Ticket.kiosk_id.is_(None), Ticket.issued_by_id.is_(None)))
    return where


# A key of the grouped rows: (office, queue, counter, clerk); counter and clerk may be None.
Key = tuple[str, str, int | None, int | None]
DIMENSION_OF: dict[str, Callable[[tuple], object]] = {
    "office": lambda k: k[0], "queue": lambda k: k[1],
    "counter": lambda k: k[2] if len(k) > 2 else None,
    "clerk": lambda k: k[3] if len(k) > 3 else None,
}


@dataclass
class _Count:
    tickets: int = 0
    served: int = 0
    no_shows: int = 0


def _counts(session: Session, where: list[ColumnElement[bool]]) -> dict[Key, _Count]:
    """Tickets, served and no-shows by office, queue, counter and clerk."""
    query = (select(Ticket.office_slug, Ticket.queue_slug, Ticket.counter_id,
                    Ticket.called_by_id, func.count(),
                    func.sum(case((Ticket.status == DONE, 1), else_=0)),
                    func.sum(case((Ticket.status == NO_SHOW, 1), else_=0)))
             .where(*where)
             .group_by(Ticket.office_slug, Ticket.queue_slug, Ticket.counter_id,
                       Ticket.called_by_id))
    return {(o, q, c, u): _Count(int(n), int(s or 0), int(x or 0))
            for o, q, c, u, n, s, x in session.execute(query)}


def _histograms(session: Session, where: list[ColumnElement[bool]],
                condition: ColumnElement[bool], seconds: ColumnElement[float],
                *keys: ColumnElement[object]) -> dict[tuple, dict[int, int]]:
    """How many tickets took each whole number of seconds, by `keys`."""
    value = whole(seconds).label("seconds")
    query: Select = (select(*keys, value, func.count()).where(*where, condition)
                     .group_by(*keys, value))
    found: dict[tuple, dict[int, int]] = defaultdict(dict)
    for row in session.execute(query):
        *key, seconds_taken, count = row
        found[tuple(key)][max(int(seconds_taken), 0)] = int(count)
    return found


def _summary(key: str, label: str, count: _Count, wait: Histogram, service: Histogram
             ) -> Figures:
    return Figures(key, label, count.tickets, count.served, count.no_shows,
                   percentile(wait, 0.5), percentile(wait, 0.9),
                   percentile(service, 0.5), percentile(service, 0.9))


def _figures(dimension: str, counts: dict[Key, _Count], waits: dict[tuple, dict[int, int]],
             services: dict[tuple, dict[int, int]], label: Callable[[str, object], str]
             ) -> list[Figures]:
    pick = DIMENSION_OF[dimension]
    by_count: dict[object, _Count] = defaultdict(_Count)
    for key, count in counts.items():
        total = by_count[pick(key)]
        total.tickets += count.tickets
        total.served += count.served
        total.no_shows += count.no_shows
    by_wait: dict[object, list[Histogram]] = defaultdict(list)
    if dimension in ("office", "queue"):  # waits belong to the lobby, not to a counter
        for key, histogram in waits.items():
            by_wait[pick(key)].append(histogram)
    by_service: dict[object, list[Histogram]] = defaultdict(list)
    for key, histogram in services.items():
        by_service[pick(key)].append(histogram)
    figures = [_summary("" if value is None else str(value), label(dimension, value),
                        count, merge(by_wait[value]), merge(by_service[value]))
               for value, count in by_count.items()]
    return sorted(figures, key=lambda f: (f.label == UNKNOWN, -f.tickets, f.label))


def _total(counts: dict[Key, _Count], waits: dict[tuple, dict[int, int]],
           services: dict[tuple, dict[int, int]]) -> Figures:
    count = _Count(sum(c.tickets for c in counts.values()),
                   sum(c.served for c in counts.values()),
                   sum(c.no_shows for c in counts.values()))
    return _summary("", "همه", count, merge(waits.values()), merge(services.values()))


def _transfers(session: Session, where: list[ColumnElement[bool]]) -> int:
    query = (select(func.count()).select_from(TicketEvent)
             .join(Ticket, Ticket.id == TicketEvent.ticket_id)
             .where(TicketEvent.action == "transferred", *where))
    return int(session.scalar(query) or 0)


def _heat(session: Session, where: list[ColumnElement[bool]], offset: int
          ) -> dict[tuple[int, int], int]:
    hour = local_hour(Ticket.issued_at, offset).label("hour")
    query = (select(Ticket.day, hour, func.count()).where(*where)
             .group_by(Ticket.day, hour))
    heat: dict[tuple[int, int], int] = defaultdict(int)
    for day, hour_of_day, count in session.execute(query):
        heat[(weekday_index(day), int(hour_of_day))] += int(count)
    return dict(heat)


def _longest(session: Session, snapshot: Snapshot, where: list[ColumnElement[bool]],
             label: Callable[[str, object], str]) -> list[LongWait]:
    wait = seconds_between(Ticket.issued_at, Ticket.called_at)
    query = (select(Ticket, wait).where(*where, Ticket.called_at.is_not(None))
             .order_by(wait.desc(), Ticket.id).limit(LONGEST))
    queues = {q.slug: q for q in snapshot.catalog.queues}

    def ticket_label(ticket: Ticket) -> str:
        queue = queues.get(ticket.queue_slug)
        return queue.ticket_label(ticket.number, persian=True) if queue else str(ticket.number)

    return [LongWait(ticket_label(t), label("office", t.office_slug),
                     label("queue", t.queue_slug), t.issued_at, t.called_at,
                     round(float(seconds)), label("counter", t.counter_id), t.status)
            for t, seconds in session.execute(query)]


def _labeller(session: Session, snapshot: Snapshot) -> Callable[[str, object], str]:
    catalog = snapshot.catalog
    counters = {c.id: c for c in session.scalars(select(Counter))}
    clerks = {u.id: u.full_name for u in session.scalars(select(User))}
    queues = {q.slug: q for q in catalog.queues}

    def office_name(slug: object) -> str:
        office = catalog.office(str(slug))
        return office.name if office else str(slug)

    def label(dimension: str, key: object) -> str:
        if key is None:
            return UNKNOWN
        if dimension == "office":
            return office_name(key)
        if dimension == "queue":
            queue = queues.get(str(key))
            return f"{queue.prefix_fa} — {queue.title}" if queue else str(key)
        if dimension == "counter" and key in counters:
            counter = counters[key]  # type: ignore[index]
            return f"{counter.name} · {office_name(counter.office_slug)}"
        if dimension == "clerk":
            return clerks.get(key, str(key))  # type: ignore[arg-type]
        return str(key)
    return label
