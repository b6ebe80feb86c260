"""Load-test the tracking reads and request filing under gunicorn with wrk, on 127.0.0.1.

    .venv/bin/python bench/track_bench.py                       # SQLite and PostgreSQL, defaults
    .venv/bin/python bench/track_bench.py --db sqlite --server sync:4 --server gthread:2x4
    .venv/bin/python bench/track_bench.py --database-url postgresql://postgres@127.0.0.1/miz_bench

For each database and gunicorn configuration it starts gunicorn on a free port of 127.0.0.1,
checks every endpoint answers as expected, warms up, then runs wrk for `--duration` seconds at
each concurrency (connections) against

    api    GET /api/v1/track/<code>   random existing codes, kiosk bearer token
    page   GET /t/<code>              the same, the HTML page
    post   POST /api/v1/requests      online channel, a fresh client_id per call (writes!)

and prints req/s, p50, p99, errors and how busy the machine's CPUs were: how much of that was
wrk itself (it shares the 2 cores) and how much was "others" — processes other than gunicorn,
PostgreSQL and wrk (other people's test runs on a shared machine). Each run waits for a quiet
machine first and is repeated (twice at most) when others took more than `--max-other`%.
Results are appended to var/bench/track-results.jsonl.
The databases must be seeded first (bench/seed_requests.py). gunicorn is always stopped on
exit, also on Ctrl-C.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common

VENV_BIN = common.REPO_ROOT / ".venv" / "bin"
LUA = common.BENCH_DIR / "load.lua"
POST_BODY = common.BENCH_DIR / "post_body.json"
RESULTS = common.VAR_DIR / "track-results.jsonl"
ENDPOINTS = {"api": "GET /api/v1/track/<code>", "page": "GET /t/<code>",
             "post": "POST /api/v1/requests"}
DEFAULT_WSGI = "counter_server:create_app()"
DB_SHORTCUTS = {"sqlite": common.DEFAULT_SQLITE_URL, "pg": common.DEFAULT_PG_URL}


@dataclass(frozen=True)
class ServerConfig:
    """`sync:4` (4 sync workers) or `gthread:2x4` (2 workers of 4 threads)."""

    worker_class: str
    workers: int
    threads: int

    @classmethod
    def parse(cls, text: str) -> ServerConfig:
        kind, _, size = text.partition(":")
        if kind == "sync":
            return cls("sync", int(size or 4), 1)
        if kind == "gthread":
            workers, _, threads = (size or "2x4").partition("x")
            return cls("gthread", int(workers), int(threads or 4))
        raise argparse.ArgumentTypeError(f"unknown server config {text!r}")

    def __str__(self) -> str:
        if self.worker_class == "sync":
            return f"sync -w {self.workers}"
        return f"gthread -w {self.workers} --threads {self.threads}"

    def args(self) -> list[str]:
        return ["-k", self.worker_class, "-w", str(self.workers), "--threads", str(self.threads)]


class Server:
    """gunicorn in its own process group, stopped (the whole group) by `stop`."""

    def __init__(self, url: str, config: ServerConfig, log: Path, wsgi: str):
        self.url, self.config, self.log, self.wsgi = url, config, log, wsgi
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, DATABASE_URL=self.url,
                   PYTHONPATH=os.pathsep.join([str(common.APP_ROOT), str(common.BENCH_DIR)]),
                   MIZ_INSTANCE_PATH=str(common.VAR_DIR / "instance"))
        command = [str(VENV_BIN / "gunicorn"), *self.config.args(),
                   "-b", f"127.0.0.1:{self.port}", "--log-level", "warning",
                   "--error-logfile", str(self.log), self.wsgi]
        self.process = subprocess.Popen(command, cwd=common.APP_ROOT, env=env,
                                        start_new_session=True, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise SystemExit(f"gunicorn exited ({self.process.returncode}); see {self.log}")
            try:
                with urllib.request.urlopen(f"{self.base}/healthz", timeout=2) as response:
                    if response.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        raise SystemExit(f"gunicorn did not answer /healthz within 30 s; see {self.log}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.send_signal(signal.SIGTERM)  # gunicorn: graceful stop of all workers
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)  # the group we created, nothing else
            process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_times() -> tuple[int, int]:
    """(busy, total) jiffies of the whole machine, from /proc/stat."""
    fields = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
    idle = fields[3] + fields[4]
    total = sum(fields[:8])
    return total - idle, total


def _stat(pid: str) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    name_end = text.rindex(")")
    return [text[text.index("(") + 1:name_end], *text[name_end + 2:].split()]


def postgres_pids(url: str) -> set[str]:
    """PostgreSQL's processes that serve this benchmark: the backends connected to its
    database and the server's own background processes (not other databases' backends,
    such as a test suite running at the same time)."""
    if common.backend(url) != "postgresql":
        return set()
    from sqlalchemy import create_engine, text
    from sqlalchemy.pool import NullPool

    from counter_server.db import normalize_url

    engine = create_engine(normalize_url(url), poolclass=NullPool)
    with engine.connect() as connection:
        pids = connection.scalars(text(
            "SELECT pid FROM pg_stat_activity WHERE pid <> pg_backend_pid() AND "
            "(datname = current_database() OR backend_type <> 'client backend')")).all()
    engine.dispose()
    return {str(p) for p in pids}


def served_ticks(master: int, pg_pids: set[str]) -> tuple[int, int]:
    """CPU ticks used so far by (the gunicorn master and its workers, PostgreSQL's processes
    of this benchmark): the server side; everything else on the machine but wrk is "other"."""
    app = database = 0
    for pid in (p for p in os.listdir("/proc") if p.isdigit()):
        stat = _stat(pid)
        if stat is None:
            continue
        # stat[0] comm, [1] state, [2] ppid, … [12] utime, [13] stime
        if int(pid) == master or stat[2] == str(master):
            app += int(stat[12]) + int(stat[13])
        elif pid in pg_pids:
            database += int(stat[12]) + int(stat[13])
    return app, database


def wait_until_quiet(limit_pct: float, max_wait: float) -> float:
    """Wait (up to `max_wait` s) until the machine is below `limit_pct` busy over a second:
    other people's tests share this machine. Returns the last busy figure."""
    deadline = time.monotonic() + max_wait
    while True:
        busy_before, total_before = cpu_times()
        time.sleep(1)
        busy_after, total_after = cpu_times()
        busy = 100 * (busy_after - busy_before) / max(1, total_after - total_before)
        if busy <= limit_pct or time.monotonic() > deadline:
            return busy
        print(f"    (machine {busy:.0f}% busy before the run: waiting)", flush=True)


