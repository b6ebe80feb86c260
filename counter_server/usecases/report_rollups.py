"""Roll-ups of the supervisors' reports: settled days summed once, read instead of scanned.

A report's *day* is a ticket's day of issue (the queue report) or a request's local filing
day (the requests report). Once a day is settled — `SETTLE_DAYS` behind today, so its
lobby has closed and late kiosk pushes are in — `roll_due` stores its figures per
combination of the report's filters (`queue_rollups`, `request_rollups`), computed by the
report's own code for that one day, so a rolled day and a computed one cannot disagree.

Every write that can change a past day's figures counts itself in `report_days.changes`,
in the writer's transaction (`count_changes`, run by the session before each flush): a
ticket, a ticket's event, a request or a request's event of a day before today. A day is
read from its roll-up only while `rolled` equals `changes`; any other day of a report's
range — today, a day not rolled yet, one written to since — is computed from the source
rows. Roll-ups are made by the worker every `REPORT_ROLLUP_SECONDS` and by
`flask reports roll`; a report never writes.

Why the counter cannot miss a write: the roller reads `changes` before it reads the day's
rows and stores the count it read; a writer that commits before that read is in the rows,
and one that commits after it has raised `changes` past the stored count (on PostgreSQL
its row lock makes the roller's UPDATE wait for it).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from counter_server.db import Database, upsert_insert, utcnow
from counter_server.models import (
    ReportDay,
    RequestEvent,
    ServiceRequest,
    Ticket,
    TicketEvent,
)
from counter_server.usecases import catalog_versions
from shared.workcalendar import WorkCalendar

QUEUE = "queue"
REQUESTS = "requests"
REPORTED = (Ticket, TicketEvent, ServiceRequest, RequestEvent)
SETTLE_DAYS = 2  # a day is rolled up once it is this many days behind today

# kind → the function that stores one day's roll-up (registered by each report's module)
Roller = Callable[[Session, date, WorkCalendar], None]
_rollers: dict[str, Roller] = {}


def register(kind: str, roller: Roller) -> None:
    _rollers[kind] = roller


Span = tuple[date, date]  # first and last day, both included


@dataclass(frozen=True)
class Plan:
    """Which days of a range come from roll-ups and which from the source rows."""

    rolled: tuple[Span, ...]
    computed: tuple[Span, ...]


def plan(session: Session, kind: str, first: date, last: date) -> Plan:
    """Split `first`…`last` into spans of rolled days and spans of days to compute."""
    fresh = set(session.scalars(
        select(ReportDay.day).where(ReportDay.kind == kind, ReportDay.day.between(first, last),
                                    ReportDay.rolled == ReportDay.changes)))
    rolled: list[Span] = []
    computed: list[Span] = []
    for is_fresh, span in _runs(first, last, fresh):
        (rolled if is_fresh else computed).append(span)
    return Plan(tuple(rolled), tuple(computed))


def _runs(first: date, last: date, fresh: set[date]) -> Iterator[tuple[bool, Span]]:
    """Maximal runs of consecutive days that are all fresh or all not."""
    start = first
    while start <= last:
        state = start in fresh
        end = start
        while end + timedelta(days=1) <= last and (end + timedelta(days=1) in fresh) == state:
            end += timedelta(days=1)
        yield state, (start, end)
        start = end + timedelta(days=1)


def within(column: ColumnElement[date], spans: Iterable[Span]) -> ColumnElement[bool]:
    """`column` falls in one of the spans (false when there is none)."""
    return or_(False, *(column.between(a, b) for a, b in spans))  # type: ignore[arg-type]


# -- rolling up ----------------------------------------------------------------------------------

def due(session: Session, kind: str, calendar: WorkCalendar, now: datetime,
        since: date) -> list[date]:
    """Settled days from `since` whose roll-up is missing or stale, oldest first."""
    last = calendar.local_date(now) - timedelta(days=SETTLE_DAYS)
    fresh = set(session.scalars(
        select(ReportDay.day).where(ReportDay.kind == kind, ReportDay.day.between(since, last),
                                    ReportDay.rolled == ReportDay.changes)))
    days = (since + timedelta(days=n) for n in range((last - since).days + 1))
    return [day for day in days if day not in fresh]


def roll(session: Session, kind: str, day: date, calendar: WorkCalendar) -> bool:
    """Store `day`'s roll-up of `kind` in the caller's transaction; False when another
    roller had just done it."""
    session.execute(upsert_insert(session)(ReportDay).values(kind=kind, day=day)
                    .on_conflict_do_nothing(index_elements=["kind", "day"]))
    row = session.scalars(select(ReportDay).where(ReportDay.kind == kind, ReportDay.day == day)
                          .with_for_update()).one()
    if row.rolled == row.changes:
        return False
    seen = row.changes
    _rollers[kind](session, day, calendar)
    session.execute(update(ReportDay).where(ReportDay.kind == kind, ReportDay.day == day)
                    .values(rolled=seen, rolled_at=utcnow()))
    return True


def first_day(session: Session, kind: str, calendar: WorkCalendar) -> date | None:
    """The earliest day `kind` has figures for (None: no data yet)."""
    if kind == QUEUE:
        return session.scalar(select(func.min(Ticket.day)))
    earliest = session.scalar(select(func.min(ServiceRequest.created_at)))
    return calendar.local_date(earliest) if earliest is not None else None


def roll_due(database: Database, now: datetime | None = None) -> int:
    """Roll up, one day a transaction, every settled day of every report that is missing
    or stale; how many days were rolled."""
    now = now or utcnow()
    rolled = 0
    for kind in sorted(_rollers):
        with database.session() as session:
            try:
                calendar = catalog_versions.current_snapshot(session).calendar
            except catalog_versions.NoCatalog:
                return rolled
            since = first_day(session, kind, calendar)
            days = due(session, kind, calendar, now, since) if since else []
        for day in days:
            with database.transaction() as session:
                rolled += roll(session, kind, day, calendar)
    return rolled


# -- counting the writes to past days -----------------------------------------------------------

def count_changes(session: Session, today: date, calendar: WorkCalendar) -> None:
    """Raise `changes` of every past report day that this flush writes to."""
    touched: set[tuple[str, date]] = set()
    for item in (*session.new, *session.dirty, *session.deleted):
        touched.update(_days_of(item, calendar))
    for kind, day in sorted(touched):
        if day < today:
            session.execute(upsert_insert(session)(ReportDay).values(kind=kind, day=day,
                                                                     changes=1)
                            .on_conflict_do_update(index_elements=["kind", "day"],
                                                   set_={"changes": ReportDay.changes + 1}))


def _days_of(item: object, calendar: WorkCalendar) -> Iterator[tuple[str, date]]:
    if isinstance(item, TicketEvent):
        item = _parent(item, "ticket", Ticket, item.ticket_id)
    elif isinstance(item, RequestEvent):
        item = _parent(item, "request", ServiceRequest, item.request_id)
    if isinstance(item, Ticket) and item.day is not None:
        yield QUEUE, item.day
    elif isinstance(item, ServiceRequest) and item.created_at is not None:
        yield REQUESTS, calendar.local_date(item.created_at)


def _parent(item: object, name: str, model: type, key: int | None) -> object:
    """An event's ticket or request: as loaded, else by its id (None if neither)."""
    parent = item.__dict__.get(name)
    if parent is None and key is not None:
        session = Session.object_session(item)
        parent = session.get(model, key) if session is not None else None
    return parent


def watch(database: Database) -> None:
    """Count the changes of every flush of the database's sessions."""
    database.listen("before_flush", _before_flush)


def _before_flush(session: Session, _context: object, _instances: object) -> None:
    if not any(isinstance(item, REPORTED)
               for item in (*session.new, *session.dirty, *session.deleted)):
        return
    try:
        calendar = catalog_versions.current_snapshot(session).calendar
    except catalog_versions.NoCatalog:
        return  # nothing is reported before a catalog exists
    count_changes(session, calendar.local_date(utcnow()), calendar)

