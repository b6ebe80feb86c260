"""Each office's lobby as last read, kept per server process for the polled reads: the board
(its JSON and ETag), each queue's waiting line, service times and counters.

An office's view is rebuilt only when its board version (`walk_in_queue.board_version`, the
newest `ticket_events` id, moved by any call, issue or transfer in any process) moves, when
the day or the published catalog changes, or after `REFRESH_SECONDS` (a renamed counter moves
no version). The version itself is asked at most once every `max_age` seconds
(`LOBBY_CACHE_SECONDS`, 1 s by default), so a read is fresh within that and, in between, costs
no database round trip. Every change of a ticket of the day moves the version (each is logged
as a `ticket_events` row), so the view also answers a ticket's own state; a ticket it does not
hold (issued since, or of another day) is read from the database.
"""

from __future__ import annotations

import hashlib
import json
import math
import threading
import time
from bisect import bisect_left
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any

from sqlalchemy import Row, select
from sqlalchemy.orm import Session

from counter_server.models import Counter, Ticket
from counter_server.usecases import walk_in_queue
from counter_server.usecases.walk_in_queue import Estimate, Lobby
from shared.catalog.schema import Office

REFRESH_SECONDS = 30.0
EXTENSION = "miz.lobby_cache"  # the app's LobbyCache in `app.extensions`

LineKey = tuple[bool, datetime, int]  # (has no priority, issued at, id): the queue's order
TICKET_COLUMNS = (Ticket.id, Ticket.public_id, Ticket.office_slug, Ticket.queue_slug,
                  Ticket.service_slug, Ticket.day, Ticket.number, Ticket.priority, Ticket.status,
                  Ticket.issued_at, Ticket.counter_id)


@dataclass(frozen=True)
class OfficeView:
    """One office's lobby at one board version."""

    version: int
    day: date
    catalog: int
    board: bytes  # the board's JSON, as the API sends it
    etag: str
    lines: Mapping[str, tuple[LineKey, ...]]  # the waiting tickets of each queue, in line order
    averages: Mapping[str, float | None]  # average service seconds of each queue
    counters: Mapping[str, int]  # active counters serving each queue (at least 1)
    tickets: Mapping[str, Row[Any]]  # the day's tickets by public id (TICKET_COLUMNS)
    built_at: float
    # Each ticket's state as the API sends it, by public id, made on first read: everything
    # it says is fixed by this view (its version, day and catalog).
    states: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def ahead(self, ticket: Ticket | Row[Any]) -> int:
        """How many are before `ticket` in its queue (`walk_in_queue.ahead_of`'s order)."""
        if ticket.status != walk_in_queue.WAITING:
            return 0
        line = self.lines.get(ticket.queue_slug, ())
        return bisect_left(line, walk_in_queue.line_key(ticket))

    def estimate(self, ticket: Ticket | Row[Any], ahead: int) -> Estimate:
        """`walk_in_queue.estimate` from this view's service times and counters."""
        if ticket.status != walk_in_queue.WAITING:
            return Estimate(0, None)
        counters = self.counters.get(ticket.queue_slug, 1)
        average = self.averages.get(ticket.queue_slug)
        people = ahead + 1
        if average is None:
            low, high = walk_in_queue.NO_HISTORY_RANGE
            return Estimate(None, (math.ceil(people * low / counters),
                                   math.ceil(people * high / counters)))
        return Estimate(math.ceil(people * average / 60 / counters), None)


@dataclass
class _Entry:
    view: OfficeView
    checked_at: float


