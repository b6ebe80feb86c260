"""The background side of the server: the worker that runs jobs, and its commands.

    flask --app counter_server worker [--once] [--threads N]
    flask --app counter_server inquiries verify-log
    flask --app counter_server inquiries purge
    flask --app counter_server uploads sweep

The worker runs `inquiry` jobs (asking other agencies through the bus), `sms` jobs (handing
messages to the SMS provider) and `sms-status` jobs (asking after their delivery). Settings
(each also a `MIZ_` environment variable):
`WORKER_THREADS`, `JOB_LEASE_SECONDS`, `INQUIRY_TIME_LIMIT_SECONDS`, `CIRCUIT_THRESHOLD`,
`CIRCUIT_COOL_DOWN_SECONDS`, `INQUIRY_TARIFFS` (JSON: target → daily_quota, cost_rials) and
`INQUIRY_RETENTION_DAYS` (after which the bodies of exchanges, which hold personal data, are
removed; their digests stay), `SMS_DAILY_BUDGET_PARTS`, `SMS_RECEIPT_DELAY_SECONDS`,
`SMS_QUIET_HOURS` (Tehran time, "22:00-07:00" by default, empty for none: only one-time codes
go out then), `SMS_TEMPLATES` (JSON: event → Persian template, see `shared/sms_texts.py`) and
`SMS_QUEUE_NEAR_AHEAD` (a queue ticket given with a mobile is told by SMS once this many people
are ahead of it; 3 by default, empty for never).

The worker is also the server's housekeeper: when it starts and every hour after it purges
old evidence and sweeps the uploads folder of half-written files and files no row names
(`usecases/stored_files.py`) once they are `UPLOADS_SWEEP_AFTER_SECONDS` old (3600).
"""

from __future__ import annotations

import json
import signal
import threading
from datetime import time, timedelta
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext

from counter_server.context import database
from counter_server.db import utcnow
from counter_server.jobs.circuit import CircuitPolicy
from counter_server.jobs.queue import Backoff
from counter_server.jobs.usage import Tariff
from counter_server.jobs.worker import Handler, Worker, WorkerSettings
from counter_server.storage import LocalStorage, S3Storage
from counter_server.usecases import (
    catalog_versions,
    evidence,
    inquiries,
    notifications,
    stored_files,
)
from shared.catalog.schema import CalendarSpec
from shared.workcalendar import WorkCalendar

MAINTENANCE_SECONDS = 3600.0


def defaults() -> dict[str, Any]:
    return {
        "WORKER_THREADS": 4,
        "JOB_LEASE_SECONDS": 60,
        "INQUIRY_TIME_LIMIT_SECONDS": 10.0,
        "INQUIRY_BEFORE_FILING_SECONDS": 2.0,
        "CIRCUIT_THRESHOLD": 5,
        "CIRCUIT_COOL_DOWN_SECONDS": 60,
        "INQUIRY_TARIFFS": {},
        "INQUIRY_RETENTION_DAYS": 90,
        "SMS_DAILY_BUDGET_PARTS": None,
        "SMS_QUIET_HOURS": "22:00-07:00",
        "SMS_TEMPLATES": {},
        "SMS_RECEIPT_DELAY_SECONDS": 30,
        "SMS_QUEUE_NEAR_AHEAD": 3,
        "UPLOADS_SWEEP_AFTER_SECONDS": 3600,
    }


def _tariffs(config: dict[str, Any]) -> dict[str, Tariff]:
    raw = config["INQUIRY_TARIFFS"]
    table = json.loads(raw) if isinstance(raw, str) else raw
    return {target: Tariff(**values) for target, values in table.items()}


def settings(config: dict[str, Any], threads: int | None = None) -> WorkerSettings:
    return WorkerSettings(
        threads=threads or int(config["WORKER_THREADS"]),
        lease=timedelta(seconds=float(config["JOB_LEASE_SECONDS"])),
        time_limit=timedelta(seconds=float(config["INQUIRY_TIME_LIMIT_SECONDS"])),
        backoff=Backoff(),
        circuit=CircuitPolicy(threshold=int(config["CIRCUIT_THRESHOLD"]),
                              cool_down=timedelta(seconds=float(
                                  config["CIRCUIT_COOL_DOWN_SECONDS"]))),
        tariffs=_tariffs(config))


def quiet_hours(text: str | None) -> tuple[time, time] | None:
    """"22:00-07:00" as two times; None for no quiet hours (an empty setting)."""
    if not text:
        return None
    starts, _, ends = str(text).partition("-")
    return time.fromisoformat(starts.strip()), time.fromisoformat(ends.strip())


def sms_policy(config: dict[str, Any]) -> notifications.SmsPolicy:
    budget = config.get("SMS_DAILY_BUDGET_PARTS")
    return notifications.SmsPolicy(
        quiet_hours=quiet_hours(config.get("SMS_QUIET_HOURS")),
        daily_budget_parts=int(budget) if budget else None,
        receipt_delay=timedelta(seconds=float(config["SMS_RECEIPT_DELAY_SECONDS"])))


def queue_near_ahead(config: dict[str, Any]) -> int | None:
    """`SMS_QUEUE_NEAR_AHEAD` as a number of people, or None (never tell) when empty."""
    value = config.get("SMS_QUEUE_NEAR_AHEAD")
    return None if value in (None, "") else max(0, int(value))


