"""The walk-in queue under load, under gunicorn, on SQLite and PostgreSQL (issue: the walk-in
queue). Prints a table and appends its rows to var/bench/results.jsonl.

1. Ticket issuing: `POST /api/v1/tickets` as a kiosk (wrk) at 1, 8 and 32 connections;
   afterwards the database is checked for duplicate numbers.
2. Call-next: 20 counters (20 threads, each logged in to the desk as in a browser) press
   «نفر بعدی» and finish the ticket, again and again; the latency of «نفر بعدی» is measured.
3. Display fan-out: 50 display boards hold `/display/<office>/events` open; one counter calls;
   the time until every board has the call is measured.

    .venv/bin/python bench/queue_bench.py --database sqlite --database postgresql

Bounded loads on 127.0.0.1 only. wrk and the client threads share the 2 cores with the server.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from track_bench import Server, ServerConfig  # noqa: E402

OFFICE = "isfahan-hq"
COUNTERS = 20
BOARDS = 50
PASSWORD = "bench-password-1405"
LUA = common.BENCH_DIR / "tickets.lua"
URLS = {"sqlite": f"sqlite:///{common.VAR_DIR / 'queue.sqlite3'}",
        "postgresql": "postgresql://postgres@127.0.0.1:5432/miz_queue_bench"}
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def prepare(url: str) -> str:
    """A fresh database with the demo catalog, a kiosk, 20 counters and a supervisor;
    returns the kiosk's token."""
    from counter_server import create_app, migrate
    from counter_server.context import database
    from counter_server.usecases import kiosks, lobby_admin, staff
    from counter_server.usecases.catalog_versions import import_catalog
    from shared.catalog.loader import load_catalog

    _fresh(url)
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(common.VAR_DIR / "instance")})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            catalog = load_catalog(common.APP_ROOT / "assets" / "catalog")
            import_catalog(session, catalog, source="queue bench")
            queues = [q.slug for q in catalog.queues]
            for number in range(1, COUNTERS + 1):
                lobby_admin.add_counter(session, OFFICE, number, None, queues)
            staff.create_user(session, "bench", "Bench", staff.Role.supervisor, PASSWORD)
            token = kiosks.register_kiosk(session, "bench kiosk", OFFICE).token
        database().dispose()
    return token


