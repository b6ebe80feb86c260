"""The hot paths of issue 15 against the ceiling, on one deployment, in one run: an office's
board (and its 304), one ticket's state, a request's tracking, and taking a ticket — beside
`ceiling_app`'s trivial endpoint (`/healthz`) and its one-query tracking read, served by the
same gunicorn settings on the same database.

    .venv/bin/python bench/seed_requests.py --recreate --count 100000 \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_speed
    .venv/bin/python bench/lobby_bench.py --database-url postgresql://postgres@127.0.0.1:5432/bench_speed

Miz runs with the README's production settings (`MIZ_ENV=production`, the Redis limiter at
`--redis`, `MIZ_PROXY_HOPS=1`, no streams in the API server). One address (wrk's) plays every
client here, so the per-address tracking limit and the per-kiosk limit are raised by
configuration (`MIZ_TRACK_RATE_LIMIT`, `MIZ_KIOSK_RATE_LIMIT`); they are still counted in Redis
on every call, as in production. Queue hours are not enforced (the run may be at night).

The office gets 20 counters, `--waiting` waiting tickets and a few calls before the load.
Every measure runs `--rounds` times, interleaved (round 1 of everything, then round 2), each
after waiting for a quiet machine; the load average at each run is kept. Rows go to
var/bench/lobby-results.jsonl; afterwards the tickets are checked for duplicate numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from queue_bench import COUNTERS, OFFICE, duplicates  # noqa: E402
from track_bench import (  # noqa: E402
    LUA,
    Server,
    ServerConfig,
    cpu_times,
    postgres_pids,
    served_ticks,
    wait_until_quiet,
)

TICKETS_LUA = common.BENCH_DIR / "tickets.lua"
RESULTS = common.VAR_DIR / "lobby-results.jsonl"
SERVICE = "tour-guide-card"
MEASURES = ("ceiling-healthz", "ceiling-track", "board", "board-304", "ticket", "track",
            "take-ticket")
PRODUCTION = {
    "MIZ_ENV": "production", "MIZ_PROXY_HOPS": "1",
    "MIZ_STREAM_BOARDS_MAX": "0", "MIZ_STREAM_TICKETS_MAX": "0",
    "MIZ_TRACK_RATE_LIMIT": "10000000 per minute", "MIZ_KIOSK_RATE_LIMIT": "10000000 per minute",
    "MIZ_ENFORCE_QUEUE_HOURS": "false",
}


def prepare(url: str, waiting: int) -> tuple[str, list[str]]:
    """Counters, waiting tickets and a few calls in the seeded database; (kiosk token,
    public ids of waiting tickets)."""
    from sqlalchemy import delete, select

    from counter_server import create_app
    from counter_server.clock import now
    from counter_server.context import database
    from counter_server.models import Counter, Lease, QueueDay, Ticket, TicketEvent, User
    from counter_server.usecases import lobby_admin, staff, walk_in_queue
    from counter_server.usecases.catalog_versions import current_snapshot
    from counter_server.usecases.walk_in_queue import Lobby, TicketOrder

    token = common.token_file(url).read_text().strip()
    app = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(common.VAR_DIR / "instance")})
    with app.app_context(), database().transaction() as session:
        for table in (TicketEvent, Lease, Ticket, QueueDay):
            session.execute(delete(table))
        rules = Lobby(current_snapshot(session), now())
        queues = [q.slug for q in rules.snapshot.catalog.queues]
        if session.scalar(select(Counter.id).where(Counter.office_slug == OFFICE)) is None:
            for number in range(1, COUNTERS + 1):
                lobby_admin.add_counter(session, OFFICE, number, None, queues)
        user = session.scalar(select(User).where(User.username == "lobby-bench")) or \
            staff.create_user(session, "lobby-bench", "Bench", staff.Role.supervisor,
                              "bench-password-1405")
        ids = [walk_in_queue.issue(session, rules, TicketOrder(
            client_id=str(uuid.uuid4()), service=SERVICE, office=OFFICE),
            enforce_hours=False).ticket.public_id for _ in range(waiting)]
        counters = session.scalars(select(Counter).where(Counter.office_slug == OFFICE)
                                   .order_by(Counter.number).limit(5)).all()
        called = set()
        for counter in counters:
            ticket = walk_in_queue.call_next(session, rules, counter, user)
            if ticket is not None:
                called.add(ticket.public_id)
    app.extensions["miz.db"].dispose()
    return token, [i for i in ids if i not in called]


def run_wrk(base: str, args: list[str], lua: Path, connections: int, seconds: int,
            master: int, url: str) -> dict[str, Any]:
    """One wrk run: its result, the server's CPU per request and the machine's state."""
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", str(lua), base, "--", *args]
    pg = postgres_pids(url)
    load = os.getloadavg()[0]
    busy0, total0 = cpu_times()
    served0 = served_ticks(master, pg)
    children0 = resource.getrusage(resource.RUSAGE_CHILDREN)
    done = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60)
    busy1, total1 = cpu_times()
    served1 = served_ticks(master, pg)
    children1 = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in done.stdout.splitlines() if ln.startswith("MIZ_RESULT ")), None)
    if line is None:
        raise SystemExit(f"wrk failed: {done.stderr}{done.stdout}")
    result = json.loads(line.removeprefix("MIZ_RESULT "))
    wall = result["duration_us"] / 1e6
    cores = os.cpu_count() or 1
    ticks = os.sysconf("SC_CLK_TCK")
    server_s = (served1[0] - served0[0] + served1[1] - served0[1]) / ticks
    wrk_s = (children1.ru_utime - children0.ru_utime) + (children1.ru_stime - children0.ru_stime)
    busy = (busy1 - busy0) / max(1, total1 - total0)
    errors = sum(result.get(k, 0) for k in ("connect_errors", "read_errors", "write_errors",
                                            "status_errors", "timeouts", "other_errors"))
    return {"rps": result["requests"] / wall, "p50_ms": result["p50_us"] / 1000,
            "p99_ms": result["p99_us"] / 1000, "errors": errors, "requests": result["requests"],
            "cpu_ms_per_req": 1000 * server_s / max(1, result["requests"]),
            "others_pct": max(0.0, 100 * (busy - (server_s + wrk_s) / (wall * cores))),
            "load_1min": load}


def write_lines(name: str, lines: list[str]) -> Path:
    path = common.VAR_DIR / name
    path.write_text("\n".join(lines) + "\n")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/bench_speed")
    parser.add_argument("--server", type=ServerConfig.parse, default=ServerConfig("gthread", 2, 32))
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--duration", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--waiting", type=int, default=300)
    parser.add_argument("--measure", action="append", choices=MEASURES)
    parser.add_argument("--max-wait", type=float, default=120.0,
                        help="seconds to wait for a quiet machine before each run")
    args = parser.parse_args()
    url, measures = args.database_url, args.measure or list(MEASURES)
    levels = [int(c) for c in args.concurrency.split(",")]
    token, tickets = prepare(url, args.waiting)
    codes = common.codes_file(url)
    ticket_file = write_lines("lobby-tickets.txt", tickets)
    board_file = write_lines("lobby-board.txt", [f"{OFFICE}/board"])
    health_file = write_lines("lobby-healthz.txt", ["healthz"])
    os.environ.update(PRODUCTION, MIZ_RATELIMIT_STORAGE_URI=args.redis)
    version = common.app_version()
    print(f"app {version}; {args.server}; {url}; wrk -t 1, {args.duration} s a run", flush=True)
    miz = Server(url, args.server, common.VAR_DIR / "lobby-gunicorn.log",
                 "counter_server:create_app()")
    ceiling = Server(url, args.server, common.VAR_DIR / "lobby-ceiling.log",
                     "ceiling_app:create_app()")
    miz.start()
    ceiling.start()
    try:
        import urllib.request
        with urllib.request.urlopen(f"{miz.base}/api/v1/offices/{OFFICE}/board") as answer:
            etag = answer.headers["ETag"]
        plans: dict[str, tuple[Server, Path, list[str]]] = {
            "ceiling-healthz": (ceiling, LUA, ["track", str(health_file), "-", "/"]),
            "ceiling-track": (ceiling, LUA, ["track", str(codes), "-", "/api/v1/track/"]),
            "board": (miz, LUA, ["track", str(board_file), "-", "/api/v1/offices/"]),
            "board-304": (miz, LUA, ["track", str(board_file), "-", "/api/v1/offices/", etag]),
            "ticket": (miz, LUA, ["track", str(ticket_file), "-", "/api/v1/tickets/"]),
            "track": (miz, LUA, ["track", str(codes), "-", "/api/v1/track/"]),
            "take-ticket": (miz, TICKETS_LUA, [token, SERVICE]),
        }
        with RESULTS.open("a") as log:
            for round_ in range(1, args.rounds + 1):
                for measure in measures:
                    server, lua, wrk_args = plans[measure]
                    assert server.process is not None
                    run_wrk(server.base, wrk_args, lua, 8, args.warmup, server.process.pid, url)
                    for connections in levels:
                        wait_until_quiet(60, args.max_wait)
                        row = {"measure": measure, "round": round_, "connections": connections,
                               **run_wrk(server.base, wrk_args, lua, connections,
                                         args.duration, server.process.pid, url)}
                        print(f"r{round_} {measure:<16} c{connections:<3} {row['rps']:8.0f}/s "
                              f"p50 {row['p50_ms']:6.1f} p99 {row['p99_ms']:7.1f} ms "
                              f"err {row['errors']:<4} CPU {row['cpu_ms_per_req']:.2f} ms/req "
                              f"others {row['others_pct']:.0f}% load {row['load_1min']:.1f}",
                              flush=True)
                        log.write(json.dumps({"at": datetime.now(UTC).isoformat(
                            timespec="seconds"), "app": version, "server": str(args.server),
                            "database": common.backend(url), **row}) + "\n")
    finally:
        miz.stop()
        ceiling.stop()
    count, doubled = duplicates(url)
    print(f"tickets stored {count}, duplicate numbers {doubled}")


if __name__ == "__main__":
    main()
