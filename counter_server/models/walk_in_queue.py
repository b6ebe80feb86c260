"""The walk-in lobby: offices, counters, tickets, their numbering, kiosk leases, the call log."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow


class Office(Base):
    """A branch people visit; mirrors the catalog's offices (never deleted)."""

    __tablename__ = "offices"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Counter(Base):
    """A place where a member of staff serves people, and the queues it calls from."""

    __tablename__ = "counters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_slug: Mapped[str] = mapped_column(ForeignKey("offices.slug"))
    number: Mapped[int] = mapped_column(Integer, comment="Shown on the board: «باجه ۳»")
    name: Mapped[str] = mapped_column(String(100))
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    printer: Mapped[str | None] = mapped_column(
        String(200), comment="host[:port] of the counter's network ESC/POS printer, if any")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (UniqueConstraint("office_slug", "number"),)


class QueueDay(Base):
    """Numbering of one queue in one office on one day, and its run of priority calls."""

    __tablename__ = "queue_days"

    office_slug: Mapped[str] = mapped_column(ForeignKey("offices.slug"), primary_key=True)
    queue_slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    next_number: Mapped[int] = mapped_column(Integer, default=1)
    consecutive_priority: Mapped[int] = mapped_column(Integer, default=0)
    served: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    service_seconds: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0",
        comment="Total time spent serving this day's finished tickets (for wait estimates)")


class Lease(Base):
    """A block of ticket numbers reserved for a kiosk, so it can number tickets offline."""

    __tablename__ = "ticket_leases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosks.id"), index=True)
    office_slug: Mapped[str] = mapped_column(ForeignKey("offices.slug"))
    queue_slug: Mapped[str] = mapped_column(String(80))
    day: Mapped[date] = mapped_column(Date)
    first: Mapped[int] = mapped_column(Integer)
    last: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Ticket(Base):
    """A numbered place in a queue, from the lobby to the counter."""

    __tablename__ = "tickets"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(16), unique=True,
                                           comment="In the ticket's QR: /q/<public_id>")
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    office_slug: Mapped[str] = mapped_column(ForeignKey("offices.slug"))
    queue_slug: Mapped[str] = mapped_column(String(80))
    service_slug: Mapped[str] = mapped_column(ForeignKey("services.slug"))
    day: Mapped[date] = mapped_column(Date)
    number: Mapped[int] = mapped_column(Integer)
    priority: Mapped[str | None] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(12), default="waiting")
    tracking_code: Mapped[str | None] = mapped_column(String(16), index=True)
    mobile: Mapped[str | None] = mapped_column(
        String(11), comment="For «you are near» and «your turn» by SMS, if the person gave it")
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    issued_at: Mapped[datetime] = mapped_column(
        UTCDateTime, comment="When the person took it (the kiosk's clock for kiosk tickets)")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    assigned_counter_id: Mapped[int | None] = mapped_column(
        ForeignKey("counters.id"), comment="Only this counter may call it (a transfer)")
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    called_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    called_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recalls: Mapped[int] = mapped_column(Integer, default=0)
    serving_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __table_args__ = (
        UniqueConstraint("office_slug", "queue_slug", "day", "number"),
        Index("ix_tickets_waiting", "office_slug", "day", "status", "queue_slug", "issued_at"),
        Index("ix_tickets_day", "day"),  # the reports' date range
    )


class TicketEvent(Base):
    """The lobby's log: every call, recall and change, read by the display boards."""

    __tablename__ = "ticket_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    office_slug: Mapped[str] = mapped_column(ForeignKey("offices.slug"))
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    action: Mapped[str] = mapped_column(String(20))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    __table_args__ = (Index("ix_ticket_events_office", "office_slug", "id"),
                      Index("ix_ticket_events_action", "action", "ticket_id"))
