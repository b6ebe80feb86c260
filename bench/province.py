"""A province's kiosks on shared infrastructure, small first version: PostgreSQL, Redis, an S3
object store (moto's server, a process of its own) and 1, 2, … application processes, each a
gunicorn of its own on its own port as separate hosts would be, with production's settings.

Simulated kiosks (threads, each with its own token) send one kind of request at a time, to the
application processes in turn, for `--seconds` each — heartbeats, catalog checks, tickets,
filings with a 200 KB scan, tracking — so that the CPU each component spent in a phase
(read from /proc: the gunicorns and their workers, every `postgres` process, `redis-server`,
the object store) divided by the requests answered is that component's cost per request of
that kind. Prints a table and appends every row to `var/bench/province.jsonl`.

    .venv/bin/python bench/province.py postgresql://postgres@127.0.0.1:5432/miz_province \\
        [--processes 1 2] [--kiosks 32] [--seconds 20] [--redis redis://127.0.0.1:6379/15]

Not yet simulated: counters calling next, boards and phones on streams, and the node kill
under this load (the small node kill runs in `make test`: tests/server/test_node_kill.py).
PostgreSQL and Redis are the machine's own, shared with whatever else runs: their CPU counts
every client's, so run it on a quiet machine. The database is wiped.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import boto3
import requests
from PIL import Image
from sqlalchemy import create_engine, text

sys.path.insert(0, str(Path(__file__).resolve().parent))
import common  # noqa: E402  (and the app measured on sys.path)
from counter_server import create_app, migrate  # noqa: E402
from counter_server.config import DEMO_CATALOG  # noqa: E402
from counter_server.context import database  # noqa: E402
from counter_server.db import normalize_url  # noqa: E402
from counter_server.demo import sample_value  # noqa: E402
from counter_server.usecases import kiosks  # noqa: E402
from counter_server.usecases.catalog_versions import import_catalog  # noqa: E402
from shared import tracking_codes  # noqa: E402
from shared.catalog.loader import load_catalog  # noqa: E402
from shared.catalog.schema import Catalog  # noqa: E402

OFFICE, SERVICE, SLOT = "isfahan-hq", "tour-guide-card", "course_certificate"
APPLICANT = {"name": "زهرا احمدی", "national_code": "0499370899", "mobile": "09121234567"}
BUCKET, CLK = "miz-province", os.sysconf("SC_CLK_TCK")
S3_KEYS = {"MIZ_S3_ACCESS_KEY_ID": "bench", "MIZ_S3_SECRET_ACCESS_KEY": "bench-secret"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def cpu_seconds(pids: list[int]) -> float:
    """User and system CPU of `pids` so far (gone ones count 0)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except (FileNotFoundError, ProcessLookupError):
            continue
        total += int(fields[11]) + int(fields[12])
    return total / CLK


POSTGRES_HELPERS = ("walwriter", "checkpointer", "background writer", "autovacuum")


