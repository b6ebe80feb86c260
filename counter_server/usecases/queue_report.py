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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field, replace
from datetime import date, datetime

from sqlalchemy import case, delete, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from counter_server.models import Counter, QueueRollup, Ticket, TicketEvent, User
from counter_server.usecases import report_rollups
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.reports import (
    Filters,
    local_hour,
    percentile,
    seconds_between,
    whole,
)
from counter_server.usecases.walk_in_queue import DONE, NO_SHOW
from shared.workcalendar import WorkCalendar

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
    """The queue report for `filters` (office, service, queue, counter, clerk, channel):
    settled days from their roll-ups, the others from the tickets."""
    where = _where(filters)
    plan = report_rollups.plan(session, report_rollups.QUEUE, filters.date_from,
                               filters.date_to)
    found = cells(session, [*where, report_rollups.within(Ticket.day, plan.computed)],
                  filters.offset_minutes(snapshot.calendar)) if plan.computed else {}
    if plan.rolled:
        _merge_into(found, _rolled(session, filters, plan.rolled))
    label = _labeller(session, snapshot)
    total = Cell()
    for cell in found.values():
        total.add(cell)
    heat = total.heat
    return QueueReport(
        totals=_summary("", "همه", total), transfers=total.transfers, heat=dict(heat),
        groups={dimension: _figures(dimension, found, label) for dimension in DIMENSIONS},
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
    if filters.channel in CHANNELS:
        where.append(CHANNEL == filters.channel)
    return where


# A ticket's channel: the kiosk that issued it, the staff who did, or neither (online).
CHANNEL = case((Ticket.kiosk_id.is_not(None), "kiosk"),
               (Ticket.issued_by_id.is_not(None), "counter"), else_="online")
CHANNELS = ("kiosk", "counter", "online")

# The combination of filters a cell counts: office, queue, service, channel, counter, clerk.
Combo = tuple[str, str, str, str, int | None, int | None]
COMBO = (Ticket.office_slug, Ticket.queue_slug, Ticket.service_slug, CHANNEL,
         Ticket.counter_id, Ticket.called_by_id)
DIMENSION_OF: dict[str, Callable[[Combo], object]] = {
    "office": lambda k: k[0], "queue": lambda k: k[1], "counter": lambda k: k[4],
    "clerk": lambda k: k[5]}


@dataclass
class Cell:
    """The figures of some tickets, mergeable: counts and histograms of whole seconds."""

    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    transfers: int = 0
    waits: dict[int, int] = field(default_factory=dict)
    services: dict[int, int] = field(default_factory=dict)
    heat: dict[tuple[int, int], int] = field(default_factory=dict)  # (weekday, hour) → n

    def add(self, other: Cell) -> None:
        self.tickets += other.tickets
        self.served += other.served
        self.no_shows += other.no_shows
        self.transfers += other.transfers
        for mine, theirs in ((self.waits, other.waits), (self.services, other.services),
                             (self.heat, other.heat)):
            for value, count in theirs.items():
                mine[value] = mine.get(value, 0) + count  # type: ignore[index]


def cells(session: Session, where: list[ColumnElement[bool]], offset: int
          ) -> dict[Combo, Cell]:
    """The tickets `where` selects, one cell per combination of the report's filters."""
    found: dict[Combo, Cell] = defaultdict(Cell)
    counts = (select(*COMBO, func.count(), func.sum(case((Ticket.status == DONE, 1), else_=0)),
                     func.sum(case((Ticket.status == NO_SHOW, 1), else_=0)))
              .where(*where).group_by(*COMBO))
    for *combo, tickets, served, no_shows in session.execute(counts):
        cell = found[tuple(combo)]  # type: ignore[index]
        cell.tickets, cell.served, cell.no_shows = int(tickets), int(served or 0), \
            int(no_shows or 0)
    for attribute, condition, seconds in (
            ("waits", Ticket.called_at.is_not(None),
             seconds_between(Ticket.issued_at, Ticket.called_at)),
            ("services", Ticket.status == DONE,
             seconds_between(func.coalesce(Ticket.serving_started_at, Ticket.called_at),
                             Ticket.finished_at))):
        value = whole(seconds).label("seconds")
        query = select(*COMBO, value, func.count()).where(*where, condition) \
            .group_by(*COMBO, value)
        for *combo, taken, count in session.execute(query):
            getattr(found[tuple(combo)], attribute)[max(int(taken), 0)] = int(count)  # type: ignore[index]
    transfers = (select(*COMBO, func.count()).select_from(TicketEvent)
                 .join(Ticket, Ticket.id == TicketEvent.ticket_id)
                 .where(TicketEvent.action == "transferred", *where).group_by(*COMBO))
    for *combo, count in session.execute(transfers):
        found[tuple(combo)].transfers = int(count)  # type: ignore[index]
    hour = local_hour(Ticket.issued_at, offset).label("hour")
    heat = select(*COMBO, Ticket.day, hour, func.count()).where(*where) \
        .group_by(*COMBO, Ticket.day, hour)
    for *combo, day, hour_of_day, count in session.execute(heat):
        cell_heat = found[tuple(combo)].heat  # type: ignore[index]
        key = (weekday_index(day), int(hour_of_day))
        cell_heat[key] = cell_heat.get(key, 0) + int(count)
    return dict(found)


def _merge_into(found: dict[Combo, Cell], more: Iterable[tuple[Combo, Cell]]) -> None:
    for combo, cell in more:
        if combo in found:
            found[combo].add(cell)
        else:
            found[combo] = cell


# -- the roll-ups ------------------------------------------------------------------------------

def roll_day(session: Session, day: date, calendar: WorkCalendar) -> None:
    """Store `day`'s cells as its roll-up (replacing an older one) in the caller's
    transaction."""
    offset = Filters(day, day).offset_minutes(calendar)
    session.execute(delete(QueueRollup).where(QueueRollup.day == day))
    rows = [{"day": day, "office_slug": combo[0], "queue_slug": combo[1],
             "service_slug": combo[2], "channel": combo[3], "counter_id": combo[4],
             "clerk_id": combo[5], "tickets": cell.tickets, "served": cell.served,
             "no_shows": cell.no_shows, "transfers": cell.transfers,
             "waits": sorted(cell.waits.items()), "services": sorted(cell.services.items()),
             "hours": sorted((hour, count) for (_, hour), count in cell.heat.items())}
            for combo, cell in cells(session, [Ticket.day == day], offset).items()]
    if rows:
        session.execute(insert(QueueRollup), rows)


report_rollups.register(report_rollups.QUEUE, roll_day)


def _rolled(session: Session, filters: Filters, spans: tuple[report_rollups.Span, ...]
            ) -> Iterator[tuple[Combo, Cell]]:
    """The cells of the rolled days in `spans` that the filters keep."""
    where: list[ColumnElement[bool]] = [report_rollups.within(QueueRollup.day, spans)]
    for column, value in ((QueueRollup.office_slug, filters.office),
                          (QueueRollup.service_slug, filters.service),
                          (QueueRollup.queue_slug, filters.queue),
                          (QueueRollup.counter_id, filters.counter),
                          (QueueRollup.clerk_id, filters.clerk),
                          (QueueRollup.channel, filters.channel if filters.channel in CHANNELS
                           else None)):
        if value is not None:
            where.append(column == value)
    query = select(QueueRollup.day, QueueRollup.office_slug, QueueRollup.queue_slug,
                   QueueRollup.service_slug, QueueRollup.channel, QueueRollup.counter_id,
                   QueueRollup.clerk_id, QueueRollup.tickets, QueueRollup.served,
                   QueueRollup.no_shows, QueueRollup.transfers, QueueRollup.waits,
                   QueueRollup.services, QueueRollup.hours).where(*where)
    for (day, office, queue, service, channel, counter, clerk, tickets, served, no_shows,
         transfers, waits, services, hours) in session.execute(query):
        weekday = weekday_index(day)
        yield (office, queue, service, channel, counter, clerk), Cell(
            tickets, served, no_shows, transfers, dict(waits), dict(services),
            {(weekday, h): n for h, n in hours})


# -- figures -----------------------------------------------------------------------------------

def _summary(key: str, label: str, cell: Cell) -> Figures:
    return Figures(key, label, cell.tickets, cell.served, cell.no_shows,
                   percentile(cell.waits, 0.5), percentile(cell.waits, 0.9),
                   percentile(cell.services, 0.5), percentile(cell.services, 0.9))


def _figures(dimension: str, found: dict[Combo, Cell], label: Callable[[str, object], str]
             ) -> list[Figures]:
    """One row per value of `dimension`; waits belong to the lobby (office and queue), not
    to a counter or a clerk."""
    pick = DIMENSION_OF[dimension]
    groups: dict[object, Cell] = defaultdict(Cell)
    for combo, cell in found.items():
        groups[pick(combo)].add(cell if dimension in ("office", "queue")
                                else replace(cell, waits={}))
    figures = [_summary("" if value is None else str(value), label(dimension, value), cell)
               for value, cell in groups.items()]
    return sorted(figures, key=lambda f: (f.label == UNKNOWN, -f.tickets, f.label))


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
