"""Satisfaction survey answers, tied to the request or ticket they are about."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow


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
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
