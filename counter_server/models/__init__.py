"""SQLAlchemy models of the counter server, one module per area."""

from counter_server.models.catalog import CatalogDraft, CatalogVersion, Category, Service
from counter_server.models.deliverables import Deliverable
from counter_server.models.inquiries import EvidenceHead, Inquiry, InquiryExchange
from counter_server.models.jobs import Circuit, Job, UsageDay
from counter_server.models.walk_in_queue import Counter, Lease, Office, QueueDay, Ticket, TicketEvent
from counter_server.models.service_requests import (
    MobileConfirmation,
    Notification,
    RequestDocument,
    RequestEvent,
    ServiceRequest,
)
from counter_server.models.staff import AuditEntry, Kiosk, ServiceAssignment, User
from counter_server.models.surveys import SurveyAnswer, SurveyInvitation

__all__ = [
    "AuditEntry",
    "CatalogDraft",
    "CatalogVersion",
    "Category",
    "Circuit",
    "Counter",
    "Deliverable",
    "EvidenceHead",
    "Inquiry",
    "InquiryExchange",
    "Job",
    "Kiosk",
    "Lease",
    "MobileConfirmation",
    "Notification",
    "Office",
    "QueueDay",
    "RequestDocument",
    "RequestEvent",
    "Service",
    "ServiceAssignment",
    "ServiceRequest",
    "SurveyAnswer",
    "SurveyInvitation",
    "Ticket",
    "TicketEvent",
    "UsageDay",
    "User",
]
