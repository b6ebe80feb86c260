"""Documents delivered to citizens: signed PDFs, each with a public id and a seal."""

from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow


class Deliverable(Base):
    """A document issued for a request: what its seal says, where its signed PDF is, and
    whether it was revoked. The public id is in its QR's address, `/v/<public_id>`."""

    __tablename__ = "deliverables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    public_id: Mapped[str] = mapped_column(
        String(24), unique=True, comment="Unguessable: 120 random bits, for /v/<public_id>")
    client_id: Mapped[str] = mapped_column(String(36), unique=True,
                                           comment="Idempotency key chosen by the client")
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20), comment="card, licence, certificate, letter")
    number: Mapped[str] = mapped_column(String(20), unique=True)
    title: Mapped[str] = mapped_column(String(200))
    holder: Mapped[str] = mapped_column(String(100))
    masked_national_code: Mapped[str] = mapped_column(String(10))
    source: Mapped[str] = mapped_column(String(10), comment="template or upload")
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    issued_on: Mapped[date] = mapped_column(Date, comment="The issue date the seal states")
    expires_on: Mapped[date | None] = mapped_column(Date)
    sha256: Mapped[str] = mapped_column(String(64), comment="Of the signed PDF")
    size: Mapped[int] = mapped_column(Integer)
    stored_name: Mapped[str] = mapped_column(String(100), unique=True)
    seal_text: Mapped[str] = mapped_column(Text, comment="The QR's text: address and seal")
    issued_by_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    revocation_reason: Mapped[str | None] = mapped_column(Text)