def pids_named(name: str, only: Callable[[str], bool] = lambda _: True) -> list[int]:
    """The processes called `name` whose command line passes `only`."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == name and \
                        only((entry / "cmdline").read_bytes().decode(errors="replace")):
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def postgres_pids(database_name: str) -> list[int]:
    """The backends serving `database_name` (they stay while the pools keep them) and the
    cluster's writers and vacuum; other databases' backends are left out."""
    return pids_named("postgres", lambda line: f" {database_name} " in line
                      or any(helper in line for helper in POSTGRES_HELPERS))


def tree(root: int) -> list[int]:
    """`root` and its children (a gunicorn and its workers)."""
    children = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parent = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError):
                continue
            if parent == root:
                children.append(int(entry.name))
    return [root, *children]


def prepare(url: str) -> tuple[Any, Catalog]:
    """Wipe and migrate the database and import the demo catalog: the app and its catalog."""
    engine = create_engine(normalize_url(url), isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "province",
                      "INSTANCE_PATH": tempfile.mkdtemp(prefix="miz-province-")})
    catalog = load_catalog(DEMO_CATALOG)
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, catalog, source="province bench")
    return app, catalog


def register(app: Any, count: int) -> list[tuple[int, str]]:
    with app.app_context(), database().transaction() as session:
        made = [kiosks.register_kiosk(session, f"کیوسک {n}", OFFICE) for n in range(count)]
        return [(m.kiosk.id, m.token) for m in made]


class Deployment:
    """`processes` gunicorns on the database, Redis and the object store."""

    def __init__(self, processes: int, env: dict[str, str], folder: Path):
        self.servers: list[tuple[subprocess.Popen[bytes], str]] = []
        for n in range(processes):
            port, instance = free_port(), folder / f"node-{n}"
            instance.mkdir(parents=True, exist_ok=True)
            process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "--worker-class", "gthread", "--workers", "1",
                 "--threads", "16", "--no-control-socket", "--bind", f"127.0.0.1:{port}",
                 "counter_server:create_app()"],
                cwd=common.APP_ROOT, env={**os.environ, "PYTHONPATH": str(common.APP_ROOT),
                                          "MIZ_INSTANCE_PATH": str(instance), **env},
                stdout=(instance / "gunicorn.log").open("wb"), stderr=subprocess.STDOUT)
            self.servers.append((process, f"http://127.0.0.1:{port}"))
        try:
            self._wait_until_up()
        except BaseException:
            self.stop()
            raise

    def _wait_until_up(self) -> None:
        for process, url in self.servers:
            for _ in range(300):
                assert process.poll() is None, "gunicorn stopped; see its log"
                try:
                    if requests.get(f"{url}/healthz", timeout=30).ok:
                        break
                except requests.ConnectionError:
                    time.sleep(0.1)

    @property
    def urls(self) -> list[str]:
        return [url for _, url in self.servers]

    def pids(self) -> list[int]:
        return [pid for process, _ in self.servers for pid in tree(process.pid)]

    def stop(self) -> None:
        for process, _ in self.servers:
            process.send_signal(signal.SIGINT)
        for process, _ in self.servers:
            try:
                process.wait(30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def scan_bytes() -> bytes:
    """A PNG of about 200 KB (noise does not compress)."""
    buffer = io.BytesIO()
    Image.frombytes("L", (460, 440), os.urandom(460 * 440)).save(buffer, "PNG")
    return buffer.getvalue()


class Kiosk:
    """One simulated kiosk: its token, and one request of each kind on demand."""

    def __init__(self, kiosk_id: int, token: str, fields: dict[str, Any], scan: bytes):
        self.id, self.fields, self.scan = kiosk_id, fields, scan
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.codes: list[str] = []

    def heartbeat(self, url: str) -> None:
        self._ok(self.http.post(f"{url}/api/v1/kiosks/heartbeat", timeout=30, json={
            "software_version": "bench", "outbox_depth": 0, "printer_state": "ok",
            "kiosk_time": datetime.now(UTC).isoformat()}))

    def catalog(self, url: str) -> None:
        self._ok(self.http.get(f"{url}/api/v1/catalog", timeout=30))

    def ticket(self, url: str) -> None:
        self._ok(self.http.post(f"{url}/api/v1/tickets", timeout=30, json={
            "client_id": str(uuid.uuid4()), "service": SERVICE}))

    def file(self, url: str) -> None:
        code = tracking_codes.new_code(self.id)
        self._ok(self.http.post(f"{url}/api/v1/requests", timeout=30, json={
            "client_id": str(uuid.uuid4()), "service": SERVICE, "channel": "kiosk",
            "catalog_version": 1, "tracking_code": code, "applicant": APPLICANT,
            "fields": self.fields}))
        self._ok(self.http.post(f"{url}/api/v1/requests/{code}/documents", timeout=30,
                                data={"client_id": str(uuid.uuid4()), "slot": SLOT},
                                files={"file": ("scan.png", self.scan)}))
        self.codes.append(code)

    def track(self, url: str) -> None:
        code = self.codes[len(self.codes) // 2] if self.codes else tracking_codes.new_code(0)
        answer = self.http.get(f"{url}/api/v1/track/{code}", timeout=30)
        if answer.status_code not in (200, 404):
            raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")

    @staticmethod
    def _ok(answer: requests.Response) -> None:
        if answer.status_code not in (200, 201):
            raise RuntimeError(f"{answer.status_code}: {answer.text[:200]}")


def run_phase(fleet: list[Kiosk], urls: list[str], kind: str, seconds: float
              ) -> tuple[list[float], list[str]]:
    """Every kiosk sends `kind` requests, to the processes in turn, for `seconds`: the
    answers' latencies, and what each failure was."""
    latencies: list[float] = []
    failures: list[str] = []
    lock = threading.Lock()
    ends = time.monotonic() + seconds

    def loop(n: int, kiosk: Kiosk) -> None:
        send: Callable[[str], None] = getattr(kiosk, kind)
        turn = n
        while time.monotonic() < ends:
            start = time.perf_counter()
            try:
                send(urls[turn % len(urls)])
            except (RuntimeError, requests.RequestException) as error:
                with lock:
                    failures.append(f"{type(error).__name__}: {error}"[:300])
                continue
            finally:
                turn += 1
            with lock:
                latencies.append(time.perf_counter() - start)

    threads = [threading.Thread(target=loop, args=(n, k)) for n, k in enumerate(fleet)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, failures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("url")
    parser.add_argument("--processes", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--kiosks", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=20)
    parser.add_argument("--redis", default="redis://127.0.0.1:6379/15")
    parser.add_argument("--kinds", nargs="+",
                        default=["heartbeat", "catalog", "ticket", "file", "track"])
    parser.add_argument("--pool", type=int, nargs=2, metavar=("SIZE", "OVERFLOW"),
                        help="MIZ_DATABASE_POOL_SIZE and _MAX_OVERFLOW of each process")
    args = parser.parse_args()
    name = args.url.rsplit("/", 1)[-1]
    if name in common.PROTECTED_DATABASES:
        parser.error("that database is protected")

    app, catalog = prepare(args.url)
    tokens = register(app, args.kiosks)
    fields = {f.name: sample_value(f) for f in catalog.service(SERVICE).form}
    scan = scan_bytes()
    fleet = [Kiosk(kiosk_id, token, fields, scan) for kiosk_id, token in tokens]

    s3_port = free_port()
    store = subprocess.Popen([str(Path(sys.executable).parent / "moto_server"), "-H",
                              "127.0.0.1", "-p", str(s3_port)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    endpoint = f"http://127.0.0.1:{s3_port}"
    for _ in range(100):
        try:
            requests.get(endpoint, timeout=30)
            break
        except requests.ConnectionError:
            time.sleep(0.1)
    boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench-secret"
                 ).create_bucket(Bucket=BUCKET)
    env = {"DATABASE_URL": args.url, "MIZ_SECRET_KEY": "province", "MIZ_ENV": "production",
           "MIZ_RATELIMIT_STORAGE_URI": args.redis, "MIZ_ENFORCE_QUEUE_HOURS": "false",
           # one address plays every kiosk: raised, as the results say
           "MIZ_KIOSK_RATE_LIMIT": "1000000 per minute",
           "MIZ_STORAGE": "s3", "MIZ_S3_ENDPOINT": endpoint, "MIZ_S3_BUCKET": BUCKET, **S3_KEYS}
    if args.pool:
        env["MIZ_DATABASE_POOL_SIZE"], env["MIZ_DATABASE_MAX_OVERFLOW"] = map(str, args.pool)
    common.VAR_DIR.mkdir(parents=True, exist_ok=True)
    results = common.VAR_DIR / "province.jsonl"
    print(f"app {common.app_version()}, {args.kiosks} kiosks, {args.seconds:g} s a phase, "
          f"pool {args.pool or 'default'}, load {os.getloadavg()[0]:.2f}")
    print("| processes | kind | answered/s | failed | p50 ms | p99 ms | CPU ms per request: "
          "app / PostgreSQL / Redis / S3 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    try:
        for processes in args.processes:
            deployment = Deployment(processes, env, Path(tempfile.mkdtemp(prefix="province-")))
            try:
                for kind in args.kinds:
                    parts = {"app": deployment.pids, "postgresql": lambda: postgres_pids(name),
                             "redis": lambda: pids_named("redis-server"),
                             "s3": lambda: [store.pid]}
                    before = {name: cpu_seconds(pids()) for name, pids in parts.items()}
                    latencies, failed = run_phase(fleet, deployment.urls, kind, args.seconds)
                    spent = {name: cpu_seconds(pids()) - before[name]
                             for name, pids in parts.items()}
                    done = max(1, len(latencies))
                    ms = sorted(x * 1000 for x in latencies) or [0.0]
                    row = {"processes": processes, "kind": kind, "answered": len(latencies),
                           "failed": len(failed), "first_failure": failed[0] if failed else None,
                           "rate": len(latencies) / args.seconds,
                           "p50_ms": statistics.median(ms), "p99_ms": ms[int(len(ms) * .99) - 1],
                           "cpu_ms": {k: v * 1000 / done for k, v in spent.items()},
                           "app": common.app_version(), "load": os.getloadavg()[0],
                           "kiosks": args.kiosks, "seconds": args.seconds, "pool": args.pool}
                    with results.open("a") as out:
                        out.write(json.dumps(row) + "\n")
                    cpu = " / ".join(f"{row['cpu_ms'][k]:.1f}" for k in parts)
                    print(f"| {processes} | {kind} | {row['rate']:.0f} | {len(failed)} | "
                          f"{row['p50_ms']:.0f} | {row['p99_ms']:.0f} | {cpu} |", flush=True)
                    if failed:
                        print(f"  first failure: {failed[0]}", file=sys.stderr)
            finally:
                deployment.stop()
    finally:
        store.terminate()
        store.wait(10)


if __name__ == "__main__":
    main()