class LobbyCache:
    """The office views of one app in one process."""

    def __init__(self) -> None:
        self._entries: dict[str, _Entry] = {}
        self._refreshing: dict[str, threading.Lock] = {}  # one thread looks again per office
        self._lock = threading.Lock()

    def view(self, db: Session, rules: Lobby, office: Office, max_age: float) -> OfficeView:
        """The office's view, fresh within `max_age` seconds of any change (plus the time
        one rebuild takes: while one thread looks again, the others serve the last view)."""
        clock = time.monotonic()
        entry = self._entries.get(office.slug)
        if entry is not None and _current(entry.view, rules):
            if clock - entry.checked_at < max_age:
                return entry.view
            refresh = self._refreshing.setdefault(office.slug, threading.Lock())
            if not refresh.acquire(blocking=False):
                return entry.view
            try:
                return self._refresh(db, rules, office, entry, clock)
            finally:
                refresh.release()
        return self._store(office, build(db, rules, office,
                                         walk_in_queue.board_version(db, office.slug)), clock)

    def fresh(self, office: str, rules: Lobby, max_age: float) -> OfficeView | None:
        """The office's view if it was looked at within `max_age` seconds (and is of today
        and of the current catalog), without a database round trip; None: ask `view`."""
        entry = self._entries.get(office)
        if entry is None or not _current(entry.view, rules) \
                or time.monotonic() - entry.checked_at >= max_age:
            return None
        return entry.view

    def _refresh(self, db: Session, rules: Lobby, office: Office, entry: _Entry,
                 clock: float) -> OfficeView:
        version = walk_in_queue.board_version(db, office.slug)
        if version == entry.view.version and clock - entry.view.built_at < REFRESH_SECONDS:
            entry.checked_at = clock
            return entry.view
        return self._store(office, build(db, rules, office, version), clock)

    def _store(self, office: Office, view: OfficeView, clock: float) -> OfficeView:
        with self._lock:
            self._entries[office.slug] = _Entry(view, clock)
        return view

    def office_of(self, public_id: str) -> str | None:
        """The office whose cached view holds this ticket, if any (its view may be stale:
        ask `view` for it, then look again)."""
        return next((slug for slug, entry in list(self._entries.items())
                     if public_id in entry.view.tickets), None)


def _current(view: OfficeView, rules: Lobby) -> bool:
    return view.day == rules.today and view.catalog == rules.snapshot.version


def build(db: Session, rules: Lobby, office: Office, version: int) -> OfficeView:
    """Read the office's lobby; `version` was read first, so the view is never older."""
    body = json_body(walk_in_queue.board(db, rules, office, version=version))
    queues = [q.slug for q in rules.snapshot.catalog.queues_of(office)]
    tickets = db.execute(select(*TICKET_COLUMNS).where(Ticket.office_slug == office.slug,
                                                       Ticket.day == rules.today)).all()
    return OfficeView(
        version=version, day=rules.today, catalog=rules.snapshot.version, board=body,
        etag=f'"{hashlib.sha256(body).hexdigest()[:32]}"',
        lines=_lines(tickets), tickets={t.public_id: t for t in tickets},
        averages={q: _average(db, office.slug, q, rules.today) for q in queues},
        counters=_counters(db, office.slug, queues), built_at=time.monotonic())


def json_body(data: Any) -> bytes:
    """`data` as the lobby's reads send it: compact UTF-8 JSON."""
    return json.dumps(data, ensure_ascii=False, separators=(",", ":")).encode()


def _lines(tickets: list[Row[Any]]) -> dict[str, tuple[LineKey, ...]]:
    lines: dict[str, list[LineKey]] = {}
    for ticket in tickets:
        if ticket.status == walk_in_queue.WAITING:
            lines.setdefault(ticket.queue_slug, []).append(walk_in_queue.line_key(ticket))
    return {queue: tuple(sorted(keys)) for queue, keys in lines.items()}


def _average(db: Session, office: str, queue: str, today: date) -> float | None:
    """Today's average service time, or the recent days' when today has too few."""
    average = walk_in_queue.average_service_seconds(db, office, queue, today, today)
    if average is None:
        average = walk_in_queue.average_service_seconds(
            db, office, queue, today - timedelta(days=walk_in_queue.HISTORY_DAYS),
            today - timedelta(days=1))
    return average


def _counters(db: Session, office: str, queues: list[str]) -> dict[str, int]:
    rows = db.scalars(select(Counter.queues).where(Counter.office_slug == office,
                                                  Counter.active.is_(True))).all()
    return {q: max(1, sum(1 for served in rows if q in served)) for q in queues}

