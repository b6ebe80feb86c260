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

A stream holds a connection (and, under a threaded server, a thread) for as long as it is open,
so a process serves at most `StreamLimits` of them — so many boards, so many per office, so
many ticket pages, so many per ticket (phones are counted by ticket: many share one address) —
and refuses the next with `StreamRefused`. Each stream ends after `STREAM_MAX_SECONDS` (less a
random part, so that viewers connected together do not all come back together) with a
`reconnect` event, and the page connects afresh.
"""

from __future__ import annotations

import json
import logging
import random
import threading
import time
from collections.abc import Iterator, Mapping
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
LIFETIME_JITTER = 0.2  # a stream lives between 80 % and 100 % of STREAM_MAX_SECONDS
EXTENSION = "miz.lobby_watcher"
_create_lock = threading.Lock()


class WatcherStopped(Exception):
    """The watcher was stopped (the app is shutting down): streams end."""


class StreamRefused(Exception):
    """This process already serves as many streams as its limits allow: of all (`code`
    "streams_full"), or of this board or this ticket ("board_streams_full",
    "ticket_streams_full")."""

    MESSAGES = {
        "streams_full": "سامانه اکنون شلوغ است و صفحه زنده بیشتری نمی‌پذیرد؛ "
                        "این صفحه کمی بعد خودش دوباره وصل می‌شود.",
        "board_streams_full": "این تابلوی سالن در نمایشگرهای زیادی باز است؛ "
                              "این صفحه کمی بعد خودش دوباره وصل می‌شود.",
        "ticket_streams_full": "این نوبت در صفحه‌های زیادی باز است؛ صفحه‌های اضافه را "
                               "ببندید. این صفحه کمی بعد خودش دوباره وصل می‌شود.",
    }

    def __init__(self, code: str):
        super().__init__(code)
        self.code, self.message = code, self.MESSAGES[code]


@dataclass(frozen=True)
class StreamLimits:
    """How many streams one process serves: of each kind (`total`), and of one board or one
    ticket (`each`)."""

    total: Mapping[str, int]
    each: Mapping[str, int]

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> StreamLimits:
        return cls(total={BOARD: int(config["STREAM_BOARDS_MAX"]),
                          TICKET: int(config["STREAM_TICKETS_MAX"])},
                   each={BOARD: int(config["STREAM_BOARDS_PER_OFFICE"]),
                         TICKET: int(config["STREAM_PER_TICKET"])})


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


@dataclass(eq=False)
class Viewer:
    """One open stream's place in a feed; it leaves once, however often it is closed."""

    feed: Feed
    active: bool = True


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
    """The newest lobby event of each office, in one query: a `max` per office, which reads
    one entry of the (office, id) index however long the log grows (a grouped `max` over
    the offices reads every event they ever had; `bench/board_version.py`)."""
    ordered = sorted(offices)
    if not ordered:
        return {}
    newest = [select(func.max(TicketEvent.id)).where(TicketEvent.office_slug == office)
              .scalar_subquery() for office in ordered]
    row = db.execute(select(*newest)).one()
    return {office: version for office, version in zip(ordered, row, strict=True)
            if version is not None}


# -- the watcher --------------------------------------------------------------------------------


class BoardWatcher:
    """One polling thread for one app in one process, and the feeds its viewers follow."""

    def __init__(self, app: Flask):
        self.app = app
        self.database: Database = app.extensions["miz.db"]
        self._changed = threading.Condition()
        self._wake = threading.Event()
        self._feeds: dict[tuple[str, str], Feed] = {}
        self._totals: dict[str, int] = {BOARD: 0, TICKET: 0}
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

    def subscribe(self, kind: str, key: str, office: str,
                  limits: StreamLimits | None = None) -> Viewer:
        """Follow a feed; starts the thread when it is the process's first viewer. Raises
        `StreamRefused` when `limits` allow no more streams of this kind or of this feed."""
        with self._changed:
            if limits is not None:
                self._check(kind, key, limits)
            feed = self._feeds.setdefault((kind, key), Feed(kind, key, office))
            feed.viewers += 1
            self._totals[kind] += 1
            self._stopped = False
            if not self.running:
                self._thread = threading.Thread(target=self._run, name=self.thread_name,
                                                daemon=True)
                self._thread.start()
        self._wake.set()
        return Viewer(feed)

    def _check(self, kind: str, key: str, limits: StreamLimits) -> None:
        feed = self._feeds.get((kind, key))
        if (feed.viewers if feed is not None else 0) >= limits.each[kind]:
            raise StreamRefused(f"{kind}_streams_full")
        if self._totals[kind] >= limits.total[kind]:
            raise StreamRefused("streams_full")

    def unsubscribe(self, viewer: Viewer) -> None:
        with self._changed:
            if not viewer.active:
                return
            viewer.active = False
            feed = viewer.feed
            feed.viewers -= 1
            self._totals[feed.kind] -= 1
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


RECONNECT_EVENT = "event: reconnect\ndata: {}\n\n"


class LiveStream:
    """The events of one viewer: the current state at once, then each change, a `ping`
    event every `heartbeat` seconds (so that a viewer who went away is noticed here and a
    stalled connection is noticed by the page), and after `lifetime` seconds a `reconnect`
    event, which ends it. Closing it, read or not, gives its place back."""

    def __init__(self, watcher: BoardWatcher, viewer: Viewer, heartbeat: float,
                 lifetime: float, retry_ms: int = 3000):
        self.watcher, self.viewer = watcher, viewer
        self._events = self._run(heartbeat, lifetime, retry_ms)

    def __iter__(self) -> LiveStream:
        return self

    def __next__(self) -> str:
        return next(self._events)

    def close(self) -> None:
        self._events.close()
        self.watcher.unsubscribe(self.viewer)

    def _run(self, heartbeat: float, lifetime: float, retry_ms: int) -> Iterator[str]:
        ends = time.monotonic() + lifetime
        prefix = f"retry: {retry_ms}\n"
        seen = 0
        try:
            while (left := ends - time.monotonic()) > 0:
                try:
                    payload, seen = self.watcher.wait(self.viewer.feed, seen,
                                                      min(heartbeat, left))
                except WatcherStopped:
                    return
                if payload is not None:
                    yield prefix + sse(self.viewer.feed.kind, payload, seen)
                elif time.monotonic() < ends:
                    yield prefix + "event: ping\ndata: {}\n\n"
                else:
                    break
                prefix = ""
            yield prefix + RECONNECT_EVENT
        finally:
            self.watcher.unsubscribe(self.viewer)


def open_stream(app: Flask, kind: str, key: str, office: str) -> LiveStream:
    """A viewer's stream on `app`'s watcher, within the app's `StreamLimits` (else
    `StreamRefused`); it holds no database session and needs no app context once open."""
    config, watcher = app.config, watcher_for(app)
    viewer = watcher.subscribe(kind, key, office, StreamLimits.from_config(config))
    lifetime = float(config["STREAM_MAX_SECONDS"]) * (1 - LIFETIME_JITTER * random.random())
    return LiveStream(watcher, viewer, float(config["BOARD_HEARTBEAT_SECONDS"]), lifetime)
