"""Inquiries per second through the worker, and what background inquiries cost a filing.

    .venv/bin/python bench/inquiry_bench.py [--database-url URL] [--requests 3000]
        [--workers 2] [--threads 8] [--latency-ms 20] [--filings 400]

1. Throughput: fills the database with `--requests` kiosk requests for a service with one
   filing inquiry (the mobile check) — so as many inquiry jobs, and as many SMS jobs —, starts
   the agencies' stand-in answering in `--latency-ms`, then `--workers` worker processes
   (`flask worker --threads N`), and times until every inquiry job is done.
2. Filing latency: POST /api/v1/requests from a kiosk (which never waits for an inquiry),
   through the app in this process, against the demo catalog with its inquiries and against
   the same catalog without them; median and p95 of `--filings` each. And, separately, an
   online filing, which waits for the mobile check (the stand-in at `--latency-ms`).

The database is recreated (a PostgreSQL database named in the URL, never `test`; a SQLite
file under var/bench/). Prints its figures; record them in bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from pathlib import Path
from typing import Any

import common
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from counter_server import create_app, migrate
from counter_server.config import DEMO_CATALOG
from counter_server.context import database
from counter_server.db import normalize_url
from counter_server.demo import sample_value
from counter_server.usecases import kiosks, service_requests
from counter_server.usecases.catalog_versions import import_catalog
from shared import tracking_codes
from shared.catalog.loader import load_catalog
from shared.catalog.schema import Catalog

SERVICE = "tour-guide-card-renewal"  # one inquiry on filing (the mobile check)
APPLICANT = {"name": "زهرا احمدی", "national_code": "0499370899", "mobile": "09121234567"}
FLASK = [sys.executable, "-m", "flask", "--app", "counter_server"]


def recreate(url: str) -> None:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        Path(parsed.database or "").unlink(missing_ok=True)
        return
    if parsed.database in common.PROTECTED_DATABASES:
        raise SystemExit(f"refusing to wipe the database {parsed.database!r}")
    admin = create_engine(normalize_url(str(parsed.set(database="postgres"))),
                          isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{parsed.database}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{parsed.database}"'))
    admin.dispose()


def app_for(url: str, instance: Path, catalog: Catalog, **config: Any) -> Any:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench", "INSTANCE_PATH": str(instance),
                      "RATELIMIT_ENABLED": False, **config})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, catalog, source="bench")
    return app


def fields(catalog: Catalog) -> dict[str, Any]:
    spec = catalog.service(SERVICE)
    assert spec is not None
    return {f.name: sample_value(f) for f in spec.form}


def seed_requests(app: Any, catalog: Catalog, count: int) -> None:
    values = fields(catalog)
    with app.app_context(), database().transaction() as session:
        kiosk = kiosks.register_kiosk(session, "bench").kiosk
        for _ in range(count):
            service_requests.submit(session, service_requests.Submission(
                client_id=str(uuid.uuid4()), service=SERVICE, channel="kiosk",
                applicant=dict(APPLICANT), fields=values,
                tracking_code=tracking_codes.new_code(kiosk.id)), kiosk=kiosk)


def start(command: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(command, env=env, cwd=common.APP_ROOT,
                            stdout=log.open("wb"), stderr=subprocess.STDOUT)


def wait_for_keys(keys: Path) -> None:
    for _ in range(200):
        if keys.exists() and keys.stat().st_size:
            return
        time.sleep(0.05)
    raise SystemExit("the stand-in did not start")


def jobs_left(url: str) -> tuple[int, int]:
    engine = create_engine(normalize_url(url))
    with engine.connect() as connection:
        rows = dict(connection.execute(text(
            "SELECT kind, count(*) FROM jobs WHERE status <> 'done' GROUP BY kind")).all())
    engine.dispose()
    return rows.get("inquiry", 0), rows.get("sms", 0)


def throughput(args: argparse.Namespace, instance: Path, catalog: Catalog) -> dict[str, Any]:
    recreate(args.database_url)
    app = app_for(args.database_url, instance, catalog)
    started = time.perf_counter()
    seed_requests(app, catalog, args.requests)
    print(f"seeded {args.requests} requests in {time.perf_counter() - started:.1f} s",
          flush=True)
    keys = instance / "agency-standin-keys.json"
    keys.unlink(missing_ok=True)
    env = {**os.environ, "MIZ_INSTANCE_PATH": str(instance), "DATABASE_URL": args.database_url,
           "MIZ_INQUIRY_TOKEN": "bench-credential", "PYTHONPATH": str(common.APP_ROOT)}
    standin = start([*FLASK, "agency-standin", "--port", str(args.standin_port),
                     "--latency-ms", str(args.latency_ms)], env, instance / "standin.log")
    workers: list[subprocess.Popen[bytes]] = []
    try:
        wait_for_keys(keys)
        env |= {"MIZ_INQUIRY_URL": f"http://127.0.0.1:{args.standin_port}",
                "MIZ_INQUIRY_KEYS": str(keys)}
        began = time.perf_counter()
        workers = [start([*FLASK, "worker", "--threads", str(args.threads),
                          *(["--kind", "inquiry"] if args.inquiries_only else [])], env,
                         instance / f"worker-{n}.log") for n in range(args.workers)]
        inquiries_done_at = None
        while time.perf_counter() - began < args.limit:
            inquiries, sms = jobs_left(args.database_url)
            if inquiries == 0 and inquiries_done_at is None:
                inquiries_done_at = time.perf_counter()
            if inquiries == 0 and (sms == 0 or args.inquiries_only):
                break
            time.sleep(0.05)
        all_done_at = time.perf_counter()
    finally:
        for process in [*workers, standin]:
            process.terminate()
        for process in [*workers, standin]:
            process.wait(30)
    inquiry_seconds = (inquiries_done_at or all_done_at) - began
    return {"requests": args.requests, "workers": args.workers, "threads": args.threads,
            "latency_ms": args.latency_ms,
            "inquiry_seconds": round(inquiry_seconds, 2),
            "inquiries_per_second": round(args.requests / inquiry_seconds, 1),
            "all_jobs_seconds": round(all_done_at - began, 2),
            "jobs_per_second": round(2 * args.requests / (all_done_at - began), 1)}


def filing_latency(app: Any, catalog: Catalog, count: int, channel: str) -> dict[str, float]:
    client = app.test_client()
    values = fields(catalog)
    headers = {}
    with app.app_context(), database().transaction() as session:
        registration = kiosks.register_kiosk(session, f"bench-{uuid.uuid4().hex[:6]}")
        issuer, token = registration.kiosk.id, registration.token
    if channel == "kiosk":
        headers = {"Authorization": f"Bearer {token}"}
    timings = []
    for _ in range(count):
        body = {"client_id": str(uuid.uuid4()), "service": SERVICE, "channel": channel,
                "applicant": dict(APPLICANT), "fields": values}
        if channel == "kiosk":
            body["tracking_code"] = tracking_codes.new_code(issuer)
        began = time.perf_counter()
        response = client.post("/api/v1/requests", json=body, headers=headers)
        timings.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 201, response.get_json()
    timings.sort()
    return {"median_ms": round(statistics.median(timings), 2),
            "p95_ms": round(timings[int(len(timings) * 0.95) - 1], 2)}


def latency(args: argparse.Namespace, instance: Path, catalog: Catalog) -> dict[str, Any]:
    """Kiosk filings with the demo catalog's inquiries and without them, in alternating
    rounds (so the machine's other load falls on both alike); the median of each."""
    bare = catalog.model_copy(update={"services": [
        s.model_copy(update={"inquiries": []}) for s in catalog.services]})
    runs: dict[str, list[dict[str, float]]] = {"with_inquiries": [], "without_inquiries": []}
    for round_ in range(args.rounds):
        for name, which in (("with_inquiries", catalog), ("without_inquiries", bare)):
            recreate(args.database_url)
            app = app_for(args.database_url, instance / f"{name}-{round_}", which)
            filing_latency(app, which, 50, "kiosk")  # warm-up
            runs[name].append(filing_latency(app, which, args.filings, "kiosk"))
            print(name, round_, runs[name][-1], flush=True)
    results = {name: {key: round(statistics.median(r[key] for r in rounds), 2)
                      for key in ("median_ms", "p95_ms")} for name, rounds in runs.items()}
    results["extra_median_percent"] = round(
        100 * (results["with_inquiries"]["median_ms"] / results["without_inquiries"][
            "median_ms"] - 1), 1)
    return results


def online_check(args: argparse.Namespace, instance: Path, catalog: Catalog) -> dict[str, Any]:
    from tests.agency_standin import StandinServer

    recreate(args.database_url)
    with StandinServer(faults={"all": {"latency_ms": args.latency_ms}}) as standin:
        app = app_for(args.database_url, instance / "online", catalog)
        app.extensions["miz.bus"] = standin.bus()
        filing_latency(app, catalog, 20, "online")
        return filing_latency(app, catalog, min(args.filings, 200), "online")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/miz_bench")
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8)
    parser.add_argument("--latency-ms", type=int, default=20)
    parser.add_argument("--filings", type=int, default=400)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--standin-port", type=int, default=5078)
    parser.add_argument("--limit", type=float, default=300.0, help="seconds, at most")
    parser.add_argument("--only", choices=("throughput", "latency", "online"))
    parser.add_argument("--inquiries-only", action="store_true",
                        help="workers run inquiry jobs only (the SMS jobs wait)")
    args = parser.parse_args()
    instance = common.VAR_DIR / "inquiry-bench"
    instance.mkdir(parents=True, exist_ok=True)
    catalog = load_catalog(DEMO_CATALOG)
    report: dict[str, Any] = {"app": common.app_version(), "database": common.label(
        args.database_url)}
    if args.only in (None, "throughput"):
        report["throughput"] = throughput(args, instance, catalog)
        print("throughput", report["throughput"], flush=True)
    if args.only in (None, "latency"):
        report["filing_latency"] = latency(args, instance, catalog)
    if args.only in (None, "online"):
        report["online_filing_with_mobile_check"] = online_check(args, instance, catalog)
        print("online", report["online_filing_with_mobile_check"], flush=True)
    print(json.dumps(report, ensure_ascii=False, indent=2))


if __name__ == "__main__":
    main()