def check(base: str, kind: str, code: str, token: str) -> None:
    """One call of `kind`, which must answer 200 (201 for post), before any load."""
    if kind == "post":
        data = POST_BODY.read_text().replace("00000000-0000-4000-8000-000000000000",
                                             "11111111-2222-4333-8444-" + os.urandom(6).hex())
        req = urllib.request.Request(f"{base}/api/v1/requests", data=data.encode(),
                                     headers={"Content-Type": "application/json"})
        expected = 201
    else:
        path = f"/api/v1/track/{code}" if kind == "api" else f"/t/{code}"
        req = urllib.request.Request(base + path, headers={"Authorization": f"Bearer {token}"})
        expected = 200
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            status, body = response.status, response.read()
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read()
    if status != expected:
        raise SystemExit(f"{ENDPOINTS[kind]} answered {status}, not {expected}: {body[:500]!r}")


def wrk(base: str, kind: str, connections: int, seconds: int, codes: Path, token: str,
        master: int, url: str) -> dict[str, Any]:
    """Run wrk once; returns its MIZ_RESULT plus CPU figures."""
    script_args = (["post", str(POST_BODY)] if kind == "post" else
                   ["track", str(codes), token,
                    "/api/v1/track/" if kind == "api" else "/t/"])
    command = ["wrk", "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--timeout", "5s",
               "-s", str(LUA), base, "--", *script_args]
    pg_pids = postgres_pids(url)  # gunicorn's pooled connections persist across the run
    children_before = resource.getrusage(resource.RUSAGE_CHILDREN)
    busy_before, total_before = cpu_times()
    served_before = served_ticks(master, pg_pids)
    completed = subprocess.run(command, capture_output=True, text=True, check=False,
                               timeout=seconds + 60)
    busy_after, total_after = cpu_times()
    served_after = served_ticks(master, pg_pids)
    children_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    line = next((ln for ln in completed.stdout.splitlines() if ln.startswith("MIZ_RESULT ")),
                None)
    if completed.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed ({completed.returncode}): {completed.stderr}"
                         f"{completed.stdout}")
    result: dict[str, Any] = json.loads(line.removeprefix("MIZ_RESULT "))
    cores = os.cpu_count() or 1
    wall = result["duration_us"] / 1e6
    wrk_cpu = ((children_after.ru_utime - children_before.ru_utime)
               + (children_after.ru_stime - children_before.ru_stime))
    result["rps"] = result["requests"] / wall
    result["errors"] = sum(result[k] for k in ("connect_errors", "read_errors", "write_errors",
                                               "status_errors", "timeouts"))
    result["cpu_busy_pct"] = 100 * (busy_after - busy_before) / max(1, total_after - total_before)
    result["wrk_cpu_pct"] = 100 * wrk_cpu / (wall * cores)  # share of the whole machine
    ticks = os.sysconf("SC_CLK_TCK")
    machine = ticks * wall * cores
    result["gunicorn_cpu_pct"] = 100 * (served_after[0] - served_before[0]) / machine
    result["postgres_cpu_pct"] = 100 * (served_after[1] - served_before[1]) / machine
    result["server_cpu_pct"] = result["gunicorn_cpu_pct"] + result["postgres_cpu_pct"]
    # CPU time the server side (gunicorn + PostgreSQL) spent per request: the figure that
    # others' load on a shared machine disturbs least, and that sets the ceiling:
    # 2 cores can serve at most 2000 / cpu_ms_per_request requests a second
    result["cpu_ms_per_request"] = (result["server_cpu_pct"] / 100 * cores * wall * 1000
                                    / max(1, result["requests"]))
    result["other_cpu_pct"] = max(0.0, result["cpu_busy_pct"] - result["server_cpu_pct"]
                                  - result["wrk_cpu_pct"])
    return result


