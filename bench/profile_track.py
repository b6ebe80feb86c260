"""Count the SQL of one tracking call and profile many, in-process (no HTTP server).

    .venv/bin/python bench/profile_track.py                    # SQLite, var/bench/miz.sqlite3
    .venv/bin/python bench/profile_track.py \
        --database-url postgresql://postgres@127.0.0.1:5432/miz_bench

For `GET /api/v1/track/<code>`, `GET /t/<code>` (both with the kiosk token, as the load
generator sends them) and `POST /api/v1/requests`, it prints every statement one warm call
sends (SQLAlchemy's `before_cursor_execute`; on SQLite also the driver's own trace, which
shows BEGIN/ROLLBACK and the pool's pre-ping), then times `--calls` calls through Flask's test
client and prints pyinstrument's profile (call tree and flat by own time). HTML profiles go
to var/bench/profile-<endpoint>-<db>.html.
"""

from __future__ import annotations

import argparse
import json
import random
import time
import uuid
from pathlib import Path
from typing import Any, Self

import common
from flask import Flask
from pyinstrument import Profiler
from pyinstrument.renderers import ConsoleRenderer
from sqlalchemy import event

from counter_server import create_app

POST_BODY: dict[str, Any] = json.loads((common.BENCH_DIR / "post_body.json").read_text())


def build_app(url: str, whatif: bool) -> Flask:
    config = {"DATABASE_URL": url, "INSTANCE_PATH": str(common.VAR_DIR / "instance")}
    if whatif:
        import whatif_app

        return whatif_app.create_app(config)
    return create_app(config)


class Recorder:
    """Statements seen by SQLAlchemy, and (SQLite) by the driver itself."""

    def __init__(self, app: Flask):
        self.orm: list[str] = []
        self.driver: list[str] = []
        self.on = False
        engine = app.extensions["miz.db"].engine

        @event.listens_for(engine, "before_cursor_execute")
        def _sql(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
            if self.on:
                self.orm.append(" ".join(statement.split()))

        if engine.dialect.name == "sqlite":
            @event.listens_for(engine, "connect")
            def _trace(dbapi_connection: Any, _record: Any) -> None:
                dbapi_connection.set_trace_callback(
                    lambda s: self.driver.append(" ".join(s.split())) if self.on else None)

    def __enter__(self) -> Self:
        self.orm.clear()
        self.driver.clear()
        self.on = True
        return self

    def __exit__(self, *_exc: object) -> None:
        self.on = False


def short(statement: str, width: int = 150) -> str:
    return statement if len(statement) <= width else statement[: width - 1] + "…"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=common.DEFAULT_SQLITE_URL)
    parser.add_argument("--calls", type=int, default=2000)
    parser.add_argument("--only", choices=("api", "page", "post"), action="append")
    parser.add_argument("--no-profile", action="store_true",
                        help="only count the statements and time the calls (best of 3)")
    parser.add_argument("--whatif", action="store_true",
                        help="profile bench/whatif_app.py (fixes named by MIZ_WHATIF, default all)")
    args = parser.parse_args()
    url = args.database_url
    codes = common.codes_file(url).read_text().split()
    token = common.token_file(url).read_text().strip()
    app = build_app(url, args.whatif)
    recorder = Recorder(app)
    client = app.test_client()
    kiosk = {"Authorization": f"Bearer {token}"}
    rng = random.Random(7)

    def call(kind: str) -> int:
        if kind == "api":
            return client.get(f"/api/v1/track/{rng.choice(codes)}", headers=kiosk).status_code
        if kind == "page":
            return client.get(f"/t/{rng.choice(codes)}", headers=kiosk).status_code
        body = dict(POST_BODY, client_id=str(uuid.uuid4()))
        return client.post("/api/v1/requests", json=body).status_code

    print(f"app {common.app_version()} from {common.APP_ROOT}")
    kinds = args.only or ["api", "page", "post"]
    names = {"api": "GET /api/v1/track/<code>", "page": "GET /t/<code>",
             "post": "POST /api/v1/requests"}
    for kind in kinds:
        print(f"\n=== {names[kind]} on {common.backend(url)} ===")
        for _ in range(3):  # warm: caches filled, pool connected
            call(kind)
        with recorder:
            status = call(kind)
        print(f"one warm call (status {status}): {len(recorder.orm)} statements via SQLAlchemy")
        for i, statement in enumerate(recorder.orm, 1):
            print(f"  {i}. {short(statement)}")
        if recorder.driver:
            print(f"  the driver saw {len(recorder.driver)} statements: "
                  + "; ".join(short(s, 60) for s in recorder.driver))

        if args.no_profile:
            best = float("inf")
            for _ in range(3):
                started = time.perf_counter()
                for _ in range(args.calls):
                    call(kind)
                best = min(best, time.perf_counter() - started)
            print(f"{args.calls} calls, best of 3: {1000 * best / args.calls:.2f} ms a call "
                  f"({args.calls / best:,.0f} calls/s in one process, no HTTP)")
            continue
        profiler = Profiler(interval=0.0005)
        started = time.perf_counter()
        profiler.start()
        statuses: dict[int, int] = {}
        for _ in range(args.calls):
            s = call(kind)
            statuses[s] = statuses.get(s, 0) + 1
        profiler.stop()
        elapsed = time.perf_counter() - started
        print(f"{args.calls} calls in {elapsed:.2f} s with the profiler on: "
              f"{1000 * elapsed / args.calls:.2f} ms a call, statuses {statuses}")
        # …and without the profiler, for the honest per-call cost in one process
        started = time.perf_counter()
        for _ in range(args.calls):
            call(kind)
        elapsed = time.perf_counter() - started
        print(f"{args.calls} calls without the profiler: {1000 * elapsed / args.calls:.2f} ms "
              f"a call ({args.calls / elapsed:,.0f} calls/s in one process, no HTTP)")
        session = profiler.last_session
        assert session is not None
        print(ConsoleRenderer(unicode=True, color=False, show_all=False, short_mode=False,
                              time="percent_of_total", flat=True, processor_options={})
              .render(session)[:6000])
        print(ConsoleRenderer(unicode=True, color=False, time="percent_of_total")
              .render(session)[:12000])
        suffix = "-whatif" if args.whatif else ""
        out = Path(common.VAR_DIR / f"profile-{kind}-{common.backend(url)}{suffix}.html")
        out.write_text(profiler.output_html())
        print(f"HTML profile: {out}")


if __name__ == "__main__":
    main()