def _fresh(url: str) -> None:
    if url.startswith("sqlite"):
        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        for suffix in ("", "-wal", "-shm"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = url.rsplit("/", 1)[1]
    assert name not in common.PROTECTED_DATABASES, name
    admin = create_engine("postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def issue_tickets(base: str, token: str, connections: int, seconds: int) -> dict[str, Any]:
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", str(LUA), base, "--", token, "tour-guide-card"]
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    line = next(ln for ln in done.stdout.splitlines() if ln.startswith("MIZ_RESULT "))
    result = json.loads(line.removeprefix("MIZ_RESULT "))
    return {"rps": result["requests"] / (result["duration_us"] / 1e6),
            "p50_ms": result["p50_us"] / 1000, "p99_ms": result["p99_us"] / 1000,
            "errors": result["status_errors"] + result["other_errors"],
            "requests": result["requests"]}


def duplicates(url: str) -> tuple[int, int]:
    """(tickets, duplicate numbers) in the database."""
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://"))
    with engine.connect() as connection:
        count = connection.execute(text("SELECT count(*) FROM tickets")).scalar_one()
        doubled = connection.execute(text(
            "SELECT count(*) FROM (SELECT office_slug, queue_slug, day, number FROM tickets "
            "GROUP BY office_slug, queue_slug, day, number HAVING count(*) > 1) AS d")
        ).scalar_one()
    engine.dispose()
    return count, doubled


def desk_session(base: str) -> tuple[requests.Session, str]:
    client = requests.Session()
    token = CSRF.search(client.get(f"{base}/desk/login").text).group(1)
    client.post(f"{base}/desk/login", data={"username": "bench", "password": PASSWORD,
                                            "csrf_token": token}, allow_redirects=False)
    page = client.get(f"{base}/desk/counter").text
    return client, CSRF.search(page).group(1)


def current_ticket_id(url: str, counter: int) -> int | None:
    engine = _engines.setdefault(url, create_engine(
        url.replace("postgresql://", "postgresql+psycopg://")))
    with engine.connect() as connection:
        return connection.execute(text(
            "SELECT id FROM tickets WHERE counter_id = :c AND status IN ('called', 'serving')"),
            {"c": counter}).scalar()


_engines: dict[str, Any] = {}


def call_next_load(base: str, url: str, calls_each: int) -> dict[str, Any]:
    """20 counters call and finish, `calls_each` times each; «نفر بعدی» latencies."""
    latencies: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(COUNTERS)

    def counter_loop(counter: int) -> None:
        client, token = desk_session(base)
        barrier.wait()
        for _ in range(calls_each):
            start = time.perf_counter()
            client.post(f"{base}/desk/counter/{counter}/next", data={"csrf_token": token},
                        allow_redirects=False)
            elapsed = time.perf_counter() - start
            with lock:
                latencies.append(elapsed)
            ticket = current_ticket_id(url, counter)
            if ticket is not None:
                client.post(f"{base}/desk/counter/{counter}/tickets/{ticket}/finish",
                            data={"csrf_token": token}, allow_redirects=False)

    threads = [threading.Thread(target=counter_loop, args=(n,)) for n in range(1, COUNTERS + 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    ordered = sorted(latencies)
    return {"calls": len(ordered), "p50_ms": 1000 * statistics.median(ordered),
            "p99_ms": 1000 * ordered[int(0.99 * (len(ordered) - 1))]}


def display_fanout(base: str) -> dict[str, Any]:
    """50 boards listen; one call is made; how long until all 50 show it."""
    ready = threading.Barrier(BOARDS + 1)
    arrivals: list[float] = []
    lock = threading.Lock()
    def board() -> None:
        with requests.get(f"{base}/display/{OFFICE}/events", stream=True, timeout=30) as stream:
            baseline = None
            for line in stream.iter_lines(decode_unicode=True):
                if not line or not line.startswith("data:"):
                    continue
                calls = json.loads(line.removeprefix("data:")).get("calls") or []
                newest = calls[0]["id"] if calls else 0
                if baseline is None:
                    baseline = newest
                    ready.wait()
                elif newest > baseline:
                    with lock:
                        arrivals.append(time.perf_counter())
                    return

    threads = [threading.Thread(target=board, daemon=True) for _ in range(BOARDS)]
    for thread in threads:
        thread.start()
    client, token = desk_session(base)
    ready.wait(timeout=60)
    start = time.perf_counter()
    client.post(f"{base}/desk/counter/1/next", data={"csrf_token": token},
                allow_redirects=False)
    for thread in threads:
        thread.join(timeout=10)
    delays = sorted(t - start for t in arrivals)
    return {"boards": BOARDS, "reached": len(delays),
            "p50_ms": 1000 * statistics.median(delays) if delays else None,
            "max_ms": 1000 * delays[-1] if delays else None}


def run(database: str, seconds: int) -> list[dict[str, Any]]:
    url = URLS[database]
    token = prepare(url)
    os.environ.update(MIZ_ENFORCE_QUEUE_HOURS="false", MIZ_SESSION_COOKIE_SECURE="false")
    rows = []
    server = Server(url, ServerConfig("gthread", 2, 40), common.VAR_DIR / "queue-gunicorn.log",
                    "counter_server:create_app()")
    server.start()
    try:
        for connections in (1, 8, 32):
            result = issue_tickets(server.base, token, connections, seconds)
            rows.append({"database": database, "measure": f"POST /api/v1/tickets c={connections}",
                         **result})
        count, doubled = duplicates(url)
        rows.append({"database": database, "measure": "tickets stored / duplicate numbers",
                     "tickets": count, "duplicates": doubled})
        rows.append({"database": database, "measure": "call-next, 20 counters",
                     **call_next_load(server.base, url, calls_each=25)})
        rows.append({"database": database, "measure": "a call reaches 50 display boards",
                     **display_fanout(server.base)})
    finally:
        server.stop()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", action="append", choices=sorted(URLS))
    parser.add_argument("--seconds", type=int, default=10)
    args = parser.parse_args()
    results = []
    for database in args.database or ["sqlite", "postgresql"]:
        results += run(database, args.seconds)
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    with (common.VAR_DIR / "results.jsonl").open("a") as log:
        for row in results:
            log.write(json.dumps({"at": stamp, "bench": "queue", "app": common.app_version(),
                                  **row}, ensure_ascii=False) + "\n")
    for row in results:
        figures = ", ".join(f"{k}={v:.1f}" if isinstance(v, float) else f"{k}={v}"
                            for k, v in row.items() if k not in ("database", "measure"))
        print(f"{row['database']:<10} {row['measure']:<40} {figures}")


if __name__ == "__main__":
    main()
