"""The CPU one call of each polled read costs in the app itself — the WSGI app called in-process
with a ready environ (no HTTP server, no test client, no load generator) — beside
`ceiling_app`'s trivial endpoint and one-query tracking read. The steadiest figure on a busy
machine: only this process's CPU time is counted (the database's is not).

    PYTHONPATH=$PWD .venv/bin/python bench/reads_inproc.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_speed

It prepares the office as `lobby_bench.py` does (counters, waiting tickets, a few calls), with
the tracking limit raised by configuration (one address plays every citizen) and the
limiter in memory.
"""

from __future__ import annotations

import argparse
import io
import os
import random
import sys
import time
from collections.abc import Callable, Iterable
from typing import Any

import common
from lobby_bench import prepare
from queue_bench import OFFICE

Environ = dict[str, Any]


def environ(path: str, **headers: str) -> Environ:
    return {"REQUEST_METHOD": "GET", "PATH_INFO": path, "QUERY_STRING": "", "SERVER_NAME": "x",
            "SERVER_PORT": "80", "SERVER_PROTOCOL": "HTTP/1.1", "REMOTE_ADDR": "127.0.0.1",
            "wsgi.url_scheme": "http", "wsgi.input": io.BytesIO(), "wsgi.errors": sys.stderr,
            "wsgi.version": (1, 0), "wsgi.multithread": True, "wsgi.multiprocess": True,
            "wsgi.run_once": False, **headers}


def call(app: Callable[..., Iterable[bytes]], env: Environ) -> tuple[str, dict[str, str]]:
    """Call the WSGI app; its status and headers (the body is read and closed)."""
    answer: dict[str, Any] = {}

    def start_response(status: str, headers: list[tuple[str, str]], _exc: Any = None) -> None:
        answer.update(status=status, headers=dict(headers))

    body = app(env, start_response)
    b"".join(body)
    getattr(body, "close", lambda: None)()
    return answer["status"], answer["headers"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/bench_speed")
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    url = args.database_url
    _token, tickets = prepare(url, 300)
    os.environ["DATABASE_URL"] = url
    import ceiling_app

    from counter_server import create_app

    miz = create_app({"DATABASE_URL": url, "INSTANCE_PATH": str(common.VAR_DIR / "instance"),
                      "TRACK_RATE_LIMIT": "10000000 per minute"})
    ceiling = ceiling_app.create_app()
    codes = common.codes_file(url).read_text().split()
    board = f"/api/v1/offices/{OFFICE}/board"
    etag = call(miz, environ(board))[1]["ETag"]
    cases: dict[str, tuple[Callable[..., Iterable[bytes]], Callable[[], Environ]]] = {
        "ceiling /healthz": (ceiling, lambda: environ("/healthz")),
        "ceiling track": (ceiling, lambda: environ("/api/v1/track/" + random.choice(codes))),
        "board": (miz, lambda: environ(board)),
        "board 304": (miz, lambda: environ(board, HTTP_IF_NONE_MATCH=etag)),
        "ticket state": (miz, lambda: environ("/api/v1/tickets/" + random.choice(tickets))),
        "track": (miz, lambda: environ("/api/v1/track/" + random.choice(codes))),
    }
    print(f"app {common.app_version()}; {url}; {args.calls} calls each; "
          f"load {os.getloadavg()[0]:.1f}")
    for name, (app, make) in cases.items():
        for _ in range(300):
            call(app, make())
        statuses = set()
        started = time.process_time()
        for _ in range(args.calls):
            statuses.add(call(app, make())[0])
        cpu = 1000 * (time.process_time() - started) / args.calls
        print(f"{name:18} {cpu:.3f} ms CPU/call  {sorted(statuses)}", flush=True)


if __name__ == "__main__":
    main()
