"""Time the supervisors' reports on PostgreSQL with a million requests and a year of tickets.

    .venv/bin/python bench/seed_requests.py --recreate \
        --database-url postgresql://postgres@127.0.0.1:5432/miz_reports_bench      # 1M requests
    .venv/bin/python bench/report_bench.py --fill \
        --database-url postgresql://postgres@127.0.0.1:5432/miz_reports_bench      # + the rest
    .venv/bin/python bench/report_bench.py \
        --database-url postgresql://postgres@127.0.0.1:5432/miz_reports_bench      # time them

`--fill` completes what `seed_requests.py` left (one `submit` event per request): clerks and
counters, a `claim` event and an assignee for every request past `submitted`, the closing
`complete`/`reject` event at the request's last update, and a year of tickets (default 2,000
a day over both demo offices and their queues: waits, service times, no-shows, transfers,
with the `called` and `finished` events the lobby writes). Everything is generated inside
PostgreSQL (`INSERT … SELECT … generate_series`), then ANALYZEd.

The timing runs each report's use case (the database work and the figures) and its page (the
view, tables, charts and template, as a logged-in supervisor) `--repeat` times for the last 30
days and the last year, and prints the median and the slowest of the runs with the load
average. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable
from datetime import timedelta

import common
from sqlalchemy import create_engine, text

from counter_server import create_app
from counter_server.context import database
from counter_server.db import normalize_url, utcnow
from counter_server.models import User
from counter_server.usecases import catalog_versions, queue_report, request_report, reports
from counter_server.usecases.staff import Role, create_user
from shared import jalali

CLERKS = 12
COUNTERS = {"isfahan-hq": 8, "kashan": 4}
PASSWORD = "bench password for reports"


def log(message: str) -> None:
    print(time.strftime("%H:%M:%S"), message, flush=True)


def fill(url: str, tickets_per_day: int, days: int) -> None:
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), database().transaction() as session:
        snapshot = catalog_versions.current_snapshot(session)
        if session.query(User).filter(User.username == "bench-boss").count() == 0:
            create_user(session, "bench-boss", "سرپرست آزمون", Role.supervisor, PASSWORD, [])
            for index in range(CLERKS):
                create_user(session, f"bench-clerk-{index}", f"کارشناس آزمون {index + 1}",
                            Role.clerk, PASSWORD, [])
        queues = {office.slug: [q.slug for q in snapshot.catalog.queues_of(office)]
                  for office in snapshot.catalog.offices}
        first_service = {q.slug: q.services[0] for q in snapshot.catalog.queues}
    engine = create_engine(normalize_url(url))
    with engine.begin() as sql:
        clerks = [row[0] for row in sql.execute(text(
            "SELECT id FROM users WHERE username LIKE 'bench-clerk-%' ORDER BY id"))]
        for office, count in COUNTERS.items():
            for number in range(1, count + 1):
                sql.execute(text(
                    "INSERT INTO counters (office_slug, number, name, queues, active) "
                    "VALUES (:o, :n, :name, CAST(:q AS json), true) ON CONFLICT DO NOTHING"),
                    {"o": office, "n": number, "name": f"باجه {number}",
                     "q": '["' + '","'.join(queues[office]) + '"]'})
        counters = [row for row in sql.execute(text(
            "SELECT id, office_slug FROM counters ORDER BY office_slug, number"))]
        clerk_array = "ARRAY[" + ",".join(map(str, clerks)) + "]"
        started = time.perf_counter()
        sql.execute(text(f"""
            UPDATE requests SET assigned_to_id = ({clerk_array})[1 + id % {len(clerks)}]
            WHERE status <> 'submitted' AND assigned_to_id IS NULL"""))
        sql.execute(text(f"""
            INSERT INTO request_events (request_id, at, action, actor, user_id, from_status,
                                        to_status, step, details)
            SELECT id, created_at + (updated_at - created_at) * 0.2, 'claim', 'staff',
                   assigned_to_id, 'submitted', 'in_review', current_step, '{{}}'
            FROM requests WHERE status <> 'submitted'"""))
        sql.execute(text("""
            INSERT INTO request_events (request_id, at, action, actor, user_id, from_status,
                                        to_status, step, details)
            SELECT id, updated_at, CASE status WHEN 'completed' THEN 'complete' ELSE 'reject'
                   END, 'staff', assigned_to_id, 'in_review', status, current_step, '{}'
            FROM requests WHERE status IN ('completed', 'rejected')"""))
        log(f"request events and assignees added ({time.perf_counter() - started:.1f} s)")
        started = time.perf_counter()
        sql.execute(text("DELETE FROM ticket_events"))
        sql.execute(text("DELETE FROM tickets"))
        # One row per (day, n): office, queue and counter from n; times from random().
        office_of = "CASE WHEN n % 3 = 0 THEN 'kashan' ELSE 'isfahan-hq' END"
        queue_cases = " ".join(
            f"WHEN {office_of} = '{office}' AND n % {len(qs)} = {i} THEN '{q}'"
            for office, qs in queues.items() for i, q in enumerate(qs))
        service_cases = " ".join(f"WHEN '{q}' THEN '{s}'" for q, s in first_service.items())
        by_office = {o: [c for c, office in counters if office == o] for o in COUNTERS}
        counter_cases = " ".join(
            f"WHEN '{o}' THEN (ARRAY[{','.join(map(str, ids))}])[1 + n % {len(ids)}]"
            for o, ids in by_office.items())
        today = jalali.local_now().date()
        sql.execute(text(f"""
            INSERT INTO tickets (public_id, client_id, body_digest, office_slug, queue_slug,
                service_slug, day, number, status, issued_at, received_at, counter_id,
                called_by_id, called_at, serving_started_at, finished_at, recalls)
            SELECT substr(md5(d::text || '-' || n), 1, 16),
                   CAST(md5('t' || d::text || '-' || n) AS uuid)::text, repeat('0', 64),
                   office, queue, CASE queue {service_cases} END, day, n, status,
                   issued, issued, counter, ({clerk_array})[1 + counter % {len(clerks)}],
                   called, CASE WHEN status = 'done' THEN called + interval '20 seconds' END,
                   CASE status WHEN 'done' THEN called + interval '20 seconds'
                                          + make_interval(secs => 120 + random() * 900)
                               WHEN 'no_show' THEN called + interval '3 minutes' END, 0
            FROM (
              SELECT d, n, day, office, queue, issued, counter, status,
                     CASE WHEN status <> 'closed' THEN issued
                          + make_interval(secs => power(random(), 2) * 3600) END AS called
              FROM (
                SELECT d, n, (DATE '{today.isoformat()}' - d) AS day,
                       {office_of} AS office,
                       CASE {queue_cases} END AS queue,
                       ((DATE '{today.isoformat()}' - d) + TIME '04:30')
                         + make_interval(secs => n * 25200.0 / {tickets_per_day}) AS issued,
                       CASE {office_of} {counter_cases} END AS counter,
                       CASE WHEN random() < 0.93 THEN 'done' WHEN random() < 0.7 THEN 'no_show'
                            ELSE 'closed' END AS status
                FROM generate_series(1, {days}) AS d, generate_series(1, {tickets_per_day}) AS n
              ) AS base
            ) AS timed"""))
        sql.execute(text("""
            INSERT INTO ticket_events (office_slug, ticket_id, action, counter_id, user_id, at)
            SELECT office_slug, id, 'called', counter_id, called_by_id, called_at
            FROM tickets WHERE called_at IS NOT NULL
            UNION ALL
            SELECT office_slug, id, CASE status WHEN 'done' THEN 'finish' ELSE 'no_show' END,
                   counter_id, called_by_id, finished_at
            FROM tickets WHERE status IN ('done', 'no_show')
            UNION ALL
            SELECT office_slug, id, 'transferred', counter_id, called_by_id, called_at
            FROM tickets WHERE id % 33 = 0 AND called_at IS NOT NULL"""))
        log(f"{days} days of {tickets_per_day} tickets added "
            f"({time.perf_counter() - started:.1f} s)")
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as sql:
        sql.execute(text("VACUUM ANALYZE"))
        for table in ("requests", "request_events", "tickets", "ticket_events"):
            count = sql.execute(text(f"SELECT count(*) FROM {table}")).scalar()
            log(f"{table}: {count:,} rows")
    engine.dispose()


def timed(run: Callable[[], object], repeat: int) -> tuple[float, float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        times.append(time.perf_counter() - started)
    return statistics.median(times), max(times)


def measure(url: str, repeat: int) -> None:
    from flask_login import login_user

    from counter_server.desk import reports as pages

    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench"})
    with app.app_context(), database().session() as session:
        snapshot = catalog_versions.current_snapshot(session)
        today = snapshot.calendar.local_date(utcnow())
        boss_id = session.query(User.id).filter(User.username == "bench-boss").scalar()
    ranges = {"30 days": today - timedelta(days=29), "365 days": today - timedelta(days=364)}
    print(f"app {common.app_version()}; load average at start "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print("| report | range | use case median s | use case max s | page median s | page max s |")
    print("| --- | --- | ---: | ---: | ---: | ---: |")
    for label, start in ranges.items():
        query = (f"from={jalali.jalali_string(start).replace('/', '-')}"
                 f"&to={jalali.jalali_string(today).replace('/', '-')}")
        filters = reports.Filters(date_from=start, date_to=today)
        cases = {
            "queue": (lambda s: queue_report.report(s, snapshot, filters),
                      pages.queue_report_page, "/desk/reports/queue"),
            "requests": (lambda s: request_report.report(s, snapshot, filters, today),
                         pages.requests_report_page, "/desk/reports/requests"),
            "satisfaction": (None, pages.satisfaction_report, "/desk/reports/satisfaction"),
        }
        for name, (use_case, view, path) in cases.items():
            case_median = case_max = float("nan")
            if use_case is not None:
                def run_case(use_case: Callable = use_case) -> None:
                    with app.app_context(), database().session() as session:
                        use_case(session)
                case_median, case_max = timed(run_case, repeat)

            def run_page(view: Callable = view, path: str = path) -> None:
                with app.test_request_context(f"{path}?{query}"):
                    with database().session() as session:
                        login_user(session.get(User, boss_id))
                    view.__wrapped__()
            page_median, page_max = timed(run_page, repeat)
            print(f"| {name} | {label} | {case_median:.2f} | {case_max:.2f} | "
                  f"{page_median:.2f} | {page_max:.2f} |", flush=True)
    print(f"load average at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=common.DEFAULT_PG_URL)
    parser.add_argument("--fill", action="store_true", help="add clerks, events and tickets")
    parser.add_argument("--tickets-per-day", type=int, default=2000)
    parser.add_argument("--days", type=int, default=365)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if args.fill:
        fill(args.database_url, args.tickets_per_day, args.days)
    measure(args.database_url, args.repeat)


if __name__ == "__main__":
    main()
