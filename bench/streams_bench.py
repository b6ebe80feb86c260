"""Does serving 500 open streams cost the API its latency? Taking a ticket and one ticket's
state, at 32 connections, with and without 500 server-sent-event streams open (450 phones on
`/q/<ticket>/events`, 50 boards on `/display/<office>/events`), for each deployment:

- `apart` — the README's "Running it for real": the API in gunicorn `gthread -w 2 --threads
  32` with no room for streams, the streams in their own gunicorn (`gevent -w 1
  --worker-connections 4000`);
- `gthread` — one gunicorn serving both, `gthread -w 2 --threads 300` (a stream holds a
  thread, so the threads must outnumber the streams);
- `gevent` — one gunicorn serving both, `gevent -w 2 --worker-connections 2000`.

    PYTHONPATH=$PWD .venv/bin/python bench/streams_bench.py \\
        --database-url postgresql://postgres@127.0.0.1:5432/bench_tickets

The settings are `lobby_bench.py`'s production ones (Redis limiter, limits raised by
configuration because one address plays every client) and, where streams are served,
`MIZ_STREAM_BOARDS_PER_OFFICE=50` (all 50 boards watch the bench's one office; the default is
10). While tickets are taken the board moves all the time, so every stream is sent an event
at each poll of the watcher: the worst case for the streams' cost. The streams are held by a
separate process (asyncio, one socket each). Rows go to var/bench/streams-results.jsonl.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402
from lobby_bench import (  # noqa: E402
    PRODUCTION,
    SERVICE,
    TICKETS_LUA,
    prepare,
    run_wrk,
    write_lines,
)
from queue_bench import OFFICE, duplicates  # noqa: E402
from track_bench import LUA, Server, wait_until_quiet  # noqa: E402

RESULTS = common.VAR_DIR / "streams-results.jsonl"
PHONES, BOARDS, PER_TICKET = 450, 50, 3
STREAMS_ON = {"MIZ_STREAM_BOARDS_MAX": "100", "MIZ_STREAM_BOARDS_PER_OFFICE": "50",
              "MIZ_STREAM_TICKETS_MAX": "3000", "MIZ_STREAM_PER_TICKET": str(PER_TICKET)}
STREAMS_OFF = {"MIZ_STREAM_BOARDS_MAX": "0", "MIZ_STREAM_TICKETS_MAX": "0"}


@dataclass(frozen=True)
class Flags:
    """gunicorn's flags for `track_bench.Server` (which asks only `args()`)."""

    flags: tuple[str, ...]

    def args(self) -> list[str]:
        return [*self.flags, "--no-control-socket"]

    def __str__(self) -> str:
        return " ".join(self.flags)


API = Flags(("-k", "gthread", "-w", "2", "--threads", "32"))
STREAMS = Flags(("-k", "gevent", "-w", "1", "--worker-connections", "4000"))
DEPLOYMENTS = {"apart": (API, STREAMS),
               "gthread": (Flags(("-k", "gthread", "-w", "2", "--threads", "300")), None),
               "gevent": (Flags(("-k", "gevent", "-w", "2", "--worker-connections", "2000")),
                          None)}


def start(url: str, flags: Flags, settings: dict[str, str], name: str) -> Server:
    os.environ.update(settings)
    server = Server(url, flags, common.VAR_DIR / f"streams-{name}.log",  # type: ignore[arg-type]
                    "counter_server:create_app()")
    server.start()
    return server


async def _hold(base: str, paths: list[str], seconds: float) -> dict[str, int]:
    """Open every stream, read them all for `seconds`; counts of what came back."""
    host, port = base.removeprefix("http://").split(":")
    counts = {"opened": 0, "refused": 0, "events": 0, "failed": 0}

    async def one(path: str) -> None:
        try:
            reader, writer = await asyncio.open_connection(host, int(port))
            writer.write(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nAccept: text/event-stream"
                         "\r\nConnection: close\r\n\r\n".encode())
            status = (await reader.readline()).split(b" ")
            ok = len(status) > 1 and status[1] == b"200"
            counts["opened" if ok else "refused"] += 1
            while ok and (chunk := await reader.read(65536)):
                counts["events"] += chunk.count(b"event: ")
        except OSError:
            counts["failed"] += 1

    tasks = [asyncio.create_task(one(path)) for path in paths]
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    return counts


