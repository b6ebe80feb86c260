"""Seed a benchmark database with N requests (one `submit` event each), fast.

    .venv/bin/python bench/seed_requests.py --count 1000000 --recreate   # var/bench/miz.sqlite3
    .venv/bin/python bench/seed_requests.py \
        --database-url postgresql://postgres@127.0.0.1:5432/miz_bench --count 1000000 --recreate

What it does: creates the database if needed (`--recreate` drops it first; the test suite's
`test` database is refused), runs the app's migrations, imports the demo catalog, registers a
kiosk, then inserts the rows in chunks — sqlite3 `executemany` on SQLite, `COPY` on
PostgreSQL — and ANALYZEs. It writes `var/bench/<label>.codes.txt` (sample codes that exist)
and `var/bench/<label>.token` (the kiosk's bearer token), then reads one sample back through
the app's own tracking code as a check.

The rows look like a real agency's last two years: services weighted by popularity, channels
as each service offers them (online, kiosk with the kiosk's issuer number, counter), requests
past their due date mostly completed or rejected, recent ones still open.
"""

from __future__ import annotations

import argparse
import bisect
import itertools
import json
import os
import random
import secrets
import sys
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import common
from sqlalchemy import create_engine, func, inspect, select, text
from sqlalchemy.engine import make_url

from counter_server import migrate
from counter_server.config import DEMO_CATALOG
from counter_server.db import Database, normalize_url
from counter_server.demo import sample_value
from counter_server.models import Kiosk, ServiceRequest
from counter_server.usecases import catalog_versions
from counter_server.usecases import kiosks, service_requests, public_tracking
from shared.catalog.loader import load_catalog
from shared.tracking_codes import RANDOM_DIGITS, damm_check_digit
from shared.validators import national_code_check_digit
from shared.workflow import FINAL

KIOSK_NAME = "کیوسک آزمون سرعت"
SERVER_ISSUER = 0

REQUEST_COLUMNS = (
    "id", "tracking_code", "client_id", "body_digest", "service_slug", "catalog_version",
    "channel", "kiosk_id", "applicant_name", "applicant_national_code", "applicant_mobile",
    "fields", "status", "current_step", "flags", "decision_reason", "due_date",
    "client_created_at", "created_at", "updated_at", "check_failures",
)
EVENT_COLUMNS = ("id", "request_id", "at", "action", "actor", "to_status", "step", "details")

# Relative popularity (services not listed weigh 2).
POPULARITY = {
    "general-correspondence": 14, "records-certificate": 12, "tour-guide-card-renewal": 10,
    "tourism-complaint": 9, "handicraft-artisan-id-card": 9, "tour-guide-card": 8,
    "comprehensive-tourism-exam": 8, "information-access-request": 6,
    "travel-agency-licence-renewal": 4, "heritage-filming-permit": 3,
}
CHANNEL_SHARE = {"online": 55, "kiosk": 30, "counter": 15}
ACTOR = {"online": "citizen", "kiosk": "kiosk", "counter": "staff"}
# Status mix of requests still within their promised time, and of those past it.
OPEN_MIX = {"submitted": 30, "in_review": 25, "in_progress": 25, "waiting_citizen": 10,
            "approved": 5, "rejected": 3, "completed": 2}
FRESH_MIX = {"submitted": 70, "in_review": 20, "in_progress": 10}
PAST_DUE_MIX = {"completed": 78, "rejected": 12, "approved": 2, "in_progress": 3,
                "in_review": 2, "waiting_citizen": 2, "submitted": 1}
REJECTION = "مدارک ارائه‌شده کامل نبود و در مهلت مقرر تکمیل نشد."

FIRST_NAMES = ("زهرا", "فاطمه", "مریم", "محمد", "علی", "حسین", "رضا", "سارا", "نرگس", "مهدی",
               "امیر", "کوثر", "حمید", "لیلا", "مجید", "پریسا", "یاسمن", "بهرام", "شیرین", "کاوه")
LAST_NAMES = ("احمدی", "محمدی", "حسینی", "رضایی", "کریمی", "موسوی", "جعفری", "صادقی", "نوری",
              "اصفهانی", "کاظمی", "رحیمی", "قاسمی", "هاشمی", "شریفی", "طاهری", "ملکی", "زمانی")


def log(message: str) -> None:
    print(message, flush=True)


# Database ----------------------------------------------------------------------------------

