"""The requests report over a range of filing days: volumes by channel and service, processing
time against the promised duration, time spent in each step, what is overdue now and who
holds it, rejections and their reasons.

Definitions:
- a request *closes* with its `complete` or `reject` event; it is *on time* when it closed on or
  before its `due_date` (a local day) — the due date the request was given when filed, from
  the duration its catalog version promised, so a later catalog does not move it;
- *processing time* runs from filing to closing, in calendar hours (shown as days);
- *time in a step* runs from the event that left the request at a step to the next event, and
  a request's stays in one step add up; only stays that ended count;
- *overdue now*: open, and its due date is before today (filing range ignored);
- the *clerk* of a request is the member of staff who took it (`assigned_to`).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Row, and_, case, delete, func, insert, or_, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from counter_server.models import RequestEvent, RequestRollup, ServiceRequest, User
from counter_server.usecases import report_rollups
from counter_server.usecases.catalog_versions import Snapshot
from counter_server.usecases.reports import (
    Filters,
    local_day,
    percentile,
    seconds_between,
    whole,
)
from shared.catalog.labels import CHANNELS
from shared.catalog.schema import Channel
from shared.text import format_duration
from shared.workcalendar import WorkCalendar
from shared.workflow import FINAL, OPEN, STATUS_LABELS, Status

UNKNOWN = "نامشخص"
CLOSING = ("complete", "reject")
MAX_OVERDUE = 100
MAX_REASONS = 50
HOUR = 3600.0


@dataclass(frozen=True)
class Volume:
    key: str
    label: str
    total: int
    online: int
    kiosk: int
    counter: int


@dataclass(frozen=True)
class Timeliness:
    key: str
    label: str
    promised: str
    closed: int
    on_time: int
    late: int
    share: float | None
    median_days: float | None
    p90_days: float | None


@dataclass(frozen=True)
class StepTime:
    service: str
    step: str
    requests: int
    median_days: float | None
    p90_days: float | None
    average_days: float | None


@dataclass(frozen=True)
class Overdue:
    tracking_code: str
    service: str
    status: str
    due_date: date
    days_late: int
    holder: str
    created_at: datetime


@dataclass(frozen=True)
class Holder:
    key: str
    label: str
    overdue: int
    oldest_due: date


@dataclass(frozen=True)
class Reason:
    service: str
    reason: str
    count: int


@dataclass(frozen=True)
class RequestReport:
    filed: int
    closed: int
    on_time: int
    by_service: list[Volume] = field(default_factory=list)
    by_channel: list[Volume] = field(default_factory=list)
    timeliness: list[Timeliness] = field(default_factory=list)
    by_clerk: list[Timeliness] = field(default_factory=list)
    steps: list[StepTime] = field(default_factory=list)
    overdue: list[Overdue] = field(default_factory=list)
    overdue_count: int = 0
    holders: list[Holder] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    rejected: int = 0

    @property
    def on_time_share(self) -> float | None:
        return self.on_time / self.closed if self.closed else None


def report(session: Session, snapshot: Snapshot, filters: Filters, today: date
           ) -> RequestReport:
    """The requests report for `filters` (service, channel, clerk; office and queue and
    counter concern the lobby only); `today` is the agency's local day. Settled filing days
    come from their roll-ups, the others from the requests."""
    plan = report_rollups.plan(session, report_rollups.REQUESTS, filters.date_from,
                               filters.date_to)
    found: dict[Combo, Cell] = {}
    if plan.computed:
        filed = or_(*(_filed_within(snapshot.calendar, span) for span in plan.computed))
        found = cells(session, [*_where(filters), filed], filters.offset_minutes(
            snapshot.calendar))
    if plan.rolled:
        for combo, cell in _rolled(session, filters, plan.rolled):
            found.setdefault(combo, Cell()).add(cell)
    label = _labeller(session, snapshot)
    by_service, by_channel = _volumes(found, label)
    timeliness = {dimension: _timeliness(found, dimension, label, snapshot)
                  for dimension in ("service", "clerk")}
    overdue, overdue_count, holders = _overdue(session, _where(filters), today, label)
    reasons, rejected = _reasons(found, label)
    return RequestReport(
        filed=sum(v.total for v in by_service),
        closed=sum(t.closed for t in timeliness["service"]),
        on_time=sum(t.on_time for t in timeliness["service"]), by_service=by_service,
        by_channel=by_channel, timeliness=timeliness["service"], by_clerk=timeliness["clerk"],
        steps=_steps(found, label), overdue=overdue, overdue_count=overdue_count,
        holders=holders, reasons=reasons, rejected=rejected)


def _where(filters: Filters) -> list[ColumnElement[bool]]:
    """The filters but the range (filing days for the figures; none for what is overdue)."""
    where: list[ColumnElement[bool]] = []
    if filters.service:
        where.append(ServiceRequest.service_slug == filters.service)
    if filters.channel:
        where.append(ServiceRequest.channel == filters.channel)
    if filters.clerk is not None:
        where.append(ServiceRequest.assigned_to_id == filters.clerk)
    return where


def _filed_within(calendar: WorkCalendar, span: report_rollups.Span) -> ColumnElement[bool]:
    start, end = Filters(*span).utc_bounds(calendar)
    return and_(ServiceRequest.created_at >= start, ServiceRequest.created_at < end)


# The combination of filters a cell counts: service, channel, clerk.
Combo = tuple[str, str, int | None]
COMBO = (ServiceRequest.service_slug, ServiceRequest.channel, ServiceRequest.assigned_to_id)


@dataclass
class Cell:
    """The figures of some requests, mergeable: counts and histograms of whole hours."""

    filed: int = 0
    on_time: int = 0
    hours: dict[int, int] = field(default_factory=dict)  # closed: hours to close → n
    reasons: dict[str, int] = field(default_factory=dict)  # rejected: reason → n
    steps: dict[tuple[str, int], list[float]] = field(default_factory=dict)
    # (step, whole hours a request spent in it) → [requests, their seconds]

    def add(self, other: Cell) -> None:
        self.filed += other.filed
        self.on_time += other.on_time
        for mine, theirs in ((self.hours, other.hours), (self.reasons, other.reasons)):
            for value, count in theirs.items():
                mine[value] = mine.get(value, 0) + count  # type: ignore[index]
        for key, (count, seconds) in other.steps.items():
            counted = self.steps.setdefault(key, [0, 0.0])
            counted[0] += count
            counted[1] += seconds


def cells(session: Session, where: list[ColumnElement[bool]], offset: int
          ) -> dict[Combo, Cell]:
    """The requests `where` selects, one cell per combination of the report's filters."""
    found: dict[Combo, Cell] = defaultdict(Cell)
    for *combo, count in session.execute(select(*COMBO, func.count()).where(*where)
                                         .group_by(*COMBO)):
        found[tuple(combo)].filed = int(count)  # type: ignore[index]
    _closing(session, where, offset, found)
    rejected = (select(*COMBO, ServiceRequest.decision_reason, func.count())
                .where(*where, ServiceRequest.status == Status.rejected.value)
                .group_by(*COMBO, ServiceRequest.decision_reason))
    for *combo, reason, count in session.execute(rejected):
        found[tuple(combo)].reasons[reason or UNKNOWN] = int(count)  # type: ignore[index]
    _stays(session, where, found)
    return dict(found)


