"""Requests for services, their history, their documents and the SMS outbox."""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from counter_server.db import Base, UTCDateTime, utcnow

if TYPE_CHECKING:
    from counter_server.models.catalog import CatalogVersion
    from counter_server.models.inquiries import Inquiry


class ServiceRequest(Base):
    """A citizen's request, with its own copy of the service's terms at submission."""

    __tablename__ = "requests"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(16), unique=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True,
                                           comment="Idempotency key chosen by the client")
    body_digest: Mapped[str] = mapped_column(String(64))
    service_slug: Mapped[str] = mapped_column(ForeignKey("services.slug"))
    catalog_version: Mapped[int] = mapped_column(
        ForeignKey("catalog_versions.number"),
        comment="The catalog version whose terms (steps, fees, duration …) apply")
    channel: Mapped[str] = mapped_column(String(10))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    applicant_name: Mapped[str] = mapped_column(String(100))
    applicant_national_code: Mapped[str] = mapped_column(String(10))
    applicant_mobile: Mapped[str] = mapped_column(String(11))
    fields: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(20))
    current_step: Mapped[str] = mapped_column(
        String(80), comment="The id of the step the request is at, in its version's terms")
    assigned_to_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    flags: Mapped[list[str]] = mapped_column(
        JSON, default=list, comment="Why staff should look twice (e.g. filed on an old catalog)")
    payment_reference: Mapped[str | None] = mapped_column(String(100))
    decision_reason: Mapped[str | None] = mapped_column(Text)
    due_date: Mapped[date] = mapped_column(Date)
    client_created_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="The kiosk's clock when it filed the request")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    sms_stopped_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="The applicant asked for no more SMS about this request")
    check_failures: Mapped[int] = mapped_column(Integer, default=0)
    check_locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    filed_under: Mapped[CatalogVersion] = relationship(
        lazy="joined", innerjoin=True,
        doc="The version row of `catalog_version`, joined to every load of a request (its "
            "snapshot column is deferred); `service` reads the terms from it")
    events: Mapped[list[RequestEvent]] = relationship(
        back_populates="request", order_by="RequestEvent.id", cascade="all, delete-orphan")
    documents: Mapped[list[RequestDocument]] = relationship(
        back_populates="request", order_by="RequestDocument.id", cascade="all, delete-orphan")
    inquiries: Mapped[list[Inquiry]] = relationship(order_by="Inquiry.id", viewonly=True)

    @property
    def service(self) -> dict[str, Any]:
        """The service's terms (steps, fees, duration, documents …) as the catalog version
        this request was filed under published them — not as the catalog says today."""
        return self.filed_under.service_terms(self.service_slug)

    __table_args__ = (
        Index("ix_requests_inbox", "status", "service_slug", "created_at"),
        Index("ix_requests_created_at", "created_at"),
        Index("ix_requests_due", "status", "due_date", "assigned_to_id"),  # overdue now
    )


class RequestEvent(Base):
    """One thing that happened to a request: who, when, which step, notes."""

    __tablename__ = "request_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    action: Mapped[str] = mapped_column(String(30))
    actor: Mapped[str] = mapped_column(String(10), comment="citizen, staff, kiosk or system")
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str] = mapped_column(String(20))
    step: Mapped[str] = mapped_column(String(80), comment="The id of the request's step then")
    public_note: Mapped[str | None] = mapped_column(Text)
    internal_note: Mapped[str | None] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

    request: Mapped[ServiceRequest] = relationship(back_populates="events")


class RequestDocument(Base):
    """A file handed in for one of the service's document slots."""

    __tablename__ = "request_documents"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    slot: Mapped[str] = mapped_column(String(60))
    original_name: Mapped[str] = mapped_column(String(200), comment="For display only")
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    media_type: Mapped[str] = mapped_column(String(50), comment="Detected from the bytes")
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    uploaded_by: Mapped[str] = mapped_column(String(10))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    replaced: Mapped[bool] = mapped_column(Boolean, default=False)

    request: Mapped[ServiceRequest] = relationship(back_populates="documents")


class Notification(Base):
    """An SMS to send to a citizen, written in the same transaction as what caused it: an
    event of a request, a ticket's place in the queue, or a one-time code (`confirmation_id`,
    sent through the provider's approved `template`; its `token` is kept only until the
    provider has it)."""

    __tablename__ = "notifications"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("request_events.id"))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    confirmation_id: Mapped[int | None] = mapped_column(
        ForeignKey("mobile_confirmations.id"), index=True)
    template: Mapped[str | None] = mapped_column(
        String(60), comment="The provider's approved template of a one-time code")
    token: Mapped[str | None] = mapped_column(
        String(12), comment="A one-time code, until the provider has it (then cleared)")
    mobile: Mapped[str] = mapped_column(String(11))
    event: Mapped[str] = mapped_column(String(30))
    text: Mapped[str] = mapped_column(Text)
    # queued → sent → delivered | failed | cancelled; held while the daily budget is spent.
    status: Mapped[str] = mapped_column(String(10), default="queued", index=True)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    parts: Mapped[int] = mapped_column(Integer, default=1, server_default="1",
                                       comment="SMS parts the text takes (and is billed as)")
    provider: Mapped[str | None] = mapped_column(String(20), comment="Which provider sent it")
    provider_id: Mapped[str | None] = mapped_column(String(64),
                                                    comment="The provider's message id")
    cost_rials: Mapped[int | None] = mapped_column(Integer, comment="As the provider billed it")
    reason: Mapped[str | None] = mapped_column(String(200),
                                               comment="Why it failed, in Persian")
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class MobileConfirmation(Base):
    """A one-time code sent to prove that whoever files online holds the mobile they typed,
    after the check (when the service has one) that the mobile is the national code's.

    The code is kept only as an HMAC; `check` keeps the check's evidence until a filing
    records it. Rows are also the per-mobile and per-address limits' counters."""

    __tablename__ = "mobile_confirmations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True)
    national_code: Mapped[str] = mapped_column(String(10))
    mobile: Mapped[str] = mapped_column(String(11), index=True)
    address: Mapped[str] = mapped_column(String(45), index=True,
                                         comment="The client's address, for the limits")
    code_digest: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    wrong_attempts: Mapped[int] = mapped_column(Integer, default=0)
    confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    check: Mapped[dict[str, Any] | None] = mapped_column(
        JSON, comment="The mobile check's answer and evidence, recorded with each filing")
