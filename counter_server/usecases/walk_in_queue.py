"""The walk-in queue: issuing tickets, kiosk number leases, calling the next person, times.

Numbers come from one counter row per queue, office and day (`QueueDay.next_number`); kiosks
lease blocks from the same counter ahead of time, so a ticket numbered by an offline kiosk can
never collide with one the server numbered. Calling the next person claims the ticket with a
conditional UPDATE (status still 'waiting'), so two counters pressing at once never get the same
ticket — on SQLite, where `SKIP LOCKED` does nothing, as on PostgreSQL.

A ticket may carry the mobile its holder gave; the call, the transfer to a counter and the
finish then write its SMS in the same transaction (`queue_messages`), and each call tells the
ticket that has just come within `Lobby.near_ahead` people of the front.
"""

from __future__ import annotations

import functools
import hashlib
import json
import math
import secrets
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import (
    Insert,
    Integer,
    Update,
    and_,
    bindparam,
    exists,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session, make_transient_to_detached

from counter_server.db import utcnow
from counter_server.models import (
    Counter,
    Lease,
    QueueDay,
    ServiceRequest,
    Ticket,
    TicketEvent,
    User,
)
from counter_server.usecases import queue_messages
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.kiosks import Caller
from shared import tracking_codes
from shared.catalog.schema import Office, QueueSpec
from shared.text import to_persian_digits
from shared.validators import InvalidValue, clean_mobile

WAITING, CALLED, SERVING, DONE, NO_SHOW, CLOSED = (
    "waiting", "called", "serving", "done", "no_show", "closed")
OPEN_STATUSES = (WAITING, CALLED, SERVING)
STATUS_LABELS = {
    WAITING: "در انتظار", CALLED: "فراخوانده‌شده", SERVING: "در حال خدمت",
    DONE: "خدمت‌گرفته", NO_SHOW: "حاضر نشد", CLOSED: "بسته‌شده در پایان روز",
}
MAX_LEASE = 200
LEASE_DAYS_AHEAD = 7
HISTORY_DAYS = 7
MIN_SAMPLES = 3
NO_HISTORY_RANGE = (3, 10)  # minutes per person ahead, when nothing has been measured yet
CALL_RETRIES = 10


class QueueError(Exception):
    """A queue operation that cannot be done: a stable code, a Persian message."""

    def __init__(self, code: str, message: str, status: int = 422):
        super().__init__(code)
        self.code, self.message, self.status = code, message, status


@dataclass(frozen=True)
class TicketOrder:
    """What a kiosk or a receptionist asks for (see POST /api/v1/tickets)."""

    client_id: str
    service: str
    priority: str | None = None
    tracking_code: str | None = None
    number: int | None = None
    issued_at: datetime | None = None
    office: str | None = None
    public_id: str | None = None
    mobile: str | None = None  # for the queue's SMS; checked and made canonical by `issue`

    def digest(self) -> str:
        """The body's fingerprint; `mobile` counts only when given, so the digests of
        tickets issued before it existed stay the same."""
        body = {**self.__dict__, "issued_at": self.issued_at.isoformat() if self.issued_at
                else None}
        if body["mobile"] is None:
            del body["mobile"]
        return hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class Issued:
    ticket: Ticket
    created: bool


@dataclass(frozen=True)
class Estimate:
    minutes: int | None
    range: tuple[int, int] | None


DEFAULT_NEAR_AHEAD = 3


class Lobby:
    """The queue rules of the current catalog, with the clock to apply them at; `near_ahead`
    is how many people ahead a ticket's holder is told «… نفر جلوی شما هستند» (None: never)."""

    def __init__(self, snapshot: Snapshot, now: datetime,
                 near_ahead: int | None = DEFAULT_NEAR_AHEAD):
        self.snapshot, self.now, self.near_ahead = snapshot, now, near_ahead
        self.today = snapshot.calendar.local_date(now)

    def label(self, ticket: Ticket) -> str:
        """The ticket's label as the lobby shows it («ب-۰۱۲»)."""
        return _label(self.snapshot, ticket.queue_slug, ticket.number)

    def office(self, slug: str | None) -> Office:
        offices = self.snapshot.catalog.offices
        office = self.snapshot.catalog.office(slug) if slug else (offices[0] if offices else None)
        if office is None:
            raise QueueError("office_not_found", "این دفتر در فهرست دفترها نیست.", status=404)
        return office

    def queue(self, slug: str) -> QueueSpec:
        queue = next((q for q in self.snapshot.catalog.queues if q.slug == slug), None)
        if queue is None:
            raise QueueError("queue_not_found", "این صف وجود ندارد.", status=404)
        return queue

    def queue_for(self, office: Office, service: str) -> QueueSpec:
        queue = self.snapshot.catalog.queue_for(service, office)
        if queue is None:
            raise QueueError("no_queue_for_service",
                             "برای این خدمت در این دفتر نوبت حضوری داده نمی‌شود.")
        return queue


def _label(snapshot: Snapshot, queue_slug: str, number: int) -> str:
    queue = next((q for q in snapshot.catalog.queues if q.slug == queue_slug), None)
    return queue.ticket_label(number) if queue else to_persian_digits(number)


def labels(session: Session, snapshot: Snapshot, ticket_ids: set[int]) -> dict[int, str]:
    """The labels of these tickets as the lobby shows them, by id (e.g. for the SMS list)."""
    rows = session.execute(select(Ticket.id, Ticket.queue_slug, Ticket.number)
                           .where(Ticket.id.in_(ticket_ids or {0}))).all()
    return {id_: _label(snapshot, queue, number) for id_, queue, number in rows}


def _queue_day(session: Session, office: str, queue: str, day: date) -> QueueDay:
    row = session.get(QueueDay, (office, queue, day))
    if row is None:
        row = QueueDay(office_slug=office, queue_slug=queue, day=day, next_number=1,
                       consecutive_priority=0)
        session.add(row)
        session.flush()
    return row


def commits_each_statement(session: Session) -> bool:
    """True when the session's connection commits every statement as it runs (PostgreSQL's
    AUTOCOMMIT, as `context.statement_unit_of_work` opens it for taking a ticket)."""
    options = session.connection().get_execution_options()
    return bool(options.get("isolation_level") == "AUTOCOMMIT")


def _take_numbers(session: Session, office: str, queue: str, day: date, count: int,
                  client_id: str | None = None) -> int | None:
    """Reserve `count` consecutive numbers; returns the first. Atomic on both databases; the
    day's row is made by the first ticket of the day (one round trip for every other).

    With `client_id`, nothing is taken (None) when that client already has a ticket: the
    replay check costs no round trip of its own. When each statement commits by itself, the
    numbers are committed asynchronously (`synchronous_commit` off for this statement alone),
    so the queue's row is not locked while the disk flushes: the ticket's own, synchronous,
    commit comes later in the write-ahead log and flushes this one with it, so no ticket can
    survive a crash that lost its number (a number lost with its ticket was never given)."""
    taking = _taking(client_id is not None, commits_each_statement(session))
    params = {"at_office": office, "at_queue": queue, "at_day": day, "count": count,
              "client_id": client_id}
    after = session.connection().execute(taking, params).scalar_one_or_none()
    if after is None:
        if client_id is not None and _replayed(session, client_id):
            return None
        _queue_day(session, office, queue, day)
        after = session.connection().execute(taking, params).scalar_one_or_none()
    return None if after is None else after - count


@functools.cache
def _taking(unless_client: bool, asynchronous: bool) -> Update:
    """`_take_numbers`' statement, built once (its parameters are bound at each call)."""
    days = QueueDay.__table__
    taking = (update(days)
              .where(days.c.office_slug == bindparam("at_office"),
                     days.c.queue_slug == bindparam("at_queue"), days.c.day == bindparam("at_day"))
              .values(next_number=days.c.next_number + bindparam("count", type_=Integer))
              .returning(days.c.next_number))
    if unless_client:
        tickets = Ticket.__table__
        taking = taking.where(~exists().where(tickets.c.client_id == bindparam("client_id")))
    if asynchronous:
        taking = taking.where(func.set_config("synchronous_commit", "off", True).is_not(None))
    return taking


def _replayed(session: Session, client_id: str) -> bool:
    return session.scalar(select(Ticket.id).where(Ticket.client_id == client_id)) is not None


def log(session: Session, ticket: Ticket, action: str, user: User | None = None) -> None:
    session.add(TicketEvent(office_slug=ticket.office_slug, ticket_id=ticket.id, action=action,
                            counter_id=ticket.counter_id, user_id=user.id if user else None))


_rolled_over: dict[tuple[int, str], date] = {}


def roll_over(session: Session, office: str, today: date) -> None:
    """Close earlier days' tickets once a day per office (this process remembers it did)."""
    key = (id(session.get_bind().pool), office)
    if _rolled_over.get(key) != today:
        close_past_days(session, office, today)
        _rolled_over[key] = today


def close_past_days(session: Session, office: str, today: date) -> int:
    """Day rollover: close earlier days' unserved tickets (kept, never deleted)."""
    result = session.execute(
        update(Ticket)
        .where(Ticket.office_slug == office, Ticket.day < today,
               Ticket.status.in_(OPEN_STATUSES))
        .values(status=CLOSED, finished_at=func.coalesce(Ticket.finished_at, Ticket.issued_at))
    )
    return result.rowcount or 0


def issue(session: Session, lobby: Lobby, order: TicketOrder, *, kiosk: Caller | None = None,
          user: User | None = None, enforce_hours: bool = True) -> Issued:
    """Issue a ticket (or return the one this client id already got). The caller commits.

    Three round trips for a server-numbered ticket: the number (with the replay check), the
    ticket with its event (one statement when each commits by itself), and the commit."""
    order = _with_clean_mobile(order)
    digest = order.digest()
    try:
        office = lobby.office(kiosk.office_slug if kiosk and kiosk.office_slug else order.office)
        queue = lobby.queue_for(office, order.service)
        _check_priority(queue, order.priority)
        issued_at = _issued_at(order, lobby.now)
        if order.number is None and enforce_hours and \
                not queue.is_open(lobby.now, lobby.snapshot.calendar):
            raise QueueError("queue_closed", f"نوبت‌دهی صف «{queue.title}» اکنون بسته است.")
        public_id = _public_id(session, order, kiosk)
    except QueueError:  # still answered when it replays a ticket issued before
        if not _replayed(session, order.client_id):
            raise
        return _replay(session, order.client_id, digest)
    if order.number is None:
        day = lobby.today
        number = _take_numbers(session, office.slug, queue.slug, day, 1, order.client_id)
        if number is None:
            return _replay(session, order.client_id, digest)
    else:
        if _replayed(session, order.client_id):
            return _replay(session, order.client_id, digest)
        day = lobby.snapshot.calendar.local_date(issued_at)
        number = _leased_number(session, kiosk, office.slug, queue.slug, day, order.number)
    roll_over(session, office.slug, lobby.today)
    values = dict(
        public_id=public_id, client_id=order.client_id, body_digest=digest,
        office_slug=office.slug, queue_slug=queue.slug, service_slug=order.service, day=day,
        number=number, priority=order.priority, status=WAITING if day >= lobby.today else CLOSED,
        tracking_code=_linked_code(order.tracking_code), mobile=order.mobile,
        kiosk_id=kiosk.id if kiosk else None, issued_by_id=user.id if user else None,
        issued_at=issued_at, received_at=lobby.now)
    ticket_id = _insert(session, values, user)
    if ticket_id is None:  # another call with this client id won the race
        return _replay(session, order.client_id, digest)
    return Issued(_attached(session, Ticket(id=ticket_id, **values, **UNTOUCHED)), created=True)


UNTOUCHED: dict[str, Any] = {
    "recalls": 0, "assigned_counter_id": None, "counter_id": None, "called_by_id": None,
    "called_at": None, "serving_started_at": None, "finished_at": None}


def _replay(session: Session, client_id: str, digest: str) -> Issued:
    """The ticket this client id already got (committed: tickets are never deleted), as a
    replay; QueueError when its body was another."""
    existing = session.scalars(select(Ticket).where(Ticket.client_id == client_id)).one()
    if existing.body_digest != digest:
        raise QueueError("idempotency_key_reused",
                         "این شناسه نوبت پیش‌تر با محتوای دیگری به کار رفته است.")
    return Issued(existing, created=False)


def _insert(session: Session, values: dict[str, Any], user: User | None) -> int | None:
    """Write the ticket and its «issued» event; the ticket's id, or None when its client id
    was taken meanwhile. When each statement commits by itself, both rows go in one
    statement (PostgreSQL's INSERT in a WITH), so neither is ever committed alone."""
    connection = session.connection()
    event = {"event_action": "issued", "event_user_id": user.id if user else None,
             "event_at": utcnow()}
    dialect = connection.dialect.name
    params = {f"new_{name}": value for name, value in values.items()}
    if commits_each_statement(session):
        return connection.execute(_writing_both(dialect), {**params, **event}).scalar_one_or_none()
    ticket_id = connection.execute(_writing_ticket(dialect), params).scalar_one_or_none()
    if ticket_id is not None:
        connection.execute(_writing_event(), {"event_office": values["office_slug"],
                                              "event_ticket_id": ticket_id, **event})
    return ticket_id


TICKET_VALUES = ("public_id", "client_id", "body_digest", "office_slug", "queue_slug",
                 "service_slug", "day", "number", "priority", "status", "tracking_code",
                 "mobile", "kiosk_id", "issued_by_id", "issued_at", "received_at")


@functools.cache
def _writing_ticket(dialect: str) -> Insert:
    """INSERT … ON CONFLICT (client_id) DO NOTHING RETURNING id, built once."""
    tickets = Ticket.__table__
    inserting = postgresql_insert if dialect == "postgresql" else sqlite_insert
    return (inserting(tickets)
            .values({name: bindparam(f"new_{name}", type_=tickets.c[name].type)
                     for name in TICKET_VALUES})
            .on_conflict_do_nothing(index_elements=[tickets.c.client_id])
            .returning(tickets.c.id, tickets.c.office_slug))


def _event_columns() -> dict[str, Any]:
    events = TicketEvent.__table__
    return {"action": bindparam("event_action", type_=events.c.action.type),
            "user_id": bindparam("event_user_id", type_=events.c.user_id.type),
            "at": bindparam("event_at", type_=events.c.at.type)}


@functools.cache
def _writing_event() -> Insert:
    events = TicketEvent.__table__
    return insert(events).values(office_slug=bindparam("event_office"),
                                 ticket_id=bindparam("event_ticket_id"), **_event_columns())


@functools.cache
def _writing_both(dialect: str) -> Insert:
    """The ticket and its event in one statement (PostgreSQL), built once."""
    written = _writing_ticket(dialect).cte("new_ticket")
    columns = _event_columns()
    return (insert(TicketEvent.__table__)
            .from_select(["office_slug", "ticket_id", *columns],
                         select(written.c.office_slug, written.c.id, *columns.values()))
            .returning(TicketEvent.__table__.c.ticket_id))


def _attached(session: Session, ticket: Ticket) -> Ticket:
    """`ticket`, just written by a Core statement, as a persistent object of `session`
    (no statement: its every column is known)."""
    make_transient_to_detached(ticket)
    session.add(ticket)
    return ticket


def _issued_at(order: TicketOrder, now: datetime) -> datetime:
    """When the ticket was taken: now, unless a kiosk numbered it from its lease (offline,
    earlier) — the queue is ordered by it, so nobody else may claim an earlier place, and no
    time after now is taken."""
    if order.issued_at is None:
        return now
    if order.number is None:
        raise QueueError("issued_at_not_allowed", "زمان صدور را فقط کیوسکی می‌فرستد که نوبت را "
                         "با شماره رزروشده خودش داده است.")
    return min(order.issued_at, now)


def _with_clean_mobile(order: TicketOrder) -> TicketOrder:
    """The order with its mobile as "09…" (any digits accepted); QueueError when invalid."""
    if order.mobile is None:
        return order
    try:
        return replace(order, mobile=clean_mobile(order.mobile))
    except InvalidValue as exc:
        raise QueueError(exc.code, exc.message) from None


def _public_id(session: Session, order: TicketOrder, kiosk: Caller | None) -> str:
    """The id in the ticket's QR: the one a kiosk already printed, or a new random one."""
    if order.public_id is None:
        return secrets.token_urlsafe(9)
    if kiosk is None or order.number is None:
        raise QueueError("ticket_id_not_allowed",
                         "فقط کیوسکی که نوبت را خودش شماره زده شناسه آن را تعیین می‌کند.")
    if session.scalar(select(Ticket.id).where(Ticket.public_id == order.public_id)):
        raise QueueError("ticket_id_taken", "این شناسه نوبت پیش‌تر به کار رفته است.",
                         status=409)
    return order.public_id


def _check_priority(queue: QueueSpec, priority: str | None) -> None:
    if priority is not None and priority not in queue.priority_classes:
        raise QueueError("priority_not_offered", "این گروه اولویت در این صف تعریف نشده است.")


def _linked_code(code: str | None) -> str | None:
    """The request a ticket is for; a kiosk may send it before the request itself arrives."""
    if not code:
        return None
    try:
        return tracking_codes.normalize(code)
    except tracking_codes.InvalidCode as exc:
        raise QueueError(exc.code, exc.message) from None


def _leased_number(session: Session, kiosk: Caller | None, office: str, queue: str, day: date,
                   number: int) -> int:
    if kiosk is None:
        raise QueueError("kiosk_token_required", "فقط کیوسک می‌تواند شماره نوبت را خودش بدهد.",
                         status=401)
    lease = session.scalar(select(Lease).where(
        Lease.kiosk_id == kiosk.id, Lease.office_slug == office, Lease.queue_slug == queue,
        Lease.day == day, Lease.first <= number, Lease.last >= number))
    if lease is None:
        raise QueueError("number_not_leased",
                         "این شماره نوبت در بازه‌های رزروشده این کیوسک نیست.", status=409)
    return number


def lease(session: Session, lobby: Lobby, kiosk: Caller, queue_slug: str, size: int,
          day: date | None = None) -> Lease:
    """Reserve `size` numbers of a queue for `kiosk` on `day` (today by default)."""
    office = lobby.office(kiosk.office_slug)
    queue = lobby.queue(queue_slug)
    if queue not in lobby.snapshot.catalog.queues_of(office):
        raise QueueError("queue_not_in_office", "این صف در دفتر این کیوسک نیست.")
    day = day or lobby.today
    if not lobby.today <= day <= lobby.today + timedelta(days=LEASE_DAYS_AHEAD):
        raise QueueError("lease_day_out_of_range",
                         "شماره نوبت فقط برای امروز و هفت روز آینده رزرو می‌شود.")
    if not 1 <= size <= MAX_LEASE:
        raise QueueError("lease_size_out_of_range",
                         f"اندازه بازه باید بین ۱ و {to_persian_digits(MAX_LEASE)} باشد.")
    first = _take_numbers(session, office.slug, queue.slug, day, size)
    if first is None:  # only when the day's row is made and gone at once: never in practice
        raise QueueError("busy", "صف شلوغ است؛ دوباره بکوشید.", status=503)
    row = Lease(kiosk_id=kiosk.id, office_slug=office.slug, queue_slug=queue.slug, day=day,
                first=first, last=first + size - 1)
    session.add(row)
    session.flush()
    return row


# -- at the counter ------------------------------------------------------------------------


def current_ticket(session: Session, counter: Counter, today: date) -> Ticket | None:
    return session.scalar(select(Ticket).where(
        Ticket.counter_id == counter.id, Ticket.day == today,
        Ticket.status.in_((CALLED, SERVING))).order_by(Ticket.called_at.desc()).limit(1))


def _waiting(counter: Counter, office: str, today: date, queue: str) -> Any:
    return select(Ticket).where(
        Ticket.office_slug == office, Ticket.day == today, Ticket.status == WAITING,
        Ticket.queue_slug == queue,
        or_(Ticket.assigned_counter_id.is_(None), Ticket.assigned_counter_id == counter.id))


def _head(session: Session, counter: Counter, lobby: Lobby, queue: QueueSpec
          ) -> tuple[Ticket | None, bool]:
    """The ticket this queue offers next and whether it is a priority one."""
    waiting = _waiting(counter, counter.office_slug, lobby.today, queue.slug)
    order = (Ticket.issued_at, Ticket.id)
    priority = session.scalar(waiting.where(Ticket.priority.is_not(None)).order_by(*order)
                              .limit(1))
    ordinary = session.scalar(waiting.where(Ticket.priority.is_(None)).order_by(*order).limit(1))
    if priority is None or ordinary is None:
        return (priority, True) if priority is not None else (ordinary, False)
    day = session.get(QueueDay, (counter.office_slug, queue.slug, lobby.today))
    run = day.consecutive_priority if day else 0
    return (priority, True) if run < queue.max_consecutive_priority else (ordinary, False)


def _choose(session: Session, counter: Counter, lobby: Lobby) -> tuple[Ticket, bool] | None:
    """Across the counter's queues: priority heads first, then whoever came first."""
    heads = []
    for slug in counter.queues:
        queue = lobby.queue(slug)
        ticket, is_priority = _head(session, counter, lobby, queue)
        if ticket is not None:
            heads.append((not is_priority, ticket.issued_at, ticket.id, ticket, is_priority))
    if not heads:
        return None
    _, _, _, ticket, is_priority = min(heads, key=lambda h: h[:3])
    return ticket, is_priority


def call_next(session: Session, lobby: Lobby, counter: Counter, user: User) -> Ticket | None:
    """Hand the right waiting ticket to `counter`, never the same one to two counters."""
    if current_ticket(session, counter, lobby.today) is not None:
        raise QueueError("counter_busy", "ابتدا کار نوبت کنونی این باجه را تمام کنید.")
    roll_over(session, counter.office_slug, lobby.today)
    for _ in range(CALL_RETRIES):
        choice = _choose(session, counter, lobby)
        if choice is None:
            return None
        ticket, is_priority = choice
        claimed = session.execute(
            update(Ticket).where(Ticket.id == ticket.id, Ticket.status == WAITING)
            .values(status=CALLED, counter_id=counter.id, called_by_id=user.id,
                    called_at=lobby.now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed == 1:
            session.refresh(ticket)
            # Its row lock also makes concurrent calls of this queue wait for this one, so
            # the one near the front is told once.
            _count_priority_run(session, ticket, is_priority)
            log(session, ticket, "called", user)
            queue_messages.called(session, ticket, lobby.label(ticket), counter)
            _tell_the_one_near(session, lobby, ticket)
            return ticket
        session.expire(ticket)  # another counter took it; choose again
    raise QueueError("busy", "صف شلوغ است؛ دوباره «نفر بعدی» را بزنید.", status=503)


def _tell_the_one_near(session: Session, lobby: Lobby, called: Ticket) -> None:
    """The ticket that this call has just brought to `near_ahead` people from the front of
    its queue (it had one more ahead before) is told so — the queue's order is `ahead_of`'s."""
    if lobby.near_ahead is None:
        return
    behind = session.scalar(select(Ticket).where(
        Ticket.office_slug == called.office_slug, Ticket.queue_slug == called.queue_slug,
        Ticket.day == called.day, Ticket.status == WAITING)
        .order_by(Ticket.priority.is_(None), Ticket.issued_at, Ticket.id)
        .offset(lobby.near_ahead).limit(1))
    if behind is not None and behind.mobile and line_key(called) < line_key(behind):
        queue_messages.near(session, behind, lobby.label(behind), lobby.near_ahead)


def line_key(ticket: Ticket) -> tuple[bool, datetime, int]:
    """A ticket's place in its queue's order: priority first, then who came first."""
    return ticket.priority is None, ticket.issued_at, ticket.id


def _count_priority_run(session: Session, ticket: Ticket, is_priority: bool) -> None:
    _queue_day(session, ticket.office_slug, ticket.queue_slug, ticket.day)
    where = and_(QueueDay.office_slug == ticket.office_slug,
                 QueueDay.queue_slug == ticket.queue_slug, QueueDay.day == ticket.day)
    value = QueueDay.consecutive_priority + 1 if is_priority else 0
    session.execute(update(QueueDay).where(where).values(consecutive_priority=value))


TRANSITIONS: dict[str, tuple[tuple[str, ...], str]] = {
    "recall": ((CALLED,), CALLED),
    "start": ((CALLED,), SERVING),
    "finish": ((SERVING, CALLED), DONE),
    "no_show": ((CALLED,), NO_SHOW),
}
ACTION_LABELS = {"recall": "فراخوانی دوباره", "start": "شروع خدمت", "finish": "پایان خدمت",
                 "no_show": "حاضر نشد", "transfer": "انتقال"}


def act(session: Session, lobby: Lobby, counter: Counter, ticket: Ticket, action: str,
        user: User) -> None:
    """Recall, start, finish or mark a no-show for the counter's own ticket."""
    if ticket.counter_id != counter.id:
        raise QueueError("not_this_counter", "این نوبت به این باجه داده نشده است.", status=403)
    sources, target = TRANSITIONS.get(action, ((), ""))
    if ticket.status not in sources:
        raise QueueError("ticket_action_not_allowed",
                         f"«{ACTION_LABELS.get(action, action)}» برای نوبتی با وضعیت "
                         f"«{STATUS_LABELS[ticket.status]}» ممکن نیست.")
    ticket.status = target
    if action == "recall":
        ticket.recalls += 1
        ticket.called_at = lobby.now
    elif action == "start":
        ticket.serving_started_at = lobby.now
    elif action in ("finish", "no_show"):
        ticket.finished_at = lobby.now
        if action == "finish":
            ticket.serving_started_at = ticket.serving_started_at or ticket.called_at
            record_service_time(session, ticket)
    log(session, ticket, action, user)
    if action == "finish":
        service = lobby.snapshot.service(ticket.service_slug)
        queue_messages.served(session, ticket, user,
                              service.title if service else ticket.service_slug,
                              str(lobby.snapshot.catalog.agency.public_base_url), lobby.now)


def record_service_time(session: Session, ticket: Ticket) -> None:
    """Add a finished ticket's service time to its day's totals (they feed the estimates)."""
    seconds = int((ticket.finished_at - ticket.serving_started_at).total_seconds())
    _queue_day(session, ticket.office_slug, ticket.queue_slug, ticket.day)
    session.execute(update(QueueDay).where(
        QueueDay.office_slug == ticket.office_slug, QueueDay.queue_slug == ticket.queue_slug,
        QueueDay.day == ticket.day).values(served=QueueDay.served + 1,
                                            service_seconds=QueueDay.service_seconds + seconds))


def transfer(session: Session, lobby: Lobby, counter: Counter, ticket: Ticket, user: User,
             queue_slug: str | None = None, to_counter: Counter | None = None) -> None:
    """Send the counter's ticket to another queue or counter; it keeps its place in line."""
    if ticket.counter_id != counter.id or ticket.status not in (CALLED, SERVING):
        raise QueueError("not_this_counter", "این نوبت اکنون در این باجه نیست.", status=403)
    if to_counter is not None:
        if to_counter.office_slug != ticket.office_slug or to_counter.id == counter.id:
            raise QueueError("transfer_invalid", "باجه مقصد درست نیست.")
        ticket.assigned_counter_id = to_counter.id
        if ticket.queue_slug not in to_counter.queues:
            ticket.queue_slug = to_counter.queues[0]
    elif queue_slug:
        office = lobby.office(ticket.office_slug)
        queue = lobby.queue(queue_slug)
        if queue not in lobby.snapshot.catalog.queues_of(office):
            raise QueueError("transfer_invalid", "صف مقصد در این دفتر نیست.")
        ticket.queue_slug, ticket.assigned_counter_id = queue.slug, None
    else:
        raise QueueError("transfer_invalid", "صف یا باجه مقصد را انتخاب کنید.")
    ticket.status, ticket.counter_id, ticket.called_at = WAITING, None, None
    ticket.serving_started_at = None
    log(session, ticket, "transferred", user)
    if to_counter is not None:
        queue_messages.transferred(session, ticket, lobby.label(ticket), to_counter)


def serve_without_ticket(session: Session, lobby: Lobby, counter: Counter, service: str,
                         user: User, client_id: str) -> Ticket:
    """Someone served with no ticket still counts: a ticket is made and served at once."""
    issued = issue(session, lobby, TicketOrder(client_id=client_id, service=service,
                                               office=counter.office_slug),
                   user=user, enforce_hours=False)
    ticket = issued.ticket
    if issued.created:
        ticket.status, ticket.counter_id, ticket.called_by_id = SERVING, counter.id, user.id
        ticket.called_at = ticket.serving_started_at = lobby.now
        log(session, ticket, "served_directly", user)
    return ticket


# -- waiting, estimates and reports -----------------------------------------------------------


def ahead_of(session: Session, ticket: Ticket) -> int:
    """How many people are before this ticket in its queue (priority ones count first)."""
    if ticket.status != WAITING:
        return 0
    before = or_(Ticket.issued_at < ticket.issued_at,
                 and_(Ticket.issued_at == ticket.issued_at, Ticket.id < ticket.id))
    if ticket.priority is None:
        before = or_(before, Ticket.priority.is_not(None))
    else:
        before = and_(before, Ticket.priority.is_not(None))
    return session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.office_slug == ticket.office_slug, Ticket.queue_slug == ticket.queue_slug,
        Ticket.day == ticket.day, Ticket.status == WAITING, Ticket.id != ticket.id, before)) or 0


def average_service_seconds(session: Session, office: str, queue: str, since: date,
                             until: date) -> float | None:
    served, seconds = session.execute(
        select(func.coalesce(func.sum(QueueDay.served), 0),
               func.coalesce(func.sum(QueueDay.service_seconds), 0))
        .where(QueueDay.office_slug == office, QueueDay.queue_slug == queue,
               QueueDay.day >= since, QueueDay.day <= until)).one()
    return seconds / served if served >= MIN_SAMPLES else None


def _counters_for(session: Session, office: str, queue: str) -> int:
    counters = session.scalars(select(Counter).where(Counter.office_slug == office,
                                                     Counter.active.is_(True))).all()
    return max(1, sum(1 for c in counters if queue in c.queues))


def estimate(session: Session, lobby: Lobby, ticket: Ticket, ahead: int) -> Estimate:
    """Minutes to wait, from today's service times (recent days' when today has too few);
    a plain range when nothing has been measured."""
    if ticket.status != WAITING:
        return Estimate(0, None)
    average = average_service_seconds(session, ticket.office_slug, ticket.queue_slug,
                                       lobby.today, lobby.today)
    if average is None:
        average = average_service_seconds(session, ticket.office_slug, ticket.queue_slug,
                                           lobby.today - timedelta(days=HISTORY_DAYS),
                                           lobby.today - timedelta(days=1))
    counters = _counters_for(session, ticket.office_slug, ticket.queue_slug)
    people = ahead + 1
    if average is None:
        low, high = NO_HISTORY_RANGE
        return Estimate(None, (math.ceil(people * low / counters),
                               math.ceil(people * high / counters)))
    return Estimate(math.ceil(people * average / 60 / counters), None)


@dataclass(frozen=True)
class QueueFigures:
    """Today's measured times for a queue or a counter (seconds)."""

    served: int
    waiting_now: int
    average_wait: float | None
    average_service: float | None


def figures(session: Session, lobby: Lobby, office: str, *, queue: str | None = None,
            counter: int | None = None) -> QueueFigures:
    query = select(Ticket).where(Ticket.office_slug == office, Ticket.day == lobby.today)
    if queue:
        query = query.where(Ticket.queue_slug == queue)
    if counter:
        query = query.where(Ticket.counter_id == counter)
    tickets = session.scalars(query).all()
    waits = [(t.called_at - t.issued_at).total_seconds() for t in tickets if t.called_at]
    services = [(t.finished_at - t.serving_started_at).total_seconds() for t in tickets
                if t.status == DONE and t.finished_at and t.serving_started_at]
    return QueueFigures(
        served=sum(1 for t in tickets if t.status == DONE),
        waiting_now=sum(1 for t in tickets if t.status == WAITING),
        average_wait=sum(waits) / len(waits) if waits else None,
        average_service=sum(services) / len(services) if services else None)


def request_for(session: Session, ticket: Ticket) -> ServiceRequest | None:
    """The request filed before this ticket was taken (e.g. at the kiosk), if any."""
    if not ticket.tracking_code:
        return None
    return session.scalar(select(ServiceRequest)
                          .where(ServiceRequest.tracking_code == ticket.tracking_code))


# -- the lobby display ------------------------------------------------------------------------

RECENT_CALLS = 8


def board_version(session: Session, office: str) -> int:
    """Grows with every change in the office's lobby: boards redraw when it moves."""
    return session.scalar(select(func.max(TicketEvent.id))
                          .where(TicketEvent.office_slug == office)) or 0


def board(session: Session, lobby: Lobby, office: Office,
          version: int | None = None) -> dict[str, Any]:
    """What the lobby TV shows: who is being served where, the last calls, who waits;
    `version`, when the caller has just read it, saves asking again."""
    counters = {c.id: c for c in session.scalars(select(Counter).where(
        Counter.office_slug == office.slug))}
    queues = {q.slug: q for q in lobby.snapshot.catalog.queues_of(office)}

    def label(ticket: Ticket) -> str:
        queue = queues.get(ticket.queue_slug)
        return queue.ticket_label(ticket.number) if queue else str(ticket.number)

    serving = session.scalars(select(Ticket).where(
        Ticket.office_slug == office.slug, Ticket.day == lobby.today,
        Ticket.status.in_((CALLED, SERVING))).order_by(Ticket.called_at.desc())).all()
    calls = session.execute(select(TicketEvent, Ticket).join(
        Ticket, Ticket.id == TicketEvent.ticket_id).where(
        TicketEvent.office_slug == office.slug, TicketEvent.action.in_(("called", "recall")),
        Ticket.day == lobby.today).order_by(TicketEvent.id.desc()).limit(RECENT_CALLS)).all()
    waiting = dict(session.execute(select(Ticket.queue_slug, func.count()).where(
        Ticket.office_slug == office.slug, Ticket.day == lobby.today,
        Ticket.status == WAITING).group_by(Ticket.queue_slug)).all())
    return {
        "office": {"slug": office.slug, "name": office.name},
        "version": board_version(session, office.slug) if version is None else version,
        "serving": [{"ticket": label(t), "counter": to_persian_digits(counters[t.counter_id].number),
                     "counter_name": counters[t.counter_id].name, "status": t.status}
                    for t in serving if t.counter_id in counters],
        "calls": [{"id": e.id, "ticket": label(t),
                   "counter": to_persian_digits(counters[e.counter_id].number)
                   if e.counter_id in counters else "", "recall": e.action == "recall"}
                  for e, t in calls],
        "waiting": [{"queue": q.title, "prefix": q.prefix_fa,
                     "count": waiting.get(q.slug, 0),
                     "count_fa": to_persian_digits(waiting.get(q.slug, 0))}
                    for q in queues.values()],
    }