def prepare_database(url: str, recreate: bool) -> None:
    """Create (or with `recreate`, drop and create) the database `url` names."""
    parsed = make_url(normalize_url(url))
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        if not parsed.database or parsed.database == ":memory:":
            sys.exit("seed_requests: give a file database (sqlite:////abs/path.sqlite3)")
        path.parent.mkdir(parents=True, exist_ok=True)
        if recreate:
            for suffix in ("", "-wal", "-shm", "-journal"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        return
    name = parsed.database
    if not name or name in common.PROTECTED_DATABASES:
        sys.exit(f"seed_requests: refusing to use the database {name!r}; "
                 "give the bench its own (e.g. miz_bench)")
    admin = create_engine(parsed.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        exists = connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"),
                                   {"n": name})
        if exists and recreate:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
            exists = False
        if not exists:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
    admin.dispose()


def setup_app_data(db: Database) -> tuple[catalog_versions.Snapshot, int, str]:
    """Schema, demo catalog and kiosk: returns (snapshot, kiosk issuer, kiosk token)."""
    migrate.upgrade(db)
    if "requests" in inspect(db.engine).get_table_names():
        with db.session() as session:
            if session.scalar(select(func.count()).select_from(ServiceRequest)):
                sys.exit("seed_requests: the database already holds requests; "
                         "pass --recreate to start over")
    catalog = load_catalog(DEMO_CATALOG)
    with db.transaction() as session:
        catalog_versions.import_catalog(session, catalog, source=str(DEMO_CATALOG))
        existing = session.scalar(select(Kiosk).where(Kiosk.name == KIOSK_NAME))
        if existing is not None:  # a re-run on an emptied database: a new token
            existing.token_hash = kiosks.hash_token(token := secrets.token_urlsafe(32))
            issuer = existing.id
        else:
            registration = kiosks.register_kiosk(session, KIOSK_NAME)
            issuer, token = registration.kiosk.id, registration.token
    with db.session() as session:
        snapshot = catalog_versions.current_snapshot(session)
    return snapshot, issuer, token


# Rows --------------------------------------------------------------------------------------

class Chooser:
    """Weighted choice with a precomputed cumulative table (random.choices is slower per call)."""

    def __init__(self, rng: random.Random, weights: dict[str, int]):
        self.rng, self.keys = rng, list(weights)
        self.cumulative = list(itertools.accumulate(weights.values()))
        self.total = self.cumulative[-1]

    def __call__(self) -> str:
        return self.keys[bisect.bisect_right(self.cumulative, self.rng.random() * self.total)]


class RowMaker:
    def __init__(self, snapshot: catalog_versions.Snapshot, kiosk_issuer: int, count: int,
                 days: int, seed: int):
        self.rng = rng = random.Random(seed)
        self.snapshot, self.kiosk_issuer, self.count = snapshot, kiosk_issuer, count
        self.calendar = snapshot.calendar
        services = snapshot.catalog.services
        self.pick_service = Chooser(rng, {s.slug: POPULARITY.get(s.slug, 2) for s in services})
        self.specs = {s.slug: s for s in services}
        self.channels = {s.slug: Chooser(rng, {c: w for c, w in CHANNEL_SHARE.items()
                                               if c in {ch.value for ch in s.channels}})
                         for s in services}
        self.fields_json = {s.slug: json.dumps({f.name: sample_value(f) for f in s.form})
                            for s in services}
        self.mixes = {name: Chooser(rng, mix) for name, mix in
                      (("open", OPEN_MIX), ("fresh", FRESH_MIX), ("past", PAST_DUE_MIX))}
        self.now = datetime.now(UTC).replace(tzinfo=None)
        self.start = self.now - timedelta(days=days)
        self.span = (self.now - self.start).total_seconds()
        self.due_cache: dict[tuple[str, date], date] = {}
        self.codes: set[str] = set()
        self.today = self.calendar.local_date(self.now.replace(tzinfo=UTC))

    def code(self, issuer: int) -> str:
        while True:
            body = f"{issuer:02d}{self.rng.getrandbits(44) % 10**RANDOM_DIGITS:013d}"
            code = body + str(damm_check_digit(body))
            if code not in self.codes:
                self.codes.add(code)
                return code

    def national_code(self) -> str:
        first = f"{self.rng.randrange(1, 10**9):09d}"
        return first + str(national_code_check_digit(first))

    def due(self, slug: str, created: datetime) -> date:
        key = (slug, created.date())
        due = self.due_cache.get(key)
        if due is None:
            duration = self.specs[slug].duration
            aware = created.replace(tzinfo=UTC)
            if duration.unit.value == "working_hours":
                due = self.calendar.add_working_hours(aware, duration.value).date()
            else:
                due = self.calendar.add_working_days(aware, duration.value)
            self.due_cache[key] = due
        return due

    def rows(self, first_id: int, n: int) -> Iterator[tuple[tuple, tuple]]:
        """Rows `first_id`…`first_id + n - 1`, created in time order across the whole run."""
        rng, now = self.rng, self.now
        offsets = sorted(rng.random() for _ in range(n))
        step = self.span / self.count
        for i, offset in enumerate(offsets):
            row_id = first_id + i
            created = self.start + timedelta(seconds=(row_id - 1 + offset) * step)
            slug = self.pick_service()
            spec = self.specs[slug]
            steps = len(spec.steps)
            channel = self.channels[slug]()
            due = self.due(slug, created)
            age = now - created
            if age < timedelta(days=2):
                status = self.mixes["fresh"]()
            elif self.today <= due:
                status = self.mixes["open"]()
            else:
                status = self.mixes["past"]()
            first_step = min(1, steps - 1)
            if status in ("submitted", "in_review"):
                current = first_step
            elif status in ("approved", "completed"):
                current = steps - 1
            else:
                current = rng.randint(first_step, steps - 1)
            updated = created if status == "submitted" else created + age * rng.random()
            kiosk = channel == "kiosk"
            issuer = self.kiosk_issuer if kiosk else SERVER_ISSUER
            request = (
                row_id, self.code(issuer), str(uuid.UUID(int=rng.getrandbits(128), version=4)),
                f"{rng.getrandbits(256):064x}", slug, self.snapshot.version, channel,
                self.kiosk_issuer if kiosk else None,
                f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}", self.national_code(),
                f"09{rng.randrange(10**9):09d}", self.fields_json[slug], status,
                spec.steps[current].id, "[]",
                REJECTION if status == "rejected" else None, due,
                created - timedelta(seconds=rng.randint(1, 90)) if kiosk else None,
                created, updated, 0,
            )
            event = (row_id, row_id, created, "submit", ACTOR[channel], "submitted",
                     spec.steps[first_step].id, "{}")
            yield request, event


