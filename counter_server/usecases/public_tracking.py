"""Following a request by its tracking code: the public view and the applicant's check.

The public view carries no personal data. Each step shows the notes staff wrote to the
applicant while the request was at it; the current state shows only the note written since
the request reached it (never an earlier step's), and a request waiting for the applicant
names the documents staff asked for. The applicant proves who they are with the national
code and mobile number on the request; repeated failures lock the check for that code.
"""

from __future__ import annotations

import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from counter_server.db import utcnow
from counter_server.models import RequestEvent, ServiceRequest
from counter_server.usecases import documents, inquiries
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.tracking_reads import Event, TrackedRequest
from shared.validators import InvalidValue, clean_mobile, clean_national_code
from shared.workflow import EVENT_LABELS, FINAL, STATUS_LABELS, Status

MAX_CHECK_FAILURES = 5
CHECK_LOCK = timedelta(minutes=15)


# The statuses whose note is the office's decision (the `decision` of the JSON).
DECIDED = frozenset({Status.approved, Status.rejected, Status.completed})


@dataclass(frozen=True)
class StepNote:
    """A note to the applicant, written by the event `action` while the request was at a step."""

    at: datetime
    action: str
    label: str
    text: str

    def as_json(self) -> dict[str, str]:
        return {"at": self.at.isoformat(), "event": self.action, "label": self.label,
                "text": self.text}


@dataclass(frozen=True)
class StepView:
    id: str
    index: int
    title: str
    actor: str
    state: str  # done, current or pending
    completed_at: datetime | None
    notes: list[StepNote]


@dataclass(frozen=True)
class PublicView:
    """What anyone holding the code may see."""

    tracking_code: str
    service_slug: str
    service_title: str
    status: Status
    status_label: str
    current_step: str
    steps: list[StepView]
    submitted_at: datetime
    updated_at: datetime
    due_date: date
    elapsed_working_days: int
    promised: dict[str, Any]
    overdue: bool
    note: str | None  # the note that belongs to the current state, if any
    asked_documents: list[dict[str, str]]  # {"id", "name"}: what a waiting request needs
    citizen_action: str | None
    timeline: list[tuple[datetime, str, str | None]]
    channel: str
    documents: list[str]
    inquiries: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "tracking_code": self.tracking_code,
            "service": {"slug": self.service_slug, "title": self.service_title},
            "status": self.status.value,
            "status_label": self.status_label,
            "current_step": self.current_step,
            "steps": [{"id": s.id, "index": s.index, "title": s.title, "actor": s.actor, "state": s.state,
                       "completed_at": s.completed_at.isoformat() if s.completed_at else None,
                       "notes": [n.as_json() for n in s.notes]}
                      for s in self.steps],
            "submitted_at": self.submitted_at.isoformat(),
            "updated_at": self.updated_at.isoformat(),
            "due_date": self.due_date.isoformat(),
            "elapsed_working_days": self.elapsed_working_days,
            "promised": self.promised,
            "overdue": self.overdue,
            "note": self.note,
            "asked_documents": self.asked_documents,
            "citizen_action": self.citizen_action,
            "decision": self.note if self.status in DECIDED else None,
            "channel": self.channel,
            "documents": self.documents,
            "inquiries": [{k: i[k] for k in ("kind", "title", "status", "status_label",
                                             "advice")} for i in self.inquiries],
        }


def _step_completions(events: Sequence[RequestEvent | Event], positions: dict[str, int]
                      ) -> dict[int, datetime]:
    """When each step (by position) was finished, from the history; `positions` maps the
    request's step ids to their places in its workflow."""
    done: dict[int, datetime] = {}
    for event in events:
        position = positions.get(event.step)
        if event.action == "submit":
            done.setdefault(0, event.at)
        elif position is None:
            continue
        elif event.action == "advance":
            done.setdefault(position - 1, event.at)
        elif event.action == "approve":
            for index in range(position):
                done.setdefault(index, event.at)
        elif event.action in ("reject", "complete"):
            done.setdefault(position, event.at)
    return done


def _state_note(events: Sequence[RequestEvent | Event]) -> str | None:
    """The latest note to the applicant written since the request reached its status (or,
    by an advance, its step)."""
    reached = max((i for i, e in enumerate(events)
                   if e.from_status != e.to_status or e.action == "advance"), default=0)
    notes = [e.public_note for e in events[reached:] if e.public_note]
    return notes[-1] if notes else None


def _notes_by_step(events: Sequence[RequestEvent | Event], positions: dict[str, int]
                   ) -> dict[int, list[StepNote]]:
    """The notes to the applicant by the position of the step they were written at: the step
    the request was at, except an advance's, which belongs to the step it finished."""
    notes: dict[int, list[StepNote]] = {}
    for event in events:
        position = positions.get(event.step)
        if not event.public_note or position is None:
            continue
        if event.action == "advance":
            position = max(position - 1, 0)
        notes.setdefault(position, []).append(StepNote(
            event.at, event.action, EVENT_LABELS.get(event.action, event.action),
            event.public_note))
    return notes


