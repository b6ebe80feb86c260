"""The job queue and worker on a real database (SQLite file and PostgreSQL).

Time is a clock the tests move by hand, so back-off, leases and the circuit breaker are
tested without sleeping. The kill tests run workers as real processes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from counter_server import migrate
from counter_server.db import Database
from counter_server.jobs import circuit
from counter_server.jobs.circuit import CircuitPolicy
from counter_server.jobs.queue import Backoff, Claimed, LeaseLost, claim, enqueue, revive, succeed
from counter_server.jobs.usage import Tariff, calls_on
from counter_server.jobs.worker import (
    JobContext,
    PermanentFailure,
    TemporaryFailure,
    Worker,
    WorkerSettings,
)
from counter_server.models import Circuit, Job
from shared.catalog.schema import CalendarSpec
from shared.workcalendar import WorkCalendar

REPO = Path(__file__).resolve().parents[2]
CALENDAR = WorkCalendar.from_spec(CalendarSpec())
T0 = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)


class Clock:
    def __init__(self, at: datetime = T0) -> None:
        self.at = at

    def __call__(self) -> datetime:
        return self.at

    def advance(self, **delta: float) -> None:
        self.at += timedelta(**delta)


@pytest.fixture
def db(database_url: str) -> Iterator[Database]:
    database = Database(database_url)
    migrate.upgrade(database)
    with database.engine.begin() as connection:  # a table the handlers write their effect to
        connection.execute(text("CREATE TABLE effects (job_key VARCHAR(200), worker VARCHAR(80))"))
    yield database
    database.dispose()


def effects(db: Database) -> list[str]:
    with db.engine.connect() as connection:
        return [r[0] for r in connection.execute(text("SELECT job_key FROM effects"))]


def write_effect(job: Claimed, worker: str = "test"):  # type: ignore[no-untyped-def]
    def effect(session) -> None:  # type: ignore[no-untyped-def]
        session.execute(text("INSERT INTO effects (job_key, worker) VALUES (:k, :w)"),
                        {"k": job.key, "w": worker})
    return effect


def add_jobs(db: Database, count: int, kind: str = "test", target: str | None = None,
             at: datetime = T0, **payload: object) -> None:
    with db.transaction() as session:
        for n in range(count):
            enqueue(session, kind, f"{kind}:{n}", dict(payload), target=target, run_at=at,
                    max_attempts=4)


def job_rows(db: Database) -> list[Job]:
    with db.session() as session:
        return list(session.scalars(select(Job).order_by(Job.id)))


def worker(db: Database, handler, clock: Clock, **settings: object) -> Worker:  # type: ignore[no-untyped-def]
    return Worker(db, {"test": handler}, CALENDAR, WorkerSettings(**settings), clock=clock)


# The queue ----------------------------------------------------------------------------------

def test_a_job_belongs_to_the_transaction_that_caused_it(db: Database) -> None:
    with pytest.raises(RuntimeError), db.transaction() as session:
        enqueue(session, "test", "test:rolled-back", {})
        raise RuntimeError("the change that caused it fails")
    add_jobs(db, 1)
    add_jobs(db, 1)  # the same cause again: still one job
    assert [j.key for j in job_rows(db)] == ["test:0"]


def test_a_claim_takes_no_more_jobs_than_asked(db: Database) -> None:
    add_jobs(db, 10)
    assert len(claim(db, "w", T0, timedelta(minutes=1), limit=3)) == 3
    assert [j.status for j in job_rows(db)].count("running") == 3


def test_two_workers_claiming_at_once_never_share_a_job(db: Database) -> None:
    add_jobs(db, 60)
    taken: list[list[int]] = [[], []]
    start = threading.Barrier(2)

    def take(lane: int) -> None:
        start.wait()
        while batch := claim(db, f"w{lane}", T0, timedelta(minutes=1), limit=3):
            taken[lane] += [job.id for job in batch]

    threads = [threading.Thread(target=take, args=(n,)) for n in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(taken[0] + taken[1]) == [j.id for j in job_rows(db)]
    assert not set(taken[0]) & set(taken[1])


def test_a_worker_whose_lease_ran_out_cannot_settle_and_its_effect_is_void(db: Database) -> None:
    add_jobs(db, 1)
    [first] = claim(db, "slow", T0, timedelta(seconds=30))
    assert claim(db, "other", T0 + timedelta(seconds=10), timedelta(seconds=30)) == []
    [again] = claim(db, "other", T0 + timedelta(seconds=31), timedelta(seconds=30))
    assert (again.id, again.attempt) == (first.id, 2)
    with pytest.raises(LeaseLost), db.transaction() as session:
        write_effect(first)(session)
        succeed(session, first, T0 + timedelta(seconds=40))
    with db.transaction() as session:
        write_effect(again)(session)
        succeed(session, again, T0 + timedelta(seconds=41))
    assert effects(db) == ["test:0"]
    assert job_rows(db)[0].status == "done"


# Retries --------------------------------------------------------------------------------------

def test_temporary_failures_are_retried_with_growing_back_off_then_the_job_dies(
        db: Database) -> None:
    clock, tries = Clock(), []

    def flaky(job: Claimed, context: JobContext):  # type: ignore[no-untyped-def]
        tries.append(context.now)
        raise TemporaryFailure("the bus timed out")

    add_jobs(db, 1)
    runner = worker(db, flaky, clock, backoff=Backoff(base=timedelta(seconds=10)))
    assert runner.run_once().retried == 1
    waits = []
    for _ in range(3):
        assert runner.run_once().done == 0  # not due yet: nothing runs
        due = job_rows(db)[0].run_at
        waits.append((due - clock()).total_seconds())
        clock.at = due
        runner.run_once()
    assert len(tries) == 4
    assert 5 <= waits[0] <= 10 and 10 <= waits[1] <= 20  # base·2ⁿ⁻¹ with jitter
    job = job_rows(db)[0]
    assert (job.status, job.attempts, job.last_error) == ("dead", 4, "the bus timed out")
    clock.advance(days=1)
    assert runner.run_once().done == 0 and len(tries) == 4  # dead stays dead


def test_a_permanent_failure_is_not_retried_and_a_dead_job_can_be_revived(db: Database) -> None:
    clock, calls = Clock(), []

    def refuse(job: Claimed, context: JobContext):  # type: ignore[no-untyped-def]
        calls.append(job.attempt)
        if len(calls) == 1:
            raise PermanentFailure("national code unknown")
        return write_effect(job)

    add_jobs(db, 1)
    runner = worker(db, refuse, clock)
    assert runner.run_once().dead == 1
    clock.advance(hours=1)
    assert runner.run_once().done == 0 and calls == [1]
    with db.transaction() as session:
        assert revive(session, job_rows(db)[0].id, clock())
    assert runner.run_once().done == 1
    assert effects(db) == ["test:0"] and calls == [1, 1]


def test_an_unexpected_error_counts_as_temporary(db: Database) -> None:
    def broken(job: Claimed, context: JobContext):  # type: ignore[no-untyped-def]
        raise KeyError("surprise")

    add_jobs(db, 1)
    assert worker(db, broken, Clock()).run_once().retried == 1
    assert job_rows(db)[0].status == "queued"


# The circuit breaker and the quota --------------------------------------------------------------

def test_the_breaker_opens_after_failures_in_a_row_then_a_probe_closes_it(db: Database) -> None:
    clock, calls, healthy = Clock(), [], [False]

    def call_bus(job: Claimed, context: JobContext):  # type: ignore[no-untyped-def]
        calls.append(job.key)
        if not healthy[0]:
            raise TemporaryFailure("503 from the bus")
        return write_effect(job)

    add_jobs(db, 6, target="sabt")
    policy = CircuitPolicy(threshold=3, cool_down=timedelta(seconds=60))
    runner = worker(db, call_bus, clock, threads=1, circuit=policy,
                    backoff=Backoff(base=timedelta(hours=1)))
    report = runner.run_once()
    assert len(calls) == 3 and (report.retried, report.postponed) == (3, 3)
    postponed = [j for j in job_rows(db) if j.attempts == 0]
    assert len(postponed) == 3  # not tried: no attempt spent
    assert all(j.run_at == T0 + timedelta(seconds=60) for j in postponed)

    clock.advance(seconds=61)  # cool-down over: one probe, which fails → open again
    runner.run_once()
    assert len(calls) == 4
    with db.session() as session:
        assert session.get(Circuit, "sabt").state == "open"

    healthy[0] = True
    clock.advance(seconds=61)  # the next probe works: closed, the rest go through
    runner.run_once()
    with db.session() as session:
        assert session.get(Circuit, "sabt").state == "closed"
    assert len(effects(db)) == 2  # the two never tried; the failed probe waits its back-off
    assert calls[-2:] == effects(db)


def test_only_one_probe_goes_while_half_open(db: Database) -> None:
    policy = CircuitPolicy(threshold=1, cool_down=timedelta(seconds=10),
                           probe_lease=timedelta(seconds=30))
    circuit.record_failure(db, "post", T0, policy)
    later = T0 + timedelta(seconds=11)
    assert circuit.admit(db, "post", later, policy) is None  # the probe
    assert circuit.admit(db, "post", later, policy) == later + timedelta(seconds=30)
    # the probe's worker died: another takes over once its lease is over
    assert circuit.admit(db, "post", later + timedelta(seconds=31), policy) is None


def test_a_used_up_daily_quota_waits_for_the_next_day_and_costs_are_counted(
        db: Database) -> None:
    clock = Clock()

    def call(job: Claimed, context: JobContext):  # type: ignore[no-untyped-def]
        return write_effect(job)

    add_jobs(db, 5, target="shahkar")
    runner = worker(db, call, clock, threads=1,
                    tariffs={"shahkar": Tariff(daily_quota=3, cost_rials=1_500)})
    report = runner.run_once()
    assert (report.done, report.postponed) == (3, 2)
    with db.session() as session:
        assert calls_on(session, "shahkar", CALENDAR.local_date(T0)) == 3
        cost = session.scalar(text("SELECT sum(cost_rials) FROM usage_days"))
    assert cost == 4_500
    waiting = [j for j in job_rows(db) if j.status == "queued"]
    tomorrow_tehran = datetime(2026, 12, 1, 20, 30, tzinfo=UTC)  # 00:00 Asia/Tehran
    assert {j.run_at for j in waiting} == {tomorrow_tehran}
    clock.at = tomorrow_tehran
    assert runner.run_once().done == 2


# Workers as processes ---------------------------------------------------------------------------

WORKER_SCRIPT = """
import sys, time
from sqlalchemy import text
from counter_server.db import Database
from counter_server.jobs.worker import Worker, WorkerSettings
from shared.catalog.schema import CalendarSpec
from shared.workcalendar import WorkCalendar
from datetime import timedelta