def hold_main(base: str, paths_file: str, seconds: float) -> None:
    paths = Path(paths_file).read_text().split()
    print("MIZ_STREAMS " + json.dumps(asyncio.run(_hold(base, paths, seconds))), flush=True)


class Holder:
    """The streams, held by a process of their own for `seconds`."""

    def __init__(self, base: str, paths: Path, seconds: float):
        self.process = subprocess.Popen(
            [sys.executable, __file__, "--hold", base, str(paths), str(seconds)],
            stdout=subprocess.PIPE, text=True)

    def result(self) -> dict[str, int]:
        output, _ = self.process.communicate(timeout=120)
        line = next((ln for ln in output.splitlines() if ln.startswith("MIZ_STREAMS ")), "")
        return json.loads(line.removeprefix("MIZ_STREAMS ") or "{}")


def stream_paths(tickets: list[str]) -> Path:
    phones = [f"/q/{public_id}/events" for public_id in tickets[:PHONES // PER_TICKET]
              for _ in range(PER_TICKET)]
    return write_lines("streams-paths.txt",
                       phones + [f"/display/{OFFICE}/events"] * BOARDS)


def measure(api: Server, url: str, plans: dict[str, tuple[Path, list[str]]],
            duration: int, warmup: int) -> list[dict[str, Any]]:
    rows = []
    assert api.process is not None
    for measure_name, (lua, wrk_args) in plans.items():
        run_wrk(api.base, wrk_args, lua, 8, warmup, api.process.pid, url)
        wait_until_quiet(60, 10)
        rows.append({"measure": measure_name, **run_wrk(api.base, wrk_args, lua, 32, duration,
                                                        api.process.pid, url)})
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url",
                        default="postgresql://postgres@127.0.0.1:5432/bench_tickets")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--deployment", action="append", choices=sorted(DEPLOYMENTS))
    parser.add_argument("--duration", type=int, default=6)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--waiting", type=int, default=300)
    args = parser.parse_args()
    url = args.database_url
    token, tickets = prepare(url, args.waiting)
    os.environ.update(PRODUCTION, MIZ_RATELIMIT_STORAGE_URI=args.redis)
    paths = stream_paths(tickets)
    ticket_file = write_lines("streams-tickets.txt", tickets)
    plans = {"take-ticket": (TICKETS_LUA, [token, SERVICE]),
             "ticket": (LUA, ["track", str(ticket_file), "-", "/api/v1/tickets/"])}
    version = common.app_version()
    print(f"app {version}; {url}; 32 connections, {args.duration} s a run", flush=True)
    with RESULTS.open("a") as log:
        for name in args.deployment or list(DEPLOYMENTS):
            api_flags, stream_flags = DEPLOYMENTS[name]
            api = start(url, api_flags, STREAMS_OFF if stream_flags else STREAMS_ON, "api")
            streams = start(url, stream_flags, STREAMS_ON, "streams") if stream_flags else api
            try:
                for open_streams in (0, PHONES + BOARDS):
                    holder = None
                    if open_streams:
                        holder = Holder(streams.base, paths,
                                        2 * (args.duration + args.warmup + 10) + 15)
                        time.sleep(8)  # every stream connected and sent its first event
                    rows = measure(api, url, plans, args.duration, args.warmup)
                    held = holder.result() if holder else {}
                    for row in rows:
                        print(f"{name:<8} streams {open_streams:<4} {row['measure']:<12} "
                              f"{row['rps']:7.0f}/s p50 {row['p50_ms']:6.1f} p99 "
                              f"{row['p99_ms']:7.1f} ms err {row['errors']} CPU(API) "
                              f"{row['cpu_ms_per_req']:.2f} ms/req others "
                              f"{row['others_pct']:.0f}% load {row['load_1min']:.1f} {held}",
                              flush=True)
                        log.write(json.dumps({
                            "at": datetime.now(UTC).isoformat(timespec="seconds"),
                            "app": version, "deployment": name, "api": str(api_flags),
                            "streams_server": str(stream_flags or api_flags),
                            "streams": open_streams, "held": held, **row}) + "\n")
            finally:
                if streams is not api:
                    streams.stop()
                api.stop()
    count, doubled = duplicates(url)
    print(f"tickets stored {count}, duplicate numbers {doubled}")


if __name__ == "__main__":
    if len(sys.argv) == 5 and sys.argv[1] == "--hold":
        hold_main(sys.argv[2], sys.argv[3], float(sys.argv[4]))
    else:
        main()
