"""SQLAlchemy models of the counter server, one module per area."""

from counter_server.models.catalog import CatalogVersion, Category, Service
from counter_server.models.requests import (
    Notification,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
)
from counter_server.models.staff import AuditEntry, Kiosk, ServiceAssignment, User

__all__ = [
    "AuditEntry",
    "CatalogVersion",
    "Category",
    "Kiosk",
    "Notification",
    "RequestDocument",
    "RequestEvent",
    "Service",
    "ServiceAssignment",
    "ServiceRequest",
    "User",
]