def handlers(app: Flask) -> dict[str, Handler]:
    sms = app.extensions["miz.sms"]
    return {inquiries.JOB_KIND: inquiries.handler(app.extensions["miz.bus"]),
            notifications.JOB_KIND: notifications.handler(sms, sms_policy(app.config)),
            notifications.STATUS_JOB_KIND: notifications.status_handler(sms)}


def _calendar() -> WorkCalendar:
    try:
        with database().session() as session:
            return catalog_versions.current_snapshot(session).calendar
    except catalog_versions.NoCatalog:
        return WorkCalendar.from_spec(CalendarSpec())


def make_worker(app: Flask, threads: int | None = None,
                kinds: tuple[str, ...] = ()) -> Worker:
    """The worker for `app`'s database, bus and gateway (call inside an app context); it
    runs only jobs of `kinds` when given (e.g. workers for inquiries, others for SMS)."""
    chosen = {kind: run for kind, run in handlers(app).items() if not kinds or kind in kinds}
    return Worker(database(), chosen, _calendar(), settings(app.config, threads))


def purge_old_evidence(app: Flask) -> int:
    now = utcnow()
    before = now - timedelta(days=float(app.config["INQUIRY_RETENTION_DAYS"]))
    with database().transaction() as session:
        return evidence.purge(session, before, now)


def sweep_uploads(app: Flask) -> stored_files.Swept:
    """Delete the uploads nothing names, and half-written ones, past the grace period."""
    before = utcnow() - timedelta(seconds=float(app.config["UPLOADS_SWEEP_AFTER_SECONDS"]))
    with database().session() as session:
        return stored_files.sweep(session, app.extensions["miz.storage"], before)


def _swept_line(swept: stored_files.Swept) -> str:
    return (f"{swept.orphans} stored file(s) no row names and {swept.partial} half-written "
            "one(s) deleted.")


@click.command("worker")
@click.option("--once", is_flag=True, help="Run every job that is due, then exit.")
@click.option("--threads", type=int, default=None, help="Jobs in flight at once.")
@click.option("--kind", "kinds", multiple=True,
              type=click.Choice(["inquiry", "sms", "sms-status"]),
              help="Run only jobs of this kind (repeat); every kind by default.")
@with_appcontext
def worker_command(once: bool, threads: int | None, kinds: tuple[str, ...]) -> None:
    """Run background jobs (inquiries, SMS) until stopped; SIGTERM lets jobs in hand end."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    runner = make_worker(app, threads, kinds)
    if once:
        report = runner.run_once()
        purged = purge_old_evidence(app)
        click.echo(f"{report.done} done, {report.retried} to retry, {report.dead} given up, "
                   f"{report.postponed} postponed; {purged} old exchange(s) purged.")
        swept = sweep_uploads(app)
        if swept.orphans or swept.partial:
            click.echo(_swept_line(swept))
        return
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    maintenance = threading.Thread(target=_maintain, args=(app, stop), daemon=True)
    maintenance.start()
    click.echo(f"Worker {runner.name}: {runner.settings.threads} lane(s); Ctrl-C to stop.")
    runner.run_forever(stop)
    click.echo("Worker stopped.")


def _maintain(app: Flask, stop: threading.Event) -> None:
    with app.app_context():
        while not stop.is_set():
            purge_old_evidence(app)
            swept = sweep_uploads(app)
            if swept.orphans or swept.partial:
                app.logger.info(_swept_line(swept))
            stop.wait(MAINTENANCE_SECONDS)


inquiries_cli = AppGroup("inquiries", help="The evidence log of inquiries to other agencies.")


@inquiries_cli.command("verify-log")
def verify_log_command() -> None:
    """Check every request's evidence chain; exit 1 if an entry was changed or removed."""
    with database().session() as session:
        checked, problems = evidence.verify(session)
    for problem in problems:
        click.echo(str(problem), err=True)
    click.echo(f"{checked} exchange(s) checked, {len(problems)} problem(s).")
    if problems:
        raise SystemExit(1)


@inquiries_cli.command("purge")
def purge_command() -> None:
    """Remove the personal data of exchanges older than the retention period."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(f"{purge_old_evidence(app)} exchange(s) purged.")


uploads_cli = AppGroup("uploads", help="The uploaded and delivered documents' files.")


@uploads_cli.command("sweep")
def sweep_command() -> None:
    """Delete half-written files and files no row names, older than the grace period."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    click.echo(_swept_line(sweep_uploads(app)))


@uploads_cli.command("migrate-to-s3")
@click.option("--remove-local", is_flag=True,
              help="Delete each local file once it is in the object store.")
def migrate_to_s3_command(remove_local: bool) -> None:
    """Copy the documents in MIZ_UPLOADS_DIR to the object store MIZ_STORAGE=s3 names; run it
    again after a stop: what is already there is skipped."""
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    target = app.extensions["miz.storage"]
    if not isinstance(target, S3Storage):
        raise click.UsageError("set MIZ_STORAGE=s3 and the MIZ_S3_… settings first: the "
                               "documents are copied to the storage the server uses.")
    done = stored_files.migrate(LocalStorage(app.config["UPLOADS_DIR"]), target, remove_local)
    click.echo(f"{done.copied} file(s) copied, {done.present} already there, "
               f"{done.removed} local file(s) removed.")


def init_app(app: Flask) -> None:
    for key, value in defaults().items():
        app.config.setdefault(key, value)
    templates = app.config["SMS_TEMPLATES"]
    notifications.use_templates(json.loads(templates) if isinstance(templates, str)
                                else templates)
    app.cli.add_command(worker_command)
    app.cli.add_command(inquiries_cli)
    app.cli.add_command(uploads_cli)
