"""The supervisors' reports' roll-ups: one row per settled day and combination of the
reports' filters, so that a year is read as a few thousand rows instead of scanned.

`report_days` says, per report and day, how many writes touched that day's figures
(`changes`) and at which count its roll-up was made (`rolled`): a day is read from its
roll-up only while the two agree; otherwise the report computes it from the source rows.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, Date, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime


class ReportDay(Base):
    """A report's day: written-to count against the count its roll-up was made at."""

    __tablename__ = "report_days"

    kind: Mapped[str] = mapped_column(String(20), primary_key=True,
                                      comment="'queue' (tickets' day) or 'requests' (filing day)")
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    rolled: Mapped[int] = mapped_column(Integer, default=-1, server_default="-1",
                                        comment="-1: never rolled up")
    rolled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QueueRollup(Base):
    """A day's tickets of one office, queue, service, channel, counter and clerk."""

    __tablename__ = "queue_rollups"
    __table_args__ = (Index("ix_queue_rollups_day", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    office_slug: Mapped[str] = mapped_column(String(80))
    queue_slug: Mapped[str] = mapped_column(String(80))
    service_slug: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    counter_id: Mapped[int | None] = mapped_column(Integer)
    clerk_id: Mapped[int | None] = mapped_column(Integer)
    tickets: Mapped[int] = mapped_column(Integer)
    served: Mapped[int] = mapped_column(Integer)
    no_shows: Mapped[int] = mapped_column(Integer)
    transfers: Mapped[int] = mapped_column(Integer)
    waits: Mapped[Any] = mapped_column(JSON, comment="[[seconds, tickets], …]")
    services: Mapped[Any] = mapped_column(JSON, comment="[[seconds, tickets], …]")
    hours: Mapped[Any] = mapped_column(JSON, comment="[[local hour of issue, tickets], …]")


class RequestRollup(Base):
    """The requests filed on a day for one service, channel and clerk, as they stand."""

    __tablename__ = "request_rollups"
    __table_args__ = (Index("ix_request_rollups_day", "day"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    service_slug: Mapped[str] = mapped_column(String(80))
    channel: Mapped[str] = mapped_column(String(10))
    clerk_id: Mapped[int | None] = mapped_column(Integer)
    filed: Mapped[int] = mapped_column(Integer)
    on_time: Mapped[int] = mapped_column(Integer)
    hours: Mapped[Any] = mapped_column(JSON, comment="closed: [[hours to close, requests], …]")
    reasons: Mapped[Any] = mapped_column(JSON, comment="rejected: [[reason, requests], …]")
    steps: Mapped[Any] = mapped_column(
        JSON, comment="[[step, hours in it, requests, seconds], …]: whole hours per request")
