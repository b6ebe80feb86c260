"""The job queue: rows in Miz's own database, claimed with a lease.

- `enqueue` writes a job in the caller's transaction (the one that makes the change causing
  it), once per idempotency key: a rolled-back change leaves no job, a replayed one no second.
- `claim` hands due jobs to one worker. On PostgreSQL the candidates are locked with
  `FOR UPDATE SKIP LOCKED`, so several workers on several machines never take one job; on
  SQLite the claim runs under the database's single write lock (`BEGIN IMMEDIATE`).
  A claim is a lease: a running job whose worker died is due again once the lease runs out.
- `settle` ends an attempt in the same transaction as the job's effect, and only while the
  worker still holds the lease (`LeaseLost` otherwise, which rolls the effect back): a job
  repeated after its worker was killed still has its effect once.
"""

from __future__ import annotations

import random
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from counter_server.db import Database, upsert_insert
from counter_server.models.jobs import Job

QUEUED, RUNNING, DONE, DEAD = "queued", "running", "done", "dead"


class LeaseLost(Exception):
    """The job was taken by another worker (this one's lease ran out): its work is void."""


@dataclass(frozen=True)
class Claimed:
    """A job as one worker holds it for one attempt."""

    id: int
    kind: str
    key: str
    payload: dict[str, Any]
    target: str | None
    attempt: int
    max_attempts: int
    token: str  # this claim's lease: only its holder may settle the attempt

    @property
    def last_attempt(self) -> bool:
        return self.attempt >= self.max_attempts


@dataclass(frozen=True)
class Backoff:
    """Exponential back-off with jitter: attempt n waits between half and all of base·2ⁿ⁻¹,
    never more than `cap` (spreads the retries of many jobs that failed at once)."""

    base: timedelta = timedelta(seconds=5)
    cap: timedelta = timedelta(minutes=30)

    def delay(self, attempt: int, rng: random.Random | None = None) -> timedelta:
        ceiling = min(self.cap.total_seconds(), self.base.total_seconds() * 2 ** (attempt - 1))
        draw = (rng or random).uniform(0.5, 1.0)
        return timedelta(seconds=ceiling * draw)


def enqueue(session: Session, kind: str, key: str, payload: dict[str, Any], *,
            target: str | None = None, run_at: datetime | None = None,
            max_attempts: int = 8) -> None:
    """Add a job in the caller's transaction; nothing if a job with `key` exists."""
    values: dict[str, Any] = {"kind": kind, "key": key, "payload": payload, "target": target,
                              "max_attempts": max_attempts, "status": QUEUED, "attempts": 0}
    if run_at is not None:
        values["run_at"] = run_at
    session.execute(upsert_insert(session)(Job).values(**values).on_conflict_do_nothing(index_elements=["key"]))


def _due(now: datetime, kinds: tuple[str, ...] | None):  # type: ignore[no-untyped-def]
    due = or_(and_(Job.status == QUEUED, Job.run_at <= now),
              and_(Job.status == RUNNING, Job.lease_until <= now))
    return and_(due, Job.kind.in_(kinds)) if kinds else due


def claim(db: Database, worker: str, now: datetime, lease: timedelta, limit: int = 1,
          kinds: tuple[str, ...] | None = None) -> list[Claimed]:
    """Take up to `limit` due jobs, oldest due first, each with a lease of `lease`."""
    token = f"{worker}/{uuid.uuid4().hex[:12]}"
    # The candidates are chosen once, in a materialized CTE: PostgreSQL may run a plain
    # `IN (SELECT … LIMIT n FOR UPDATE SKIP LOCKED)` again for each row, each run skipping
    # the rows the last one locked, and so take far more than n jobs.
    candidates = (select(Job.id).where(_due(now, kinds)).order_by(Job.run_at, Job.id)
                  .limit(limit).with_for_update(skip_locked=True)
                  .cte("candidates").prefix_with("MATERIALIZED"))
    with db.transaction() as session:
        rows = session.execute(
            update(Job).where(Job.id == candidates.c.id, _due(now, kinds))
            .values(status=RUNNING, attempts=Job.attempts + 1, leased_by=token,
                    lease_until=now + lease)
            .returning(Job.id, Job.kind, Job.key, Job.payload, Job.target, Job.attempts,
                       Job.max_attempts)
            .execution_options(synchronize_session=False)).all()
    return [Claimed(r.id, r.kind, r.key, dict(r.payload or {}), r.target, r.attempts,
                    r.max_attempts, token) for r in sorted(rows, key=lambda r: r.id)]


def _holding(session: Session, job: Claimed, **values: Any) -> None:
    """Update the job only while `job.token` still holds its lease; LeaseLost otherwise."""
    done = session.execute(
        update(Job).where(Job.id == job.id, Job.status == RUNNING, Job.leased_by == job.token)
        .values(lease_until=None, **values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise LeaseLost(f"job {job.id} ({job.key}) is no longer held by {job.token}")


def succeed(session: Session, job: Claimed, now: datetime) -> None:
    """The attempt worked: the job is done (in the transaction of its effect)."""
    _holding(session, job, status=DONE, finished_at=now, last_error=None)


def retry_later(session: Session, job: Claimed, now: datetime, error: str,
                delay: timedelta) -> None:
    """A temporary failure: try again after `delay`, or give up after the last attempt."""
    if job.last_attempt:
        give_up(session, job, now, error)
        return
    _holding(session, job, status=QUEUED, run_at=now + delay, last_error=error[:2000])


def give_up(session: Session, job: Claimed, now: datetime, error: str) -> None:
    """A permanent failure, or the last attempt failed: the job is dead (the desk shows it)."""
    _holding(session, job, status=DEAD, finished_at=now, last_error=error[:2000])


def postpone(session: Session, job: Claimed, until: datetime, reason: str) -> None:
    """Not tried at all (its target's circuit is open, or its quota is used up): due again
    at `until`, without counting this as an attempt."""
    _holding(session, job, status=QUEUED, run_at=until, attempts=Job.attempts - 1,
             last_error=reason[:2000])


def revive(session: Session, job_id: int, now: datetime) -> bool:
    """A dead job queued again with fresh attempts (the desk's retry button)."""
    done = session.execute(
        update(Job).where(Job.id == job_id, Job.status == DEAD)
        .values(status=QUEUED, attempts=0, run_at=now, finished_at=None)
        .execution_options(synchronize_session=False))
    return done.rowcount == 1
