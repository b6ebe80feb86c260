"""The life of a request: its statuses, the actions that move it, and their Persian names.

The server enforces these transitions; the kiosk and the tracking pages show the same labels.

    submitted ──claim──▶ in_review ──advance──▶ in_progress ──approve──▶ approved ──complete──▶ completed
        │                  │  ▲                     │  ▲
        │     request_documents │ documents_provided │  │
        │                  ▼  │                     ▼  │
        └───────────── waiting_citizen ◀────────────┘
    reject: from any open status except approved ──▶ rejected
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Status(StrEnum):
    submitted = "submitted"
    in_review = "in_review"
    waiting_citizen = "waiting_citizen"
    in_progress = "in_progress"
    approved = "approved"
    rejected = "rejected"
    completed = "completed"


STATUS_LABELS: dict[Status, str] = {
    Status.submitted: "ثبت‌شده، در انتظار بررسی",
    Status.in_review: "در حال بررسی",
    Status.waiting_citizen: "در انتظار اقدام متقاضی",
    Status.in_progress: "در حال انجام",
    Status.approved: "تأییدشده",
    Status.rejected: "ردشده",
    Status.completed: "انجام‌شده و تحویل‌شده",
}

FINAL = frozenset({Status.rejected, Status.completed})
OPEN = frozenset(Status) - FINAL


class Action(StrEnum):
    submit = "submit"
    claim = "claim"
    request_documents = "request_documents"
    documents_provided = "documents_provided"
    advance = "advance"
    record_payment = "record_payment"
    approve = "approve"
    reject = "reject"
    complete = "complete"
    note = "note"


@dataclass(frozen=True)
class Rule:
    """Where an action may start from and where it leaves the request (None: unchanged)."""

    sources: frozenset[Status]
    target: Status | None
    label: str


_WORKING = frozenset({Status.in_review, Status.in_progress})

RULES: dict[Action, Rule] = {
    Action.claim: Rule(frozenset({Status.submitted}), Status.in_review,
                       "برداشتن درخواست برای رسیدگی"),
    Action.request_documents: Rule(_WORKING, Status.waiting_citizen,
                                   "درخواست مدرک یا اصلاح از متقاضی"),
    Action.documents_provided: Rule(frozenset({Status.waiting_citizen}), Status.in_review,
                                    "ارسال مدارک خواسته‌شده"),
    Action.advance: Rule(_WORKING, Status.in_progress, "انجام مرحله و رفتن به مرحله بعد"),
    Action.record_payment: Rule(OPEN - {Status.approved}, None, "ثبت پرداخت هزینه"),
    Action.approve: Rule(_WORKING, Status.approved, "تأیید درخواست"),
    Action.reject: Rule(OPEN - {Status.approved}, Status.rejected, "رد درخواست"),
    Action.complete: Rule(frozenset({Status.approved}), Status.completed,
                          "انجام و تحویل خدمت"),
    Action.note: Rule(frozenset(Status), None, "یادداشت"),
}

EVENT_LABELS: dict[str, str] = {
    Action.submit: "ثبت درخواست",
    **{action.value: rule.label for action, rule in RULES.items()},
    "document_added": "بارگذاری مدرک",
}


class TransitionError(Exception):
    """An action that the request's status does not allow."""

    def __init__(self, action: Action, status: Status):
        super().__init__(f"{action} is not allowed when the request is {status}")
        self.action, self.status = action, status
        self.message = (f"«{RULES[action].label}» در وضعیت «{STATUS_LABELS[status]}» "
                        "ممکن نیست.")


def next_status(action: Action, status: Status) -> Status:
    """The status after `action`, or TransitionError when it is not allowed from `status`."""
    rule = RULES[action]
    if status not in rule.sources:
        raise TransitionError(action, status)
    return rule.target or status


def allowed_actions(status: Status) -> list[Action]:
    return [action for action, rule in RULES.items() if status in rule.sources]