@dataclass
class Row:
    database: str
    server: str
    endpoint: str
    connections: int
    rps: float
    p50_ms: float
    p99_ms: float
    errors: int
    cpu_busy_pct: float
    wrk_cpu_pct: float
    other_cpu_pct: float
    cpu_ms_per_request: float


def table(rows: list[Row]) -> str:
    lines = [("| database | gunicorn | endpoint | conns | req/s | p50 ms | p99 ms | errors "
              "| server CPU ms/req | CPU busy | of it wrk | of it others |"),
             "| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for r in rows:
        lines.append(f"| {r.database} | {r.server} | `{r.endpoint}` | {r.connections} "
                     f"| {r.rps:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} | {r.errors} "
                     f"| {r.cpu_ms_per_request:.2f} | {r.cpu_busy_pct:.0f}% "
                     f"| {r.wrk_cpu_pct:.0f}% | {r.other_cpu_pct:.0f}% |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", action="append", choices=sorted(DB_SHORTCUTS),
                        help="a default bench database (repeat); both when none is given")
    parser.add_argument("--database-url", action="append", default=[])
    parser.add_argument("--server", action="append", type=ServerConfig.parse,
                        help="sync:N or gthread:NxT (repeat); default sync:4")
    parser.add_argument("--endpoint", action="append", choices=list(ENDPOINTS))
    parser.add_argument("--concurrency", default="1,8,32")
    parser.add_argument("--duration", type=int, default=15, help="seconds per run")
    parser.add_argument("--warmup", type=int, default=10, help="seconds of warm-up per endpoint")
    parser.add_argument("--wsgi", default=DEFAULT_WSGI,
                        help="the app gunicorn serves (bench/whatif_app.py, bench/ceiling_app.py)")
    parser.add_argument("--quiet", type=float, default=15,
                        help="wait before each run until the machine is at most this %% busy")
    parser.add_argument("--max-other", type=float, default=10,
                        help="repeat a run (twice at most) when processes other than gunicorn, "
                        "PostgreSQL and wrk took more than this %% of the machine during it")
    args = parser.parse_args()
    if shutil.which("wrk") is None:
        sys.exit("track_bench: wrk is missing (apt-get install -y wrk)")
    urls = args.database_url + [DB_SHORTCUTS[d] for d in (args.db or [])]
    urls = urls or [DB_SHORTCUTS["sqlite"], DB_SHORTCUTS["pg"]]
    servers = args.server or [ServerConfig("sync", 4, 1)]
    endpoints = args.endpoint or list(ENDPOINTS)
    endpoints.sort(key=list(ENDPOINTS).index)  # the writes last
    levels = [int(c) for c in args.concurrency.split(",")]
    common.VAR_DIR.mkdir(parents=True, exist_ok=True)
    (common.VAR_DIR / "logs").mkdir(exist_ok=True)

    def stop_on_signal(signum: int, _frame: object) -> None:
        raise SystemExit(128 + signum)

    signal.signal(signal.SIGTERM, stop_on_signal)
    rows: list[Row] = []
    stamp = datetime.now(UTC).isoformat(timespec="seconds")
    version = common.app_version()
    print(f"app {version} from {common.APP_ROOT}; wrk -t 1; {args.duration} s a run", flush=True)
    for url in urls:
        codes, token = common.codes_file(url), common.token_file(url).read_text().strip()
        sample = codes.read_text().split()[0]
        for config in servers:
            log = common.VAR_DIR / "logs" / f"gunicorn-{common.label(url)}.log"
            server = Server(url, config, log, args.wsgi)
            served = str(config)
            if args.wsgi != DEFAULT_WSGI:
                module = args.wsgi.split(":")[0]
                fixes = f" {os.environ.get('MIZ_WHATIF', 'all')}" if "whatif" in module else ""
                served += f" [{module}{fixes}]"
            try:
                server.start()
                print(f"\n{common.backend(url)}: gunicorn {served} on {server.base}", flush=True)
                for kind in endpoints:
                    check(server.base, kind, sample, token)
                    master = server.process.pid if server.process else 0
                    if args.warmup:
                        wrk(server.base, kind, 8, args.warmup, codes, token, master, url)
                    for connections in levels:
                        tries = []
                        for _attempt in range(3):
                            wait_until_quiet(args.quiet, 300)
                            tries.append(wrk(server.base, kind, connections, args.duration,
                                             codes, token, master, url))
                            if tries[-1]["other_cpu_pct"] <= args.max_other:
                                break
                            print(f"    (others took {tries[-1]['other_cpu_pct']:.0f}% of the "
                                  "machine during the run: repeating it)", flush=True)
                        r = min(tries, key=lambda t: t["other_cpu_pct"])
                        row = Row(common.backend(url), served, ENDPOINTS[kind], connections,
                                  r["rps"], r["p50_us"] / 1000, r["p99_us"] / 1000, r["errors"],
                                  r["cpu_busy_pct"], r["wrk_cpu_pct"], r["other_cpu_pct"],
                                  r["cpu_ms_per_request"])
                        rows.append(row)
                        print(f"  {ENDPOINTS[kind]:<26} c={connections:<3} {row.rps:>7,.0f} req/s"
                              f"  p50 {row.p50_ms:6.1f} ms  p99 {row.p99_ms:6.1f} ms"
                              f"  errors {row.errors}  CPU {row.cpu_busy_pct:.0f}%"
                              f" (gunicorn {r['gunicorn_cpu_pct']:.0f}%,"
                              f" postgres {r['postgres_cpu_pct']:.0f}%, wrk {row.wrk_cpu_pct:.0f}%,"
                              f" others {row.other_cpu_pct:.0f}%;"
                              f" {row.cpu_ms_per_request:.2f} ms CPU a request)",
                              flush=True)
                        with RESULTS.open("a") as out:
                            out.write(json.dumps({"at": stamp, "app": version, **asdict(row),
                                                  "wrk": r,
                                                  "duration_s": args.duration}) + "\n")
            finally:
                server.stop()
    print()
    print(table(rows))


if __name__ == "__main__":
    main()