def _closing(session: Session, where: list[ColumnElement[bool]], offset: int,
             found: dict[Combo, Cell]) -> None:
    """Hours to close and on time, from each closed request's closing event (a request
    closes once: completed and rejected are final)."""
    closing = RequestEvent
    on_time = case((local_day(closing.at, offset) <= ServiceRequest.due_date, 1), else_=0)
    hours = whole(seconds_between(ServiceRequest.created_at, closing.at) / HOUR).label("hours")
    query = (select(*COMBO, hours, func.count(), func.sum(on_time))
             .join(closing, and_(closing.request_id == ServiceRequest.id,
                                 closing.action.in_(CLOSING)))
             .where(*where, ServiceRequest.status.in_([s.value for s in FINAL]))
             .group_by(*COMBO, hours))
    for *combo, taken, count, timely in session.execute(query):
        cell = found[tuple(combo)]  # type: ignore[index]
        taken = max(int(taken), 0)
        cell.hours[taken] = cell.hours.get(taken, 0) + int(count)
        cell.on_time += int(timely or 0)


def _stays(session: Session, where: list[ColumnElement[bool]], found: dict[Combo, Cell]
           ) -> None:
    """Time in each step: a stay runs from an event to the next; a request's stays in one
    step add up; only stays that ended count."""
    following = func.lead(RequestEvent.at).over(partition_by=RequestEvent.request_id,
                                                order_by=RequestEvent.id)
    stays = (select(RequestEvent.request_id, *COMBO, RequestEvent.step,
                    seconds_between(RequestEvent.at, following).label("seconds"))
             .join(ServiceRequest, ServiceRequest.id == RequestEvent.request_id)
             .where(*where).subquery("stays"))
    combo = (stays.c.service_slug, stays.c.channel, stays.c.assigned_to_id)
    per_request = (select(*combo, stays.c.step, func.sum(stays.c.seconds).label("seconds"))
                   .where(stays.c.seconds.is_not(None))
                   .group_by(stays.c.request_id, *combo, stays.c.step)
                   .subquery("per_request"))
    hours = whole(per_request.c.seconds / HOUR).label("hours")
    grouped = (per_request.c.service_slug, per_request.c.channel, per_request.c.assigned_to_id,
               per_request.c.step)
    query = (select(*grouped, hours, func.count(), func.sum(per_request.c.seconds))
             .group_by(*grouped, hours))
    for service, channel, clerk, step, taken, count, seconds in session.execute(query):
        found[(service, channel, clerk)].steps[(step, max(int(taken), 0))] = [
            int(count), float(seconds or 0)]


