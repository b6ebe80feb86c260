"""The desk's inbox: the requests a member of staff may work on, filtered and paged."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from counter_server.db import utcnow
from counter_server.models import ServiceRequest, User
from counter_server.usecases.staff import services_visible_to
from shared.catalog.schema import Channel
from shared.workflow import FINAL, Status

PAGE_SIZE = 50
# Each filter as the inbox's form sends it: "status" is a Status, "all", or empty for the open
# ones; "age" a number of days; "overdue" and "mine" any non-empty value.
FILTERS = ("service", "status", "channel", "age", "overdue", "mine")


@dataclass(frozen=True)
class InboxPage:
    items: list[ServiceRequest]
    total: int
    page: int
    pages: int


def read_filters(args: Mapping[str, str]) -> dict[str, str]:
    """The inbox's filters from a query string; every key present, unknown ones dropped."""
    return {key: args.get(key, "") for key in FILTERS}


def open_inbox(session: Session, user: User, filters: Mapping[str, str], today: date,
               page: int = 1) -> InboxPage:
    """Page `page` (from 1) of the requests `user` may work on, oldest first."""
    query = _filtered(select(ServiceRequest).where(services_visible_to(user).requests()),
                      user, filters, today)
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(page, 1)
    items = session.scalars(query.order_by(ServiceRequest.created_at, ServiceRequest.id)
                            .limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return InboxPage(list(items), total, page, pages=max(1, -(-total // PAGE_SIZE)))


def _filtered(query: Any, user: User, filters: Mapping[str, str], today: date) -> Any:
    open_statuses = ServiceRequest.status.not_in([s.value for s in FINAL])
    if filters.get("service"):
        query = query.where(ServiceRequest.service_slug == filters["service"])
    status = filters.get("status", "")
    if status in {s.value for s in Status}:
        query = query.where(ServiceRequest.status == status)
    elif status != "all":
        query = query.where(open_statuses)
    if filters.get("channel", "") in {c.value for c in Channel}:
        query = query.where(ServiceRequest.channel == filters["channel"])
    if filters.get("age", "").isdigit():
        query = query.where(
            ServiceRequest.created_at >= utcnow() - timedelta(days=int(filters["age"])))
    if filters.get("overdue"):
        query = query.where(ServiceRequest.due_date < today, open_statuses)
    if filters.get("mine"):
        query = query.where(ServiceRequest.assigned_to_id == user.id)
    return query
