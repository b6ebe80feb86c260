"""Live lobby pages: one board watcher per server process, feeding every open stream.

The lobby TV (`/display/<office>`) and a citizen's ticket page (`/q/<ticket>`) stay open for
hours. Holding a database session per viewer would drain the pool, and an in-memory event bus
would not reach the other server processes. Instead each process runs one daemon thread,
started with its first viewer, that every `BOARD_POLL_SECONDS` asks the shared database one
small grouped question — the newest `ticket_events` id of each watched office — in a session
opened for that query alone. When an office's number moves (any call, recall, issue or
transfer, made by any process) the thread rebuilds that office's board and its watched tickets
once, in one short session, and wakes the viewers through a `threading.Condition`. Viewers
never touch the database.
"""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.clock import now
from counter_server.db import Database
from counter_server.models import Counter, Ticket, TicketEvent
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby
from shared.text import to_persian_digits

log = logging.getLogger(__name__)

BOARD, TICKET = "board", "ticket"
REFRESH_SECONDS = 30.0  # rebuild anyway: a new day, a renamed counter, a new catalog
IDLE_SECONDS = 30.0  # the thread ends after this long with no viewers
EXTENSION = "miz.lobby_watcher"
_create_lock = threading.Lock()


class WatcherStopped(Exception):
    """The watcher was stopped (the app is shutting down): streams end."""


@dataclass(eq=False)
class Feed:
    """What a group of viewers follows: one office's board, or one ticket's state."""

    kind: str
    key: str
    office: str
    viewers: int = 0
    version: int | None = None  # the office's event id the payload was built at
    built_at: float = 0.0
    payload: str | None = None  # JSON text, as sent
    generation: int = 0  # grows whenever `payload` changes


# -- what the viewers are sent ------------------------------------------------------------------


def estimate_text(guess: walk_in_queue.Estimate) -> str:
    """«حدود ۱۲ دقیقه» from measured times, «۳ تا ۱۰ دقیقه» when nothing is measured yet."""
    if guess.minutes:
        return f"حدود {to_persian_digits(guess.minutes)} دقیقه"
    if guess.range:
        low, high = guess.range
        return f"{to_persian_digits(low)} تا {to_persian_digits(high)} دقیقه"
    return ""


def _status_message(status: str, counter: str) -> str:
    messages = {
        walk_in_queue.WAITING: "لطفاً در سالن انتظار بمانید؛ شماره شما روی نمایشگر و با صدا اعلام می‌شود.",
        walk_in_queue.CALLED: f"نوبت شما رسید؛ لطفاً به باجه {counter} بروید.",
        walk_in_queue.SERVING: f"در حال دریافت خدمت در باجه {counter}.",
        walk_in_queue.DONE: "خدمت شما انجام شد. از شکیبایی شما سپاسگزاریم.",
        walk_in_queue.NO_SHOW: "شماره شما فراخوانده شد ولی حاضر نبودید؛ لطفاً به پذیرش مراجعه کنید.",
        walk_in_queue.CLOSED: "این نوبت با پایان روز کاری بسته شد.",
    }
    return messages[status]


def ticket_view(db: Session, rules: Lobby, ticket: Ticket) -> dict[str, Any]:
    """A ticket's place in line, in the words and digits its page shows."""
    spec = rules.queue(ticket.queue_slug)
    ahead = walk_in_queue.ahead_of(db, ticket)
    counter = db.get(Counter, ticket.counter_id) if ticket.counter_id else None
    counter_number = to_persian_digits(counter.number) if counter else ""
    return {
        "id": ticket.public_id, "number": spec.ticket_label(ticket.number),
        "queue": spec.title, "status": ticket.status,
        "status_label": walk_in_queue.STATUS_LABELS[ticket.status],
        "ahead": ahead, "ahead_fa": to_persian_digits(ahead),
        "estimate": estimate_text(walk_in_queue.estimate(db, rules, ticket, ahead)),
        "counter": counter_number, "counter_name": counter.name if counter else "",
        "message": _status_message(ticket.status, counter_number),
    }


def _build(db: Session, rules: Lobby, feed: Feed) -> dict[str, Any] | None:
    if feed.kind == BOARD:
        return walk_in_queue.board(db, rules, rules.office(feed.office))
    ticket = db.scalar(select(Ticket).where(Ticket.public_id == feed.key))
    return ticket_view(db, rules, ticket) if ticket is not None else None


def office_versions(db: Session, offices: set[str]) -> dict[str, int]:
    """The newest lobby event of each office, in one grouped query."""
    rows = db.execute(select(TicketEvent.office_slug, func.max(TicketEvent.id))
                      .where(TicketEvent.office_slug.in_(offices))
                      .group_by(TicketEvent.office_slug)).all()
    return {office: version or 0 for office, version in rows}


# -- the watcher --------------------------------------------------------------------------------


