"""How fast a kiosk drains its outbox to a local counter server.

    .venv/bin/python bench/kiosk_sync_bench.py                        # 10,000 records, 200 KB scans
    .venv/bin/python bench/kiosk_sync_bench.py --records 2000 --server gthread:2x8
    .venv/bin/python bench/kiosk_sync_bench.py --database-url postgresql://postgres@127.0.0.1/miz_kiosk_bench
    .venv/bin/python bench/kiosk_sync_bench.py --server null:2    # the kiosk side alone

What it does, all under var/bench/kiosk-sync/ (gitignored):

1. a fresh server database (SQLite by default; `--database-url` for PostgreSQL, created if
   missing and wiped if not: name a throw-away database) with the demo catalog and one
   registered kiosk;
2. gunicorn serving it on a free port of 127.0.0.1 (`--server gthread:WxT` or `sync:N`);
3. a fresh kiosk store holding `--records` requests, each with one scanned document of
   `--scan-kb` kilobytes (a distinct JPEG each), made the way `Kiosk.file_request` makes them
   (tracking code claimed, request and document records and the receipt in one transaction,
   the scan written durably) — not timed;
4. the drain, timed: `SyncEngine.run_once()` rounds until nothing is pending — every POST,
   every acknowledgement, the purge of the personal data and of each scan file;
5. a check that the server holds exactly `--records` requests and documents.

It prints the figure and appends a line to var/bench/results.jsonl. Like every benchmark here
it asserts nothing about time.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import common  # noqa: F401  (puts the app under test on sys.path)
from common import APP_ROOT, PROTECTED_DATABASES, REPO_ROOT, VAR_DIR, app_version

from kiosk.config import load_config
from kiosk.local.store import KioskStore, NewRecord
from kiosk.sync.engine import SyncEngine
from kiosk.sync.policy import KioskPolicy
from shared import tracking_codes

WORK = VAR_DIR / "kiosk-sync"
RESULTS = VAR_DIR / "results.jsonl"
VENV_BIN = REPO_ROOT / ".venv" / "bin"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# --- the server ----------------------------------------------------------------------------

def prepare_server(database_url: str) -> tuple[int, str, str, str]:
    """A fresh database with the demo catalog and a kiosk: (kiosk id, token, service, slot)."""
    from counter_server import create_app, migrate
    from counter_server.config import DEMO_CATALOG
    from counter_server.context import database
    from counter_server.usecases import kiosks
    from counter_server.usecases.catalog_versions import import_catalog
    from shared.catalog.loader import load_catalog

    catalog = load_catalog(DEMO_CATALOG)
    service, slot = pick_service(catalog)
    app = create_app({"DATABASE_URL": database_url, "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(WORK / "instance")})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, catalog, source="kiosk sync bench")
            registration = kiosks.register_kiosk(session, "کیوسک سنجش", "isfahan-hq")
            kiosk_id, token = registration.kiosk.id, registration.token
        database().dispose()
    return kiosk_id, token, service, slot


def pick_service(catalog: Any) -> tuple[str, str]:
    """A kiosk service with a form that needs no field and a slot that takes JPEG."""
    for spec in catalog.services:
        slots = [d for d in spec.documents if "jpeg" in [f.value for f in d.formats]]
        if "kiosk" in [c.value for c in spec.channels] and slots:
            return spec.slug, slots[0].id
    raise SystemExit("the demo catalog has no kiosk service taking a JPEG")


def wipe_database(url: str) -> None:
    if url.startswith("sqlite:///"):
        for suffix in ("", "-wal", "-shm"):
            Path(url.removeprefix("sqlite:///") + suffix).unlink(missing_ok=True)
        return
    from sqlalchemy import create_engine, make_url, text

    from counter_server.db import normalize_url

    target = make_url(normalize_url(url))
    if target.database in PROTECTED_DATABASES:
        raise SystemExit(f"refusing to wipe the database {target.database!r}")
    server = create_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        exists = connection.execute(text("SELECT 1 FROM pg_database WHERE datname = :name"),
                                    {"name": target.database}).scalar()
        if not exists:
            connection.execute(text(f'CREATE DATABASE "{target.database}"'))
    server.dispose()
    engine = create_engine(target, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def null_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """A server that does nothing but read the body and say 201: the kiosk side's ceiling
    (`--server null:N`). Its answers look enough like the real ones for the kiosk."""
    length = int(environ.get("CONTENT_LENGTH") or 0)
    stream = environ["wsgi.input"]
    while length > 0:
        length -= len(stream.read(min(length, 1 << 16)) or b"x" * length)
    path = environ.get("PATH_INFO", "")
    body = b'{"status": "submitted", "status_label": "ok"}'
    if path.endswith("/healthz"):
        body = b'{"status": "ok"}'
    elif path.endswith(("/catalog", "/heartbeat", "/leases")):
        start_response("404 NOT FOUND", [("Content-Type", "application/json")])
        return [b'{"code": "not_found"}']
    start_response("201 CREATED" if environ["REQUEST_METHOD"] == "POST" else "200 OK",
                   [("Content-Type", "application/json"), ("Content-Length", str(len(body)))])
    return [body]


class Gunicorn:
    """gunicorn in its own process group, stopped as a whole."""

    def __init__(self, database_url: str, server: str) -> None:
        self.database_url, self.port = database_url, free_port()
        kind, _, size = server.partition(":")
        self.wsgi = "counter_server:create_app()"
        if kind == "gthread":
            workers, _, threads = size.partition("x")
            self.args = ["-k", "gthread", "-w", workers or "2", "--threads", threads or "8"]
        else:
            self.args = ["-k", "sync", "-w", size or "4"]
        if kind == "null":
            self.wsgi = "kiosk_sync_bench:null_app"
        self.url = f"http://127.0.0.1:{self.port}"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = dict(os.environ, DATABASE_URL=self.database_url,
                   MIZ_INSTANCE_PATH=str(WORK / "instance"),
                   PYTHONPATH=os.pathsep.join([str(APP_ROOT), str(Path(__file__).parent)]))
        command = [str(VENV_BIN / "gunicorn"), *self.args, "-b", f"127.0.0.1:{self.port}",
                   "--log-level", "warning", "--error-logfile", str(WORK / "gunicorn.log"),
                   self.wsgi]
        self.process = subprocess.Popen(command, cwd=APP_ROOT, env=env, start_new_session=True,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 120  # a loaded machine imports slowly
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:
                    if answer.status == 200:
                        return
            except (OSError, urllib.error.URLError):
                time.sleep(0.2)
        self.stop()  # not left running behind the failed bench
        raise SystemExit(f"gunicorn did not start; see {WORK / 'gunicorn.log'}")

    def cpu_seconds(self) -> float:
        """CPU time used so far by gunicorn's master and workers (from /proc)."""
        if self.process is None:
            return 0.0
        total, tick = 0.0, os.sysconf("SC_CLK_TCK")
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == self.process.pid:  # the process group (session) leader
                total += (int(fields[11]) + int(fields[12])) / tick
        return total

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(30)