# Writers -----------------------------------------------------------------------------------

def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):  # SQLAlchemy's SQLite storage format for DateTime
        return value.isoformat(" ", "microseconds")
    if isinstance(value, date):
        return value.isoformat()
    return value


def write_sqlite(db: Database, chunks: Iterator[list[tuple[tuple, tuple]]]) -> None:
    raw = db.engine.raw_connection()
    try:
        connection: Any = raw.driver_connection  # sqlite3.Connection
        connection.execute("PRAGMA synchronous = OFF")  # this connection only: a bulk load
        insert_requests = (f"INSERT INTO requests ({', '.join(REQUEST_COLUMNS)}) "
                           f"VALUES ({', '.join('?' * len(REQUEST_COLUMNS))})")
        insert_events = (f"INSERT INTO request_events ({', '.join(EVENT_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(EVENT_COLUMNS))})")
        for chunk in chunks:
            connection.execute("BEGIN")
            connection.executemany(insert_requests, (tuple(map(_sqlite_value, r))
                                                     for r, _ in chunk))
            connection.executemany(insert_events, (tuple(map(_sqlite_value, e))
                                                   for _, e in chunk))
            connection.execute("COMMIT")
        connection.execute("PRAGMA synchronous = NORMAL")
    finally:
        raw.close()


def write_postgresql(db: Database, chunks: Iterator[list[tuple[tuple, tuple]]]) -> None:
    raw = db.engine.raw_connection()
    try:
        connection: Any = raw.driver_connection  # psycopg.Connection
        for chunk in chunks:
            with connection.transaction(), connection.cursor() as cursor:
                with cursor.copy(f"COPY requests ({', '.join(REQUEST_COLUMNS)}) "
                                 "FROM STDIN") as copy:
                    for request, _ in chunk:
                        copy.write_row(request)
                with cursor.copy(f"COPY request_events ({', '.join(EVENT_COLUMNS)}) "
                                 "FROM STDIN") as copy:
                    for _, event in chunk:
                        copy.write_row(event)
        with connection.transaction():  # the ids were given: move the sequences past them
            for table in ("requests", "request_events"):
                connection.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT max(id) FROM {table}))")
    finally:
        raw.close()