class BoardWatcher:
    """One polling thread for one app in one process, and the feeds its viewers follow."""

    def __init__(self, app: Flask):
        self.app = app
        self.database: Database = app.extensions["miz.db"]
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._feeds: dict[tuple[str, str], Feed] = {}
        self._thread: threading.Thread | None = None
        self._stopped = False
        self.thread_name = f"miz-board-watcher-{id(self):x}"

    @property
    def poll_seconds(self) -> float:
        return float(self.app.config["BOARD_POLL_SECONDS"])

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def viewer_count(self) -> int:
        with self._changed:
            return sum(feed.viewers for feed in self._feeds.values())

    # viewers' side

    def subscribe(self, kind: str, key: str, office: str) -> Feed:
        """Follow a feed; starts the thread when it is the process's first viewer."""
        with self._changed:
            feed = self._feeds.setdefault((kind, key), Feed(kind, key, office))
            feed.viewers += 1
            self._stopped = False
            if not self.running:
                self._thread = threading.Thread(target=self._run, name=self.thread_name,
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        return feed

    def unsubscribe(self, feed: Feed) -> None:
        with self._changed:
            feed.viewers -= 1
            if feed.viewers <= 0:
                self._feeds.pop((feed.kind, feed.key), None)

    def wait(self, feed: Feed, seen: int, timeout: float) -> tuple[str | None, int]:
        """The feed's payload once its generation passes `seen`; (None, seen) on timeout."""
        with self._changed:
            self._changed.wait_for(lambda: feed.generation != seen or self._stopped, timeout)
            if self._stopped:
                raise WatcherStopped()
            if feed.generation == seen or feed.payload is None:
                return None, seen
            return feed.payload, feed.generation

    def stop(self, timeout: float = 5.0) -> None:
        """End the thread and every stream waiting on it."""
        with self._changed:
            self._stopped = True
            self._changed.notify_all()
            thread = self._thread
        self._wake.set()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    # the thread's side

    def _run(self) -> None:
        idle_since: float | None = None
        while True:
            self._wake.wait(self.poll_seconds)
            self._wake.clear()
            with self._changed:
                feeds = list(self._feeds.values())
                idle_since = None if feeds else (idle_since or time.monotonic())
                if self._stopped or (idle_since and time.monotonic() - idle_since > IDLE_SECONDS):
                    self._thread = None
                    return
            if feeds:
                self._tick_safely(feeds)

    def _tick_safely(self, feeds: list[Feed]) -> None:
        try:
            self.tick(feeds)
        except Exception:  # a database hiccup must not end the live pages
            log.exception("board watcher: poll failed; retrying")
            time.sleep(min(5.0, self.poll_seconds * 10))

    def tick(self, feeds: list[Feed]) -> None:
        """Poll once; rebuild and announce the feeds whose office moved."""
        versions = self._poll({f.office for f in feeds})
        due = time.monotonic() - REFRESH_SECONDS
        stale = [f for f in feeds
                 if f.version != versions.get(f.office, 0) or f.built_at < due]
        if stale:
            self._publish(self._rebuild(stale, versions))

    def _poll(self, offices: set[str]) -> dict[str, int]:
        with self.database.session() as db:
            return office_versions(db, offices)

    def _rebuild(self, stale: list[Feed], versions: dict[str, int]
                 ) -> list[tuple[Feed, int, str | None]]:
        built = []
        with self.app.app_context(), self.database.session() as db:
            rules = Lobby(current_snapshot(db), now())
            for feed in stale:
                try:
                    body = _build(db, rules, feed)
                except walk_in_queue.QueueError:  # the office or queue left the catalog
                    body = None
                text = json.dumps(body, ensure_ascii=False) if body is not None else None
                built.append((feed, versions.get(feed.office, 0), text))
        return built

    def _publish(self, built: list[tuple[Feed, int, str | None]]) -> None:
        stamp = time.monotonic()
        with self._changed:
            for feed, version, text in built:
                feed.version, feed.built_at = version, stamp
                if text is not None and text != feed.payload:
                    feed.payload = text
                    feed.generation += 1
            self._changed.notify_all()


def watcher_for(app: Flask) -> BoardWatcher:
    """This process's watcher for `app`, made on first use."""
    with _create_lock:
        watcher = app.extensions.get(EXTENSION)
        if watcher is None:
            watcher = app.extensions[EXTENSION] = BoardWatcher(app)
        return watcher


# -- server-sent events ------------------------------------------------------------------------


def sse(event: str, data: str, event_id: int | None = None) -> str:
    """One server-sent event (`data` is one line of JSON)."""
    head = f"id: {event_id}\n" if event_id is not None else ""
    return f"{head}event: {event}\ndata: {data}\n\n"


def stream(watcher: BoardWatcher, kind: str, key: str, office: str, heartbeat: float,
           retry_ms: int = 3000) -> Iterator[str]:
    """The events of one viewer: the current state at once, then each change, and a `ping`
    event every `heartbeat` seconds, so that a viewer who went away is noticed here and a
    stalled connection is noticed by the page."""
    feed = watcher.subscribe(kind, key, office)
    prefix = f"retry: {retry_ms}\n"
    seen = 0
    try:
        while True:
            try:
                payload, seen = watcher.wait(feed, seen, heartbeat)
            except WatcherStopped:
                return
            if payload is None:
                yield prefix + "event: ping\ndata: {}\n\n"
            else:
                yield prefix + sse(kind, payload, seen)
            prefix = ""
    finally:
        watcher.unsubscribe(feed)


def open_stream(app: Flask, kind: str, key: str, office: str) -> Iterator[str]:
    """The viewer's stream on `app`'s watcher; it subscribes when first read, so it needs no
    app context and holds no database session."""
    heartbeat = float(app.config["BOARD_HEARTBEAT_SECONDS"])
    return stream(watcher_for(app), kind, key, office, heartbeat)