# --- the kiosk -----------------------------------------------------------------------------

def kiosk_config(url: str, kiosk_id: int, token: str) -> Any:
    path = WORK / "kiosk.toml"
    path.write_text(f'server_url = "{url}"\npublic_base_url = "https://miz.example.ir"\n'
                    f'kiosk_id = {kiosk_id}\ntoken = "{token}"\ndata_dir = "kiosk-data"\n\n'
                    f'[printer]\nbackend = "file"\npath = "receipts.escpos"\n'
                    f'paper_width_mm = 80\nqr = "native"\n', encoding="utf-8")
    path.chmod(0o600)
    return load_config(path)


def noise_jpeg(size_kb: int) -> bytes:
    """A JPEG of about `size_kb` KB: noise does not compress."""
    from PIL import Image

    side = int((size_kb * 1024 / 2.2) ** 0.5)
    image = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
    out = io.BytesIO()
    image.save(out, "JPEG", quality=85)
    return out.getvalue()


def distinct(jpeg: bytes, n: int) -> bytes:
    """The same picture with a comment segment (COM) that makes its bytes unique."""
    text = f"kiosk sync bench scan {n} {uuid.uuid4()}".encode()
    return jpeg[:2] + b"\xff\xfe" + (len(text) + 2).to_bytes(2, "big") + text + jpeg[2:]


def seed_kiosk(store: KioskStore, kiosk_id: int, service: str, slot: str, records: int,
               scan_kb: int, fields: dict[str, Any]) -> float:
    """`records` requests with one scan each, as Kiosk.file_request stores them; seconds."""
    started, picture = time.perf_counter(), noise_jpeg(scan_kb)
    applicant = {"name": "زهرا احمدی", "national_code": "0499370899", "mobile": "09121234567"}
    for first in range(0, records, 250):
        chunk = range(first, min(first + 250, records))
        files = [(str(uuid.uuid4()), n) for n in chunk]
        now = datetime.now(UTC)
        with store.unit_of_work() as unit:
            for doc_id, n in files:
                path = unit.write_file(doc_id, distinct(picture, n), ".jpg")
                code = unit.claim_code(lambda: tracking_codes.new_code(kiosk_id), service, now)
                client_id = str(uuid.uuid4())
                body = {"client_id": client_id, "service": service, "channel": "kiosk",
                        "applicant": applicant, "fields": fields, "tracking_code": code,
                        "catalog_version": 1, "created_at": now.isoformat()}
                request = unit.add_record(NewRecord(
                    kind="request", client_id=client_id, body=body, kiosk_time=now, ref=code,
                    service=service, catalog_version=1))
                unit.add_record(NewRecord(
                    kind="document", client_id=doc_id, body={"slot": slot, "filename": path.name},
                    kiosk_time=now, ref=code, service=service, depends_on=request, file=path,
                    media_type="image/jpeg", catalog_version=1))
    return time.perf_counter() - started


def sample_fields(service: str) -> dict[str, Any]:
    from counter_server.config import DEMO_CATALOG
    from counter_server.demo import sample_value
    from shared.catalog.loader import load_catalog

    spec = load_catalog(DEMO_CATALOG).service(service)
    assert spec is not None
    return {f.name: sample_value(f) for f in spec.form}