# -- the roll-ups ------------------------------------------------------------------------------

def roll_day(session: Session, day: date, calendar: WorkCalendar) -> None:
    """Store the cells of the requests filed on `day` as its roll-up (replacing an older
    one) in the caller's transaction."""
    session.execute(delete(RequestRollup).where(RequestRollup.day == day))
    found = cells(session, [_filed_within(calendar, (day, day))],
                  Filters(day, day).offset_minutes(calendar))
    rows = [{"day": day, "service_slug": service, "channel": channel, "clerk_id": clerk,
             "filed": cell.filed, "on_time": cell.on_time, "hours": sorted(cell.hours.items()),
             "reasons": sorted(cell.reasons.items()),
             "steps": sorted([step, taken, count, seconds]
                             for (step, taken), (count, seconds) in cell.steps.items())}
            for (service, channel, clerk), cell in found.items()]
    if rows:
        session.execute(insert(RequestRollup), rows)


report_rollups.register(report_rollups.REQUESTS, roll_day)


def _rolled(session: Session, filters: Filters, spans: tuple[report_rollups.Span, ...]
            ) -> Iterator[tuple[Combo, Cell]]:
    """The cells of the rolled filing days in `spans` that the filters keep."""
    where: list[ColumnElement[bool]] = [report_rollups.within(RequestRollup.day, spans)]
    for column, value in ((RequestRollup.service_slug, filters.service),
                          (RequestRollup.channel, filters.channel),
                          (RequestRollup.clerk_id, filters.clerk)):
        if value:
            where.append(column == value)
    query = select(RequestRollup.service_slug, RequestRollup.channel, RequestRollup.clerk_id,
                   RequestRollup.filed, RequestRollup.on_time, RequestRollup.hours,
                   RequestRollup.reasons, RequestRollup.steps).where(*where)
    for service, channel, clerk, filed, on_time, hours, reasons, steps in session.execute(query):
        yield (service, channel, clerk), Cell(
            filed, on_time, dict(hours), dict(reasons),
            {(step, taken): [count, seconds] for step, taken, count, seconds in steps})


# -- figures -----------------------------------------------------------------------------------

def _volumes(found: dict[Combo, Cell], label: Callable[[str, object], str]
             ) -> tuple[list[Volume], list[Volume]]:
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for (service, channel, _), cell in found.items():
        if cell.filed:
            per[service][channel] += cell.filed

    def volume(key: str, name: str, counts: dict[str, int]) -> Volume:
        return Volume(key, name, sum(counts.values()), counts.get("online", 0),
                      counts.get("kiosk", 0), counts.get("counter", 0))
    by_service = sorted((volume(s, label("service", s), c) for s, c in per.items()),
                        key=lambda v: (-v.total, v.label))
    channels: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for counts in per.values():
        for channel, count in counts.items():
            channels[channel][channel] += count
    by_channel = [volume(c.value, CHANNELS[c], channels[c.value]) for c in Channel
                  if c.value in channels]
    return by_service, by_channel


def _timeliness(found: dict[Combo, Cell], dimension: str,
                label: Callable[[str, object], str], snapshot: Snapshot) -> list[Timeliness]:
    """On time and processing time by service or by clerk."""
    groups: dict[object, Cell] = defaultdict(Cell)
    for (service, _, clerk), cell in found.items():
        if cell.hours:
            group = groups[service if dimension == "service" else clerk]
            group.add(Cell(on_time=cell.on_time, hours=cell.hours))
    rows = []
    for value, cell in groups.items():
        closed = sum(cell.hours.values())
        rows.append(Timeliness(
            "" if value is None else str(value), label(dimension, value),
            _promised(snapshot, value) if dimension == "service" else "",
            closed, cell.on_time, closed - cell.on_time, cell.on_time / closed,
            _days(percentile(cell.hours, 0.5)), _days(percentile(cell.hours, 0.9))))
    return sorted(rows, key=lambda t: (t.label == UNKNOWN, -t.closed, t.label))