def _asked(request: ServiceRequest | TrackedRequest) -> list[dict[str, str]]:
    slots = documents.asked_slots(request) or []
    return [{"id": slot, "name": name}
            for slot, name in zip(slots, documents.slot_names(request, slots), strict=True)]


def _citizen_action(request: ServiceRequest | TrackedRequest, asked: list[dict[str, str]],
                    note: str | None) -> str | None:
    """What the applicant must do, in one Persian text: the documents asked for, the note."""
    if request.status != Status.waiting_citizen:
        return None
    names = "، ".join(f"«{d['name']}»" for d in asked)
    said = [f"این مدارک را بفرستید: {names}." if asked else "", note or ""]
    return " ".join(part for part in said if part) or None


@dataclass(frozen=True)
class Steps:
    """A service's steps as its terms give them: (id, title, actor) and each id's place."""

    steps: tuple[tuple[str, str, str], ...]
    positions: dict[str, int]


# Steps by the identity of their terms: a catalog version's terms are parsed once per process
# (`models.catalog.services_of`) and never change, so their steps are worked out once too.
_STEPS: dict[int, tuple[dict[str, Any], Steps]] = {}


def steps_of(terms: dict[str, Any]) -> Steps:
    known = _STEPS.get(id(terms))
    if known is not None and known[0] is terms:
        return known[1]
    steps = Steps(tuple((s["id"], s["title"], s["actor"]) for s in terms["steps"]),
                  {s["id"]: index for index, s in enumerate(terms["steps"])})
    _STEPS[id(terms)] = (terms, steps)
    return steps


def public_view(request: ServiceRequest | TrackedRequest, snapshot: Snapshot,
                now: datetime | None = None) -> PublicView:
    now = now or utcnow()
    status = Status(request.status)
    terms = request.service
    known = steps_of(terms)
    positions = known.positions
    current = positions.get(request.current_step, 0)
    completions = _step_completions(request.events, positions)
    notes = _notes_by_step(request.events, positions)
    steps = []
    for index, (step_id, title, actor) in enumerate(known.steps):
        if index in completions or (status in FINAL and index < current):
            state = "done"
        elif index == current and status not in FINAL:
            state = "current"
        else:
            state = "pending"
        steps.append(StepView(step_id, index, title, actor, state,
                              completions.get(index), notes.get(index, [])))
    state_note, asked = _state_note(request.events), _asked(request)
    calendar = snapshot.calendar
    return PublicView(
        tracking_code=request.tracking_code, service_slug=request.service_slug,
        service_title=terms["title"], status=status,
        status_label=STATUS_LABELS[status], current_step=request.current_step, steps=steps,
        submitted_at=request.created_at, updated_at=request.updated_at,
        due_date=request.due_date,
        elapsed_working_days=calendar.working_days_between(request.created_at, now),
        promised=terms["duration"],
        overdue=status not in FINAL and calendar.local_date(now) > request.due_date,
        note=state_note, asked_documents=asked,
        citizen_action=_citizen_action(request, asked, state_note),
        timeline=[(e.at, EVENT_LABELS.get(e.action, e.action), e.public_note)
                  for e in request.events],
        channel=request.channel,
        documents=_received(request, terms),
        inquiries=inquiries.public_states(request),
    )


def _received(request: ServiceRequest | TrackedRequest, terms: dict[str, Any]) -> list[str]:
    """The names of the documents received (the slots' titles, never the files' names)."""
    names = {d["id"]: d["name"] for d in terms.get("documents", [])}
    return [names[d.slot] for d in request.documents if not d.replaced and d.slot in names]


class CheckLocked(Exception):
    """Too many failed checks: the applicant check for this code is locked for a while."""

    def __init__(self, until: datetime):
        super().__init__(until.isoformat())
        self.until = until


def verify_applicant(request: ServiceRequest, national_code: str, mobile: str,
                     now: datetime | None = None) -> bool:
    """True if these are the applicant's national code and mobile; counts failures."""
    now = now or utcnow()
    if request.check_locked_until and request.check_locked_until > now:
        raise CheckLocked(request.check_locked_until)
    try:
        matches = (hmac.compare_digest(clean_national_code(national_code),
                                       request.applicant_national_code)
                   & hmac.compare_digest(clean_mobile(mobile), request.applicant_mobile))
    except InvalidValue:
        matches = False
    return _counted(request, matches, now)


def verify_holder(request: ServiceRequest, national_code: str,
                  now: datetime | None = None) -> bool:
    """True if this is the applicant's national code; failures count as in
    `verify_applicant`. Only for a kiosk, where the receipt's QR was scanned as well."""
    now = now or utcnow()
    if request.check_locked_until and request.check_locked_until > now:
        raise CheckLocked(request.check_locked_until)
    try:
        matches = hmac.compare_digest(clean_national_code(national_code),
                                      request.applicant_national_code)
    except InvalidValue:
        matches = False
    return _counted(request, matches, now)


def _counted(request: ServiceRequest, matches: bool, now: datetime) -> bool:
    """A check's result, its failure counted (and the check locked after too many)."""
    if matches:
        request.check_failures = 0
        return True
    request.check_failures += 1
    if request.check_failures >= MAX_CHECK_FAILURES:
        request.check_failures, request.check_locked_until = 0, now + CHECK_LOCK
    return False