url, name, pause = sys.argv[1], sys.argv[2], float(sys.argv[3])

def slow(job, context):
    print("started", job.key, flush=True)
    time.sleep(pause)
    def effect(session):
        session.execute(text("INSERT INTO effects (job_key, worker) VALUES (:k, :w)"),
                        {"k": job.key, "w": name})
    return effect

worker = Worker(Database(url), {"test": slow}, WorkCalendar.from_spec(CalendarSpec()),
                WorkerSettings(threads=1, lease=timedelta(seconds=2), poll=0.05), name=name)
import signal, threading
stop = threading.Event()
signal.signal(signal.SIGTERM, lambda *_: stop.set())
print("ready", flush=True)
worker.run_forever(stop)
print("stopped", flush=True)
"""


def start_worker(url: str, name: str, pause: float) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", WORKER_SCRIPT, url, name, str(pause)], cwd=REPO,
        env={**os.environ, "PYTHONPATH": str(REPO)}, stdout=subprocess.PIPE, text=True)
    assert process.stdout is not None
    return process


def wait_for_line(process: subprocess.Popen[str], prefix: str, timeout: float = 30) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if line.startswith(prefix):
            return line
        if not line and process.poll() is not None:
            break
    raise AssertionError(f"worker never printed {prefix!r}")


def test_a_job_of_a_worker_killed_mid_job_is_done_once_by_another(db: Database) -> None:
    add_jobs(db, 1, at=datetime.now(UTC) - timedelta(seconds=1))
    doomed = start_worker(db.url, "doomed", pause=60)
    wait_for_line(doomed, "started test:0")
    doomed.send_signal(signal.SIGKILL)
    doomed.wait(10)
    survivor = start_worker(db.url, "survivor", pause=0)
    try:
        deadline = time.monotonic() + 30
        while not effects(db) and time.monotonic() < deadline:
            time.sleep(0.1)
        time.sleep(0.5)  # give a wrong second run the time to show
    finally:
        survivor.terminate()
        survivor.wait(10)
    assert effects(db) == ["test:0"]
    job = job_rows(db)[0]
    assert (job.status, job.attempts) == ("done", 2)


def test_sigterm_lets_the_job_in_hand_finish(db: Database) -> None:
    add_jobs(db, 1, at=datetime.now(UTC) - timedelta(seconds=1))
    process = start_worker(db.url, "polite", pause=1.0)
    wait_for_line(process, "started test:0")
    process.send_signal(signal.SIGTERM)
    wait_for_line(process, "stopped")
    assert process.wait(10) == 0
    assert effects(db) == ["test:0"]
    assert job_rows(db)[0].status == "done"


def test_many_jobs_across_two_worker_processes_each_run_once(db: Database) -> None:
    add_jobs(db, 40, at=datetime.now(UTC) - timedelta(seconds=1))
    workers = [start_worker(db.url, f"w{n}", pause=0.01) for n in (1, 2)]
    try:
        deadline = time.monotonic() + 60
        while len(effects(db)) < 40 and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        for process in workers:
            process.terminate()
            process.wait(10)
    done = effects(db)
    assert sorted(done) == sorted(f"test:{n}" for n in range(40))
    with db.session() as session:
        assert session.scalar(select(func.count()).where(Job.status == "done")) == 40