def _days(hours: float | None) -> float | None:
    return None if hours is None else hours / 24


def _promised(snapshot: Snapshot, slug: object) -> str:
    spec = snapshot.catalog.service(str(slug))
    return format_duration(spec.duration.value, spec.duration.unit.value) if spec else ""


def _steps(found: dict[Combo, Cell], label: Callable[[str, object], str]) -> list[StepTime]:
    histograms: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for (service, _, _), cell in found.items():
        for (step, taken), (count, seconds) in cell.steps.items():
            histogram = histograms[(service, step)]
            histogram[taken] = histogram.get(taken, 0) + int(count)
            totals[(service, step)] += seconds
    steps = []
    for (service, step), histogram in histograms.items():
        count = sum(histogram.values())
        steps.append(StepTime(
            label("service", service), label(f"step:{service}", step), count,
            _days(percentile(histogram, 0.5)), _days(percentile(histogram, 0.9)),
            totals[(service, step)] / count / HOUR / 24))
    return sorted(steps, key=lambda s: (s.service, -s.requests))


def _reasons(found: dict[Combo, Cell], label: Callable[[str, object], str]
             ) -> tuple[list[Reason], int]:
    counts: dict[tuple[str, str], int] = defaultdict(int)
    for (service, _, _), cell in found.items():
        for reason, count in cell.reasons.items():
            counts[(label("service", service), reason)] += count
    reasons = [Reason(service, reason, count) for (service, reason), count in counts.items()]
    reasons.sort(key=lambda r: (-r.count, r.service, r.reason))
    return reasons[:MAX_REASONS], sum(r.count for r in reasons)


def _overdue(session: Session, where: list[ColumnElement[bool]], today: date,
             label: Callable[[str, object], str]
             ) -> tuple[list[Overdue], int, list[Holder]]:
    late = and_(*where, ServiceRequest.status.in_([s.value for s in OPEN]),
                ServiceRequest.due_date < today)
    holders_query = (select(ServiceRequest.assigned_to_id, func.count(),
                            func.min(ServiceRequest.due_date))
                     .where(late).group_by(ServiceRequest.assigned_to_id))
    holders = sorted((Holder("" if user is None else str(user), label("clerk", user),
                             int(count), oldest)
                      for user, count, oldest in session.execute(holders_query)),
                     key=lambda h: (-h.overdue, h.label))
    overdue = [Overdue(code, label("service", service), label("status", status), due,
                       (today - due).days, label("clerk", user), created)
               for code, service, status, due, user, created, _ in _oldest(session, where, today)]
    return overdue, sum(h.overdue for h in holders), holders


def _oldest(session: Session, where: list[ColumnElement[bool]], today: date) -> Sequence[Row]:
    """The `MAX_OVERDUE` requests longest overdue: the oldest of each open status (each read
    in the order of the index on status and due date, so the database stops early), then the
    oldest of those."""
    columns = (ServiceRequest.tracking_code, ServiceRequest.service_slug,
               ServiceRequest.status, ServiceRequest.due_date, ServiceRequest.assigned_to_id,
               ServiceRequest.created_at, ServiceRequest.id)
    heads = [select(*columns).where(*where, ServiceRequest.status == status.value,
                                    ServiceRequest.due_date < today)
             .order_by(ServiceRequest.due_date, ServiceRequest.id).limit(MAX_OVERDUE)
             .subquery() for status in OPEN]
    merged = union_all(*(select(head) for head in heads)).subquery("heads")
    return session.execute(select(merged).order_by(merged.c.due_date, merged.c.id)
                           .limit(MAX_OVERDUE)).all()


def _labeller(session: Session, snapshot: Snapshot) -> Callable[[str, object], str]:
    catalog = snapshot.catalog
    clerks = {u.id: u.full_name for u in session.scalars(select(User))}

    def label(dimension: str, key: object) -> str:
        if key is None:
            return UNKNOWN
        if dimension == "service":
            spec = catalog.service(str(key))
            return spec.title if spec else str(key)
        if dimension == "clerk":
            return clerks.get(key, str(key))  # type: ignore[arg-type]
        if dimension == "status" and key in {s.value for s in Status}:
            return STATUS_LABELS[Status(str(key))]
        if dimension.startswith("step:"):
            spec = catalog.service(dimension.removeprefix("step:"))
            step = next((s for s in spec.steps if s.id == key), None) if spec else None
            return step.title if step else str(key)
        return str(key)
    return label