def drain(engine: SyncEngine) -> tuple[float, float, int, list[str]]:
    """Rounds until nothing is pending: (seconds, kiosk CPU seconds, rounds, errors)."""
    started, cpu, rounds, errors = time.perf_counter(), time.process_time(), 0, []
    while True:
        report = engine.run_once()
        rounds += 1
        if report.error:
            errors.append(report.error)
            time.sleep(0.5)
        if report.pending == 0 and report.ok:
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
            print(f"kiosk process CPU: {cpu:.1f} s of {seconds:.1f} s", flush=True)
            return seconds, cpu, rounds, errors
        if rounds > 1000:
            raise SystemExit(f"the outbox does not drain: {report.summary()}")


def server_counts(database_url: str) -> tuple[int, int]:
    from sqlalchemy import create_engine, text

    from counter_server.db import normalize_url

    engine = create_engine(normalize_url(database_url))
    with engine.connect() as connection:
        requests = connection.execute(text("SELECT COUNT(*) FROM requests")).scalar_one()
        documents = connection.execute(text("SELECT COUNT(*) FROM request_documents")
                                       ).scalar_one()
    engine.dispose()
    return int(requests), int(documents)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--records", type=int, default=10_000)
    parser.add_argument("--scan-kb", type=int, default=200)
    parser.add_argument("--server", default="gthread:2x8",
                        help="gthread:WxT or sync:N; null:N for a server that only says 201")
    parser.add_argument("--concurrency", type=int, default=KioskPolicy().concurrency,
                        help="chains the kiosk sends side by side (1: strictly one by one)")
    parser.add_argument("--database-url", default=f"sqlite:///{WORK / 'server.sqlite3'}")
    parser.add_argument("--one-by-one", action="store_true",
                        help="send each request and document separately, not as one filing")
    args = parser.parse_args()

    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    wipe_database(args.database_url)
    kiosk_id, token, service, slot = prepare_server(args.database_url)
    server = Gunicorn(args.database_url, args.server)
    server.start()
    try:
        config = kiosk_config(server.url, kiosk_id, token)
        with KioskStore(config.data_dir) as store:
            seeded = seed_kiosk(store, kiosk_id, service, slot, args.records, args.scan_kb,
                                sample_fields(service))
            print(f"seeded {args.records} requests + scans of {args.scan_kb} KB "
                  f"in {seeded:.1f} s (not timed below)", flush=True)
            settings: dict[str, Any] = {"enforce_queue_hours": False,
                                        "concurrency": args.concurrency}
            if "filings" in KioskPolicy.__dataclass_fields__:  # an app from before filings
                settings["filings"] = not args.one_by_one
            policy = KioskPolicy(**settings)
            engine = SyncEngine(config, store, policy=policy)
            load_before, server_cpu = os.getloadavg()[0], server.cpu_seconds()
            seconds, kiosk_cpu, rounds, errors = drain(engine)
            server_cpu = server.cpu_seconds() - server_cpu
            print(f"server CPU: {server_cpu:.1f} s", flush=True)
            counts = store.counts()
            left = sum(1 for _ in (config.data_dir / "outbox").iterdir())
    finally:
        server.stop()
    requests, documents = server_counts(args.database_url)
    if args.server.startswith("null"):
        requests = documents = args.records  # nothing is stored: only the kiosk is measured
    filings = "filings" in KioskPolicy.__dataclass_fields__ and not args.one_by_one
    posts = args.records if filings else 2 * args.records
    records = 2 * args.records  # a request and its document
    result = {"bench": "kiosk_sync", "at": datetime.now(UTC).isoformat(),
              "app": app_version(), "records": args.records, "scan_kb": args.scan_kb,
              "server": args.server, "concurrency": args.concurrency,
              "filings": filings, "load_before": round(load_before, 2),
              "server_cpu_seconds": round(server_cpu, 1),
              "server_cpu_ms_per_record": round(1000 * server_cpu / args.records, 2),
              "kiosk_cpu_seconds": round(kiosk_cpu, 1),
              "load_after": round(os.getloadavg()[0], 2), "database": args.database_url.split(":")[0],
              "seconds": round(seconds, 2), "posts_per_second": round(posts / seconds, 1),
              "rounds": rounds, "errors": errors[:5], "kiosk": counts,
              "files_left": left, "server_requests": requests, "server_documents": documents}
    with RESULTS.open("a", encoding="utf-8") as out:
        out.write(json.dumps(result, ensure_ascii=False) + "\n")
    print(json.dumps(result, ensure_ascii=False, indent=2))
    exact = requests == documents == args.records and counts["sent"] == records and not left
    print(f"drained {args.records} records ({posts} POSTs, {args.records * args.scan_kb / 1024:.0f}"
          f" MB of scans) in {seconds:.1f} s = {posts / seconds:.0f} POST/s; "
          f"exactly once: {'yes' if exact else 'NO'}")
    if not exact:
        sys.exit(1)


if __name__ == "__main__":
    main()
