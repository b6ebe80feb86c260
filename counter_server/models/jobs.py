"""Background jobs and the state of the outside systems they call.

A `Job` is written in the same transaction as the change that causes it, so none is lost
and none exists for a change that was rolled back. `Circuit` is one outside system's
circuit breaker, shared by every worker; `UsageDay` counts its calls and their cost.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow


class Job(Base):
    """One unit of background work: queued → running → done, or dead after its attempts."""

    __tablename__ = "jobs"
    __table_args__ = (Index("ix_jobs_due", "status", "run_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(40), comment="Which handler runs it, e.g. inquiry")
    key: Mapped[str] = mapped_column(
        String(200), unique=True, comment="Idempotency key: one job per cause")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    target: Mapped[str | None] = mapped_column(
        String(40), comment="The outside system it calls (its circuit and quota)")
    status: Mapped[str] = mapped_column(String(10), default="queued",
                                        comment="queued, running, done or dead")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    max_attempts: Mapped[int] = mapped_column(Integer, default=8)
    run_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow,
                                             comment="Not before: the next attempt's time")
    lease_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="A running job whose lease ran out is taken again")
    leased_by: Mapped[str | None] = mapped_column(String(80))
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Circuit(Base):
    """An outside system's circuit breaker: closed, open until a time, or half-open with
    one probe in flight."""

    __tablename__ = "circuits"

    target: Mapped[str] = mapped_column(String(40), primary_key=True)
    state: Mapped[str] = mapped_column(String(10), default="closed",
                                       comment="closed, open or half_open")
    failures: Mapped[int] = mapped_column(Integer, default=0,
                                          comment="Failures in a row while closed")
    open_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    probe_until: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="While half-open: the probe's lease")
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class UsageDay(Base):
    """Calls made to an outside system on one day and what they cost (the bus is metered),
    counted in a few shards so that workers counting at once do not queue on one row: a
    day's figure is the sum of its shards. Shard -1 holds a daily allowance instead (units
    reserved, e.g. SMS parts; `counter_server.jobs.usage.take_allowance`)."""

    __tablename__ = "usage_days"

    target: Mapped[str] = mapped_column(String(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    shard: Mapped[int] = mapped_column(Integer, primary_key=True, default=0)
    calls: Mapped[int] = mapped_column(Integer, default=0)
    cost_rials: Mapped[int] = mapped_column(Integer, default=0)
