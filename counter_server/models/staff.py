"""Staff accounts, their services, kiosks as devices, and the audit log."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from flask_login import UserMixin
from sqlalchemy import JSON, Boolean, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from counter_server.db import Base, UTCDateTime, utcnow


class User(UserMixin, Base):
    """A member of staff who logs in to the desk."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    username: Mapped[str] = mapped_column(String(60), unique=True)
    full_name: Mapped[str] = mapped_column(String(100))
    role: Mapped[str] = mapped_column(String(20))
    password_hash: Mapped[str] = mapped_column(String(300))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    session_version: Mapped[int] = mapped_column(
        Integer, default=0, server_default="0",
        comment="Raised to end every session: logout, disabling, a new password")
    totp_secret: Mapped[str | None] = mapped_column(
        String(64), comment="The second factor's TOTP secret (base32); none before enrolment")
    totp_last_step: Mapped[int | None] = mapped_column(
        Integer, comment="The time step of the last accepted code: a code counts once")
    recovery_codes: Mapped[list[str]] = mapped_column(
        JSON, default=list, server_default="[]", comment="SHA-256 of the unused recovery codes")
    two_factor_since: Mapped[datetime | None] = mapped_column(UTCDateTime)

    assignments: Mapped[list[ServiceAssignment]] = relationship(
        cascade="all, delete-orphan", lazy="selectin")

    @property
    def has_second_factor(self) -> bool:
        return self.totp_secret is not None

    @property
    def service_slugs(self) -> set[str]:
        return {a.service_slug for a in self.assignments}


class ServiceAssignment(Base):
    """A clerk may work on the requests of the services assigned to them."""

    __tablename__ = "service_assignments"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    service_slug: Mapped[str] = mapped_column(ForeignKey("services.slug"), primary_key=True)


class Kiosk(Base):
    """A registered lobby kiosk; its id is the issuer number in the codes it hands out."""

    __tablename__ = "kiosks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    office_slug: Mapped[str | None] = mapped_column(ForeignKey("offices.slug"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    heartbeat: Mapped[dict[str, Any]] = mapped_column(
        JSON, default=dict, comment="The kiosk's last report: version, outbox, printer, clock")


class AuditEntry(Base):
    """Who did what to which request, and who looked at whose personal data."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    action: Mapped[str] = mapped_column(String(40))
    request_id: Mapped[int | None] = mapped_column(ForeignKey("requests.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(45))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
