"""The worker: claims due jobs, runs their handlers, settles each attempt.

A handler is a function `(job, context) -> effect`. It does the slow part (a call to another
system) outside any transaction and returns its *effect*: a function that writes the result,
run in the transaction that marks the job done — so a job repeated after its worker was
killed writes its result once. A handler raises `TemporaryFailure` for what a retry can fix
(a time-out, a 5xx, an unreadable reply) and `PermanentFailure` for what it cannot; either
may carry an effect of its own (evidence of the failed exchange, a request flagged for a
manual check when the job gives up). Any other exception is a temporary failure. A handler
that should not run yet raises `Postpone`: due again later, no attempt spent.

Jobs that call an outside system (`job.target`) pass its circuit breaker and its daily
quota first; a call that is not made does not spend an attempt.

`run_once` runs everything that is due and returns (for tests, scripts and `worker --once`);
`run_forever` polls until its stop event is set — on SIGTERM the jobs in hand finish first.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from counter_server.db import Database, utcnow
from counter_server.jobs import circuit
from counter_server.jobs.circuit import CircuitPolicy
from counter_server.jobs.queue import (
    Backoff,
    Claimed,
    LeaseLost,
    claim,
    give_up,
    postpone,
    retry_later,
    succeed,
)
from counter_server.jobs.usage import Tariff, count_call, quota_wait
from shared.workcalendar import WorkCalendar

log = logging.getLogger(__name__)

Effect = Callable[[Session], None]
FailureEffect = Callable[[Session, bool], None]  # (session, gave_up)


class TemporaryFailure(Exception):
    """A failure a later attempt may not meet: retried with back-off."""

    def __init__(self, message: str, effect: FailureEffect | None = None,
                 blames_target: bool = True) -> None:
        super().__init__(message)
        self.effect, self.blames_target = effect, blames_target


class PermanentFailure(TemporaryFailure):
    """A failure no retry can fix: the job gives up at once."""


class Postpone(Exception):
    """The handler chose not to run the job yet (e.g. a daily budget is spent): it is due
    again at `until` without spending an attempt; `effect` is written meanwhile."""

    def __init__(self, until: datetime, reason: str, effect: Effect | None = None) -> None:
        super().__init__(reason)
        self.until, self.reason, self.effect = until, reason, effect


@dataclass(frozen=True)
class JobContext:
    """What a handler may use: the database (for reads, and for a reservation that others must
    see before the call, like the SMS budget's), the clock, the attempt's deadline."""

    db: Database
    now: datetime
    deadline: datetime


Handler = Callable[[Claimed, JobContext], Effect | None]


@dataclass(frozen=True)
class WorkerSettings:
    threads: int = 4  # jobs in flight at once in this process
    lease: timedelta = timedelta(seconds=60)  # longer than any attempt's time limit
    time_limit: timedelta = timedelta(seconds=20)  # per attempt
    poll: float = 0.5  # seconds between the process's looks when nothing is due
    backoff: Backoff = field(default_factory=Backoff)
    circuit: CircuitPolicy = field(default_factory=CircuitPolicy)
    tariffs: Mapping[str, Tariff] = field(default_factory=dict)


@dataclass
class RunReport:
    done: int = 0
    retried: int = 0
    dead: int = 0
    postponed: int = 0
    lost: int = 0

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Worker:
    def __init__(self, db: Database, handlers: Mapping[str, Handler], calendar: WorkCalendar,
                 settings: WorkerSettings | None = None,
                 clock: Callable[[], datetime] = utcnow, name: str | None = None) -> None:
        self.db, self.handlers, self.calendar = db, dict(handlers), calendar
        self.settings = settings or WorkerSettings()
        self.clock, self.name = clock, name or worker_name()
        self._report_lock = threading.Lock()

    # --- loops ------------------------------------------------------------------------

    def run_once(self) -> RunReport:
        """Run every job due now (and those that come due while running), then return."""
        report = RunReport()
        with ThreadPoolExecutor(self.settings.threads) as pool:
            while True:
                jobs = self._claim(self.settings.threads)
                if not jobs:
                    return report
                for outcome in pool.map(self.attempt, jobs):
                    report.add(outcome)

    def run_forever(self, stop: threading.Event) -> None:
        """Keep `threads` jobs in flight until `stop` is set; jobs in hand then finish."""
        threads = [threading.Thread(target=self._lane, args=(stop,), name=f"job-lane-{n}")
                   for n in range(self.settings.threads)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def _lane(self, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                jobs = self._claim(1)
            except Exception:  # noqa: BLE001 — the database may be briefly unreachable
                log.exception("claiming jobs failed")
                jobs = []
            if not jobs:
                # Idle lanes look in turn: the process asks about `1 / poll` times a second
                # however many lanes it has.
                stop.wait(self.settings.poll * self.settings.threads * random.uniform(0.5, 1.5))
                continue
            self.attempt(jobs[0])

    def _claim(self, limit: int) -> list[Claimed]:
        return claim(self.db, self.name, self.clock(), self.settings.lease, limit,
                     tuple(self.handlers))

    # --- one attempt ------------------------------------------------------------------

    def attempt(self, job: Claimed) -> str:
        """Run one attempt of `job` and settle it; the outcome's name for the report."""
        now = self.clock()
        try:
            wait = self._not_before(job, now)
            if wait is not None:
                return self._settle(job, lambda s: postpone(s, job, wait[0], wait[1]),
                                    "postponed")
            return self._run(job, now)
        except LeaseLost:
            log.warning("job %s was taken over by another worker; its attempt is void", job.id)
            return "lost"

    def _not_before(self, job: Claimed, now: datetime) -> tuple[datetime, str] | None:
        if job.target is None:
            return None
        until = circuit.admit(self.db, job.target, now, self.settings.circuit)
        if until is not None:
            return until, f"circuit of {job.target} is open"
        with self.db.session() as session:
            until = quota_wait(session, job.target, self._tariff(job), now, self.calendar)
        return (until, f"daily quota of {job.target} is used up") if until else None

    def _tariff(self, job: Claimed) -> Tariff:
        return self.settings.tariffs.get(job.target or "", Tariff())

    def _run(self, job: Claimed, now: datetime) -> str:
        handler = self.handlers[job.kind]
        context = JobContext(self.db, now, now + self.settings.time_limit)
        try:
            effect = handler(job, context)
        except Postpone as held:
            return self._postponed(job, held)
        except TemporaryFailure as failure:
            return self._failed(job, failure)
        except Exception as exc:  # noqa: BLE001 — unexpected: retried, and logged
            log.exception("job %s (%s) failed", job.id, job.kind)
            return self._failed(job, TemporaryFailure(f"{type(exc).__name__}: {exc}"))
        if job.target:
            circuit.record_success(self.db, job.target, self.clock())

        def settle(session: Session) -> None:
            if effect is not None:
                effect(session)
            self._count(session, job)
            succeed(session, job, self.clock())
        return self._settle(job, settle, "done")

    def _postponed(self, job: Claimed, held: Postpone) -> str:
        def settle(session: Session) -> None:
            if held.effect is not None:
                held.effect(session)
            postpone(session, job, held.until, held.reason)
        return self._settle(job, settle, "postponed")

    def _failed(self, job: Claimed, failure: TemporaryFailure) -> str:
        now = self.clock()
        if job.target and failure.blames_target:
            circuit.record_failure(self.db, job.target, now, self.settings.circuit)
        final = isinstance(failure, PermanentFailure) or job.last_attempt
        message = str(failure)

        def settle(session: Session) -> None:
            if failure.effect is not None:
                failure.effect(session, final)
            self._count(session, job)
            if final:
                give_up(session, job, now, message)
            else:
                retry_later(session, job, now, message, self.settings.backoff.delay(job.attempt))
        log.info("job %s (%s) attempt %s failed: %s", job.id, job.kind, job.attempt, message)
        return self._settle(job, settle, "dead" if final else "retried")

    def _count(self, session: Session, job: Claimed) -> None:
        if job.target:
            count_call(session, job.target, self.calendar.local_date(self.clock()),
                       self._tariff(job))

    def _settle(self, job: Claimed, write: Effect, outcome: str) -> str:
        with self.db.transaction() as session:
            write(session)
        return outcome