def analyze(db: Database) -> None:
    if db.dialect == "sqlite":
        with db.engine.connect() as connection:
            connection.exec_driver_sql("ANALYZE")
            connection.commit()
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        return
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.exec_driver_sql("VACUUM ANALYZE requests")
        connection.exec_driver_sql("VACUUM ANALYZE request_events")


# Main --------------------------------------------------------------------------------------

def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=common.DEFAULT_SQLITE_URL)
    parser.add_argument("--count", type=int, default=1_000_000)
    parser.add_argument("--chunk", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=730, help="spread over the last N days")
    parser.add_argument("--sample", type=int, default=10_000, help="codes written for the load")
    parser.add_argument("--seed", type=int, default=1405)
    parser.add_argument("--recreate", action="store_true",
                        help="drop the database (SQLite: delete the file) first")
    args = parser.parse_args()
    url = args.database_url

    started = time.perf_counter()
    prepare_database(url, args.recreate)
    db = Database(url)
    snapshot, issuer, token = setup_app_data(db)
    log(f"app {common.app_version()} from {common.APP_ROOT}")
    log(f"schema, catalog v{snapshot.version} and kiosk {issuer:02d} ready "
        f"({time.perf_counter() - started:.1f} s) on {db.engine.url.render_as_string()}")

    maker = RowMaker(snapshot, issuer, args.count, args.days, args.seed)
    picked = set(random.Random(args.seed + 1).sample(range(1, args.count + 1),
                                                     min(args.sample, args.count)))
    sample: list[str] = []
    done = 0
    load_started = time.perf_counter()

    def chunks() -> Iterator[list[tuple[tuple, tuple]]]:
        nonlocal done
        for first in range(1, args.count + 1, args.chunk):
            n = min(args.chunk, args.count - first + 1)
            chunk = list(maker.rows(first, n))
            sample.extend(r[1] for r, _ in chunk if r[0] in picked)
            yield chunk
            done += n
            elapsed = time.perf_counter() - load_started
            if done % (args.chunk * 10) == 0 or done == args.count:
                log(f"  {done:>9,} requests + events  {done / elapsed:>8,.0f} requests/s")

    (write_sqlite if db.dialect == "sqlite" else write_postgresql)(db, chunks())
    load_seconds = time.perf_counter() - load_started
    analyze_started = time.perf_counter()
    analyze(db)
    log(f"inserted {args.count:,} requests and {args.count:,} events in {load_seconds:.1f} s: "
        f"{args.count / load_seconds:,.0f} requests/s "
        f"({2 * args.count / load_seconds:,.0f} rows/s);"
        f" ANALYZE {time.perf_counter() - analyze_started:.1f} s")

    common.VAR_DIR.mkdir(parents=True, exist_ok=True)
    random.Random(args.seed + 2).shuffle(sample)
    codes_path, token_path = common.codes_file(url), common.token_file(url)
    codes_path.write_text("".join(f"{c}\n" for c in sample))
    fd = os.open(token_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(token + "\n")
    log(f"wrote {len(sample):,} sample codes to {codes_path} and the kiosk token to {token_path}")

    # Read one back the way the app does: it must be a valid, trackable request.
    with db.session() as session:
        item = service_requests.find_by_code(session, sample[0])
        assert item is not None, sample[0]
        view = public_tracking.public_view(item, catalog_versions.current_snapshot(session))
        assert view.status.value == item.status and (view.status in FINAL) == (
            item.status in ("completed", "rejected"))
        counts = dict(session.execute(select(ServiceRequest.status, func.count())
                                      .group_by(ServiceRequest.status)).all())
    log(f"check: {sample[0]} → {view.service_slug}, {view.status_label}, due {view.due_date}")
    log("statuses: " + ", ".join(f"{k} {v:,}" for k, v in sorted(counts.items())))
    if db.dialect == "sqlite":
        size = sum(Path(f"{make_url(url).database}{s}").stat().st_size
                   for s in ("", "-wal") if Path(f"{make_url(url).database}{s}").exists())
        log(f"database file: {size / 2**20:,.0f} MiB")
    else:
        with db.engine.connect() as connection:
            size = connection.scalar(text("SELECT pg_database_size(current_database())"))
        log(f"database size: {size / 2**20:,.0f} MiB")
    log(f"total {time.perf_counter() - started:.1f} s")
    db.dispose()


if __name__ == "__main__":
    main()
