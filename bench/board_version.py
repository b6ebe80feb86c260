"""The board version across nodes: today's polling against PostgreSQL's LISTEN/NOTIFY.

Every stream process runs one watcher (`counter_server/lobby_events.py`) that asks the shared
database, every `BOARD_POLL_SECONDS`, for the newest `ticket_events` id of each watched office:
a change made by any node is seen by every node. This measures, on PostgreSQL, what that costs
and how soon a change is seen, against a listener woken by `NOTIFY` sent in the transaction
that changes the board:

- from a ticket's commit to the watcher knowing (polling at 0.3 s; NOTIFY), and
- the poll query's time (the watcher's only steady load on the database) as the lobby log
  grows, the grouped `max` the watcher first used against today's `max` per office.

    .venv/bin/python bench/board_version.py postgresql://postgres@127.0.0.1:5432/miz_board
        [--tickets 5000] [--changes 40]

The database is wiped (never one of `common.PROTECTED_DATABASES`).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.orm import Session

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import PROTECTED_DATABASES  # noqa: E402  (and the app measured on sys.path)
from counter_server import create_app, migrate  # noqa: E402
from counter_server.clock import now  # noqa: E402
from counter_server.config import DEMO_CATALOG  # noqa: E402
from counter_server.context import database  # noqa: E402
from counter_server.db import normalize_url  # noqa: E402
from counter_server.lobby_events import office_versions  # noqa: E402
from counter_server.models import TicketEvent  # noqa: E402
from counter_server.usecases import walk_in_queue  # noqa: E402
from counter_server.usecases.catalog_versions import current_snapshot, import_catalog  # noqa: E402
from counter_server.usecases.walk_in_queue import Lobby, TicketOrder  # noqa: E402
from shared.catalog.loader import load_catalog  # noqa: E402

CHANNEL = "miz_board"
# A walk-in service of each of two demo offices.
SERVICES = {"isfahan-hq": "tour-guide-card", "kashan": "handicraft-artisan-id-card"}
OFFICES = tuple(SERVICES)
POLL_SECONDS = 0.3


def fresh_app(url: str):  # noqa: ANN201 (a Flask app)
    engine = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="miz-board-")})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, load_catalog(DEMO_CATALOG), source="bench")
    return app


def issue(app, office: str, notify: bool = False) -> float:  # noqa: ANN001
    """Issue a ticket at `office` (and NOTIFY in its transaction); when its commit began."""
    with app.app_context(), database().transaction() as db:
        rules = Lobby(current_snapshot(db), now())
        walk_in_queue.issue(db, rules, TicketOrder(client_id=str(uuid.uuid4()),
                                                   service=SERVICES[office], office=office),
                            enforce_hours=False)
        if notify:
            db.execute(text("SELECT pg_notify(:channel, :office)"),
                       {"channel": CHANNEL, "office": office})
        committing = time.perf_counter()
    return committing


def grouped_versions(db: Session, offices: set[str]) -> dict[str, int]:
    """The watcher's query before this benchmark: a grouped `max` over the offices' events."""
    rows = db.execute(select(TicketEvent.office_slug, func.max(TicketEvent.id))
                      .where(TicketEvent.office_slug.in_(offices))
                      .group_by(TicketEvent.office_slug)).all()
    return {office: version or 0 for office, version in rows}


def grow_log(app, events: int) -> int:  # noqa: ANN001
    """Copy the lobby log onto itself until it holds `events` rows (months of calls)."""
    with app.app_context(), database().transaction() as db:
        while (count := db.scalar(select(func.count()).select_from(TicketEvent)) or 0) < events:
            db.execute(text("INSERT INTO ticket_events (office_slug, ticket_id, action, at) "
                            "SELECT office_slug, ticket_id, action, at FROM ticket_events"))
        db.execute(text("ANALYZE ticket_events"))
        return count


def poll_cost(app, offices: set[str], query: Callable[[Session, set[str]], dict[str, int]],  # noqa: ANN001
              rounds: int = 500) -> float:
    """Milliseconds per version query, in one session."""
    with app.app_context(), database().session() as db:
        expected = query(db, offices)
        start = time.perf_counter()
        for _ in range(rounds):
            assert query(db, offices) == expected
            db.rollback()
        return (time.perf_counter() - start) * 1000 / rounds


def polling_delays(app, office: str, changes: int) -> list[float]:  # noqa: ANN001
    """Seconds from a commit to a poller (every POLL_SECONDS, as the watcher) seeing it."""
    seen: list[float] = []
    with app.app_context():
        for _ in range(changes):
            with database().session() as db:
                before = office_versions(db, {office}).get(office, 0)
            time.sleep(POLL_SECONDS * (0.2 + 0.6 * (len(seen) % 5) / 4))  # any phase
            phase = time.perf_counter()
            committed = issue(app, office)
            next_poll = phase + POLL_SECONDS - (phase % POLL_SECONDS)
            while True:
                time.sleep(max(0.0, next_poll - time.perf_counter()))
                with database().session() as db:
                    if office_versions(db, {office}).get(office, 0) != before:
                        seen.append(time.perf_counter() - committed)
                        break
                next_poll += POLL_SECONDS
    return seen


def notify_delays(app, url: str, office: str, changes: int) -> list[float]:  # noqa: ANN001
    """Seconds from a commit (that NOTIFYs) to a LISTENing connection being woken."""
    listener = psycopg.connect(url, autocommit=True)
    listener.execute(f"LISTEN {CHANNEL}")
    woken: list[float] = []
    ready = threading.Event()

    def listen() -> None:
        ready.set()
        for _ in listener.notifies(stop_after=changes):
            woken.append(time.perf_counter())

    thread = threading.Thread(target=listen)
    thread.start()
    ready.wait()
    committed = []
    for _ in range(changes):
        committed.append(issue(app, office, notify=True))
        time.sleep(0.05)
    thread.join(30)
    listener.close()
    return [w - c for w, c in zip(woken, committed, strict=True)]


def summary(label: str, delays: list[float]) -> str:
    ms = sorted(d * 1000 for d in delays)
    return (f"{label}: median {statistics.median(ms):.1f} ms, "
            f"p90 {ms[int(len(ms) * 0.9) - 1]:.1f} ms, max {ms[-1]:.1f} ms ({len(ms)} changes)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--tickets", type=int, default=5000)
    parser.add_argument("--changes", type=int, default=40)
    parser.add_argument("--events", type=int, nargs="*", default=[100_000, 1_000_000],
                        help="lobby log sizes to time the poll query at, after the tickets")
    args = parser.parse_args()
    if args.url.rsplit("/", 1)[-1] in PROTECTED_DATABASES:
        parser.error("that database is protected")
    app = fresh_app(args.url)
    offices, office = set(OFFICES), OFFICES[0]
    for n in range(args.tickets):
        issue(app, OFFICES[n % len(OFFICES)])
    print(f"{args.tickets} tickets over {len(offices)} offices")
    print(summary(f"polling every {POLL_SECONDS} s", polling_delays(app, office, args.changes)))
    print(summary("LISTEN/NOTIFY", notify_delays(app, args.url, office, args.changes)))
    for events in [0, *args.events]:
        count = grow_log(app, events)
        for label, query in (("grouped max", grouped_versions), ("max per office", office_versions)):
            cost = poll_cost(app, offices, query)
            print(f"{count} events, {label}: {cost:.3f} ms a poll (round trip), "
                  f"{cost / POLL_SECONDS:.1f} ms a second per stream process")


if __name__ == "__main__":
    main()
