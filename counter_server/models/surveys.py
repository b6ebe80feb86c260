"""Satisfaction survey answers, tied to the request or ticket they are about, and the
one-time invitations (an SMS link) that ask for them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow


class SurveyInvitation(Base):
    """A one-time link (`/s/<token>`) asking the citizen about one finished request."""

    __tablename__ = "survey_invitations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True,
                                       comment="Unguessable (secrets.token_urlsafe)")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    service_slug: Mapped[str] = mapped_column(String(80), index=True)
    office_slug: Mapped[str | None] = mapped_column(String(80))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str | None] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SurveyAnswer(Base):
    __tablename__ = "survey_answers"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    client_id: Mapped[str] = mapped_column(String(36), unique=True)
    body_digest: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[int | None] = mapped_column(ForeignKey("kiosks.id"))
    service_slug: Mapped[str | None] = mapped_column(String(80), index=True)
    tracking_code: Mapped[str | None] = mapped_column(String(16), index=True)
    ticket_id: Mapped[str | None] = mapped_column(String(16))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="The answering device's clock (a kiosk's)")
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("survey_invitations.id"), unique=True,
        comment="The SMS invitation answered; one answer per invitation")
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    ticket_ref_id: Mapped[int | None] = mapped_column(
        ForeignKey("tickets.id"), comment="The ticket row that `ticket_id` (its public id) names")
    office_slug: Mapped[str | None] = mapped_column(String(80))
    counter_id: Mapped[int | None] = mapped_column(ForeignKey("counters.id"))
    clerk_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    channel: Mapped[str | None] = mapped_column(String(10))
    score: Mapped[float | None] = mapped_column(
        Float,
        comment="The mean of the answers (1 … 5), kept for reports")
