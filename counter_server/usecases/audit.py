"""The audit log: every staff action on a request and every look at personal data."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from counter_server.models import AuditEntry, ServiceRequest, User


def record(session: Session, user: User | None, action: str,
           request: ServiceRequest | None = None, address: str | None = None,
           **details: Any) -> None:
    session.add(AuditEntry(user_id=user.id if user else None, action=action,
                           request_id=request.id if request else None,
                           address=address, details=details))
