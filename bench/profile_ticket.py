"""Count the SQL of one `POST /api/v1/tickets` and profile many, in-process (no HTTP server).

    PYTHONPATH=$PWD .venv/bin/python bench/profile_ticket.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_tickets

As `tickets.lua` sends it: the seeded kiosk's bearer token, a fresh `client_id` each call,
with the production settings `lobby_bench.py` uses (the Redis limiter at `--redis`, the
kiosk limit raised by configuration, queue hours not enforced). It prints every statement one
warm call sends (SQLAlchemy's `before_cursor_execute`, the pool's pre-ping included), times
`--calls` calls through Flask's test client, then prints cProfile's heaviest functions (CPU
time, not wall: the machine is shared) by cumulative and by own time. Tickets it issues are
left in the database (the office of the seeded kiosk, today).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
import uuid
from typing import Any

import common
from flask import Flask
from sqlalchemy import event

from counter_server import create_app

SERVICE = "tour-guide-card"
SETTINGS = {"MIZ_KIOSK_RATE_LIMIT": "10000000 per minute", "MIZ_ENFORCE_QUEUE_HOURS": "false",
            "MIZ_STREAM_BOARDS_MAX": "0", "MIZ_STREAM_TICKETS_MAX": "0", "MIZ_PROXY_HOPS": "1"}


def build_app(url: str, redis: str) -> Flask:
    os.environ.update(SETTINGS, MIZ_RATELIMIT_STORAGE_URI=redis)
    return create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(common.VAR_DIR / "instance")})


def record_statements(app: Flask, into: list[str]) -> None:
    """Append every statement the app's engine sends to `into` (while it is not None)."""
    engine = app.extensions["miz.db"].engine

    @event.listens_for(engine, "before_cursor_execute")
    def _sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        into.append(" ".join(statement.split())[:160])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=common.DEFAULT_PG_URL)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--calls", type=int, default=1000)
    parser.add_argument("--top", type=int, default=45)
    args = parser.parse_args()
    token = common.token_file(args.database_url).read_text().strip()
    app = build_app(args.database_url, args.redis)
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def call() -> int:
        body = {"client_id": str(uuid.uuid4()), "service": SERVICE}
        return client.post("/api/v1/tickets", json=body, headers=headers).status_code

    print(f"app {common.app_version()} from {common.APP_ROOT} "
          f"on {common.backend(args.database_url)}")
    for _ in range(5):
        call()
    statements: list[str] = []
    record_statements(app, statements)
    status = call()
    print(f"one warm call (status {status}): {len(statements)} statements")
    for i, statement in enumerate(statements, 1):
        print(f"  {i}. {statement}")
    statements.clear()
    started = time.perf_counter()
    for _ in range(args.calls):
        call()
    elapsed = time.perf_counter() - started
    print(f"{args.calls} calls without the profiler: {1000 * elapsed / args.calls:.2f} ms a call "
          f"(wall, one thread), {len(statements) / args.calls:.2f} statements a call")
    profiler = cProfile.Profile(time.process_time)  # CPU, not wall: the machine is shared
    cpu = time.process_time()
    profiler.enable()
    for _ in range(args.calls):
        call()
    profiler.disable()
    spent = 1000 * (time.process_time() - cpu) / args.calls
    print(f"{args.calls} calls under cProfile: {spent:.2f} ms of CPU a call")
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
