"""Inquiries made of other agencies for a request, and the evidence of every exchange.

`Inquiry` is one catalog inquiry of one request: its state and its result in plain Persian.
`InquiryExchange` is one entry of the request's evidence log: what was sent and received
(digests always; the bodies, which hold personal data, until the retention period ends),
when, the agency's signature, and a hash chaining it to the request's previous entry.
`EvidenceHead` is the end of each request's chain, so a deleted last entry shows too, and
appends to different requests never wait on one another.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow


class Inquiry(Base):
    __tablename__ = "inquiries"
    __table_args__ = (UniqueConstraint("request_id", "inquiry_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), index=True)
    inquiry_id: Mapped[str] = mapped_column(String(80), comment="The catalog inquiry's id")
    kind: Mapped[str] = mapped_column(String(40))
    blocking: Mapped[bool] = mapped_column(Boolean, default=False)
    status: Mapped[str] = mapped_column(
        String(10), default="pending", index=True,
        comment="pending, done (holds), failed (does not hold) or manual (to check by hand)")
    summary: Mapped[str | None] = mapped_column(Text, comment="The result in plain Persian")
    round: Mapped[int] = mapped_column(Integer, default=1, comment="Asked again: a new round")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    asked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    manual_reason: Mapped[str | None] = mapped_column(Text)
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InquiryExchange(Base):
    __tablename__ = "inquiry_exchanges"
    __table_args__ = (UniqueConstraint("request_id", "seq"),
                      UniqueConstraint("inquiry_id", "round", "attempt"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"))
    seq: Mapped[int] = mapped_column(Integer, comment="Place in the request's chain, from 1")
    inquiry_id: Mapped[int] = mapped_column(ForeignKey("inquiries.id"), index=True)
    round: Mapped[int] = mapped_column(Integer)
    attempt: Mapped[int] = mapped_column(Integer, comment="0 for a clerk's manual result")
    outcome: Mapped[str] = mapped_column(
        String(16), comment="answered, refused, timeout, unavailable, malformed, "
                            "bad_signature or manual")
    target: Mapped[str] = mapped_column(String(40))
    message_id: Mapped[str | None] = mapped_column(String(64))
    reply_id: Mapped[str | None] = mapped_column(String(64))
    http_status: Mapped[int | None] = mapped_column(Integer)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    request_digest: Mapped[str] = mapped_column(String(64), comment="SHA-256 of what was sent")
    reply_digest: Mapped[str] = mapped_column(String(64), comment="SHA-256 of what came back")
    signature: Mapped[str | None] = mapped_column(Text)
    signature_key: Mapped[str | None] = mapped_column(String(80))
    signature_valid: Mapped[bool | None] = mapped_column(Boolean)
    note: Mapped[str | None] = mapped_column(Text, comment="The error, or the clerk's reason")
    request_body: Mapped[bytes | None] = mapped_column(
        LargeBinary, comment="Personal data: removed after the retention period")
    reply_body: Mapped[bytes | None] = mapped_column(LargeBinary)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    prev_hash: Mapped[str] = mapped_column(String(64))
    entry_hash: Mapped[str] = mapped_column(String(64))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class EvidenceHead(Base):
    __tablename__ = "evidence_heads"

    request_id: Mapped[int] = mapped_column(ForeignKey("requests.id"), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer)
    entry_hash: Mapped[str] = mapped_column(String(64))
