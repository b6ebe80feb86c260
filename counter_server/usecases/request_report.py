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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Row, and_, case, func, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.expression import ColumnElement

from counter_server.models import RequestEvent, ServiceRequest, User
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
    counter concern the lobby only); `today` is the agency's local day."""
    where = _where(filters, snapshot)
    label = _labeller(session, snapshot)
    offset = filters.offset_minutes(snapshot.calendar)
    by_service, by_channel = _volumes(session, where, label)
    timeliness = _timeliness(session, where, offset, label, snapshot)
    overdue_where = _where(filters, snapshot, dated=False)
    overdue, overdue_count, holders = _overdue(session, overdue_where, today, label)
    reasons, rejected = _reasons(session, where, label)
    return RequestReport(
        filed=sum(v.total for v in by_service),
        closed=sum(t.closed for t in timeliness["service"]),
        on_time=sum(t.on_time for t in timeliness["service"]), by_service=by_service,
        by_channel=by_channel, timeliness=timeliness["service"], by_clerk=timeliness["clerk"],
        steps=_steps(session, where, label), overdue=overdue, overdue_count=overdue_count,
        holders=holders, reasons=reasons, rejected=rejected)


def _where(filters: Filters, snapshot: Snapshot, dated: bool = True
           ) -> list[ColumnElement[bool]]:
    where: list[ColumnElement[bool]] = []
    if dated:
        start, end = filters.utc_bounds(snapshot.calendar)
        where += [ServiceRequest.created_at >= start, ServiceRequest.created_at < end]
    if filters.service:
        where.append(ServiceRequest.service_slug == filters.service)
    if filters.channel:
        where.append(ServiceRequest.channel == filters.channel)
    if filters.clerk is not None:
        where.append(ServiceRequest.assigned_to_id == filters.clerk)
    return where


def _volumes(session: Session, where: list[ColumnElement[bool]],
             label: Callable[[str, object], str]) -> tuple[list[Volume], list[Volume]]:
    query = (select(ServiceRequest.service_slug, ServiceRequest.channel, func.count())
             .where(*where).group_by(ServiceRequest.service_slug, ServiceRequest.channel))
    per: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for service, channel, count in session.execute(query):
        per[service][channel] += int(count)

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


def _timeliness(session: Session, where: list[ColumnElement[bool]], offset: int,
                label: Callable[[str, object], str], snapshot: Snapshot
                ) -> dict[str, list[Timeliness]]:
    """On time and processing time by service and by clerk, from one grouped query. A
    request closes once (completed and rejected are final), so it has one closing event."""
    closing = RequestEvent
    on_time = case((local_day(closing.at, offset) <= ServiceRequest.due_date, 1), else_=0)
    hours = whole(seconds_between(ServiceRequest.created_at, closing.at) / HOUR).label("hours")
    query = (select(ServiceRequest.service_slug, ServiceRequest.assigned_to_id, hours,
                    func.count(), func.sum(on_time))
             .join(closing, and_(closing.request_id == ServiceRequest.id,
                                 closing.action.in_(CLOSING)))
             .where(*where, ServiceRequest.status.in_([s.value for s in FINAL]))
             .group_by(ServiceRequest.service_slug, ServiceRequest.assigned_to_id, hours))
    histograms: dict[str, dict[object, dict[int, int]]] = {
        "service": defaultdict(dict), "clerk": defaultdict(dict)}
    punctual: dict[str, dict[object, int]] = {"service": defaultdict(int),
                                              "clerk": defaultdict(int)}
    for service, clerk, taken, count, timely in session.execute(query):
        for dimension, value in (("service", service), ("clerk", clerk)):
            histogram = histograms[dimension][value]
            histogram[max(int(taken), 0)] = histogram.get(max(int(taken), 0), 0) + int(count)
            punctual[dimension][value] += int(timely or 0)
    found: dict[str, list[Timeliness]] = {}
    for dimension, groups in histograms.items():
        rows = []
        for value, histogram in groups.items():
            closed, timely = sum(histogram.values()), punctual[dimension][value]
            rows.append(Timeliness(
                "" if value is None else str(value), label(dimension, value),
                _promised(snapshot, value) if dimension == "service" else "",
                closed, timely, closed - timely, timely / closed,
                _days(percentile(histogram, 0.5)), _days(percentile(histogram, 0.9))))
        found[dimension] = sorted(rows, key=lambda t: (t.label == UNKNOWN, -t.closed, t.label))
    return found


def _days(hours: float | None) -> float | None:
    return None if hours is None else hours / 24


def _promised(snapshot: Snapshot, slug: object) -> str:
    spec = snapshot.catalog.service(str(slug))
    return format_duration(spec.duration.value, spec.duration.unit.value) if spec else ""


def _steps(session: Session, where: list[ColumnElement[bool]],
           label: Callable[[str, object], str]) -> list[StepTime]:
    following = func.lead(RequestEvent.at).over(partition_by=RequestEvent.request_id,
                                                order_by=RequestEvent.id)
    stays = (select(RequestEvent.request_id, ServiceRequest.service_slug, RequestEvent.step,
                    seconds_between(RequestEvent.at, following).label("seconds"))
             .join(ServiceRequest, ServiceRequest.id == RequestEvent.request_id)
             .where(*where).subquery("stays"))
    per_request = (select(stays.c.service_slug, stays.c.step,
                          func.sum(stays.c.seconds).label("seconds"))
                   .where(stays.c.seconds.is_not(None))
                   .group_by(stays.c.request_id, stays.c.service_slug, stays.c.step)
                   .subquery("per_request"))
    hours = whole(per_request.c.seconds / HOUR).label("hours")
    query = (select(per_request.c.service_slug, per_request.c.step, hours, func.count(),
                    func.sum(per_request.c.seconds))
             .group_by(per_request.c.service_slug, per_request.c.step, hours))
    histograms: dict[tuple[str, str], dict[int, int]] = defaultdict(dict)
    totals: dict[tuple[str, str], float] = defaultdict(float)
    for service, step, taken, count, seconds in session.execute(query):
        histograms[(service, step)][max(int(taken), 0)] = int(count)
        totals[(service, step)] += float(seconds or 0)
    found = []
    for (service, step), histogram in histograms.items():
        count = sum(histogram.values())
        median, p90 = percentile(histogram, 0.5), percentile(histogram, 0.9)
        found.append(StepTime(
            label("service", service), label(f"step:{service}", step), count,
            _days(median), _days(p90), totals[(service, step)] / count / HOUR / 24))
    return sorted(found, key=lambda s: (s.service, -s.requests))


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


def _reasons(session: Session, where: list[ColumnElement[bool]],
             label: Callable[[str, object], str]) -> tuple[list[Reason], int]:
    query = (select(ServiceRequest.service_slug, ServiceRequest.decision_reason, func.count())
             .where(*where, ServiceRequest.status == Status.rejected.value)
             .group_by(ServiceRequest.service_slug, ServiceRequest.decision_reason))
    found = [Reason(label("service", service), reason or UNKNOWN, int(count))
             for service, reason, count in session.execute(query)]
    found.sort(key=lambda r: (-r.count, r.service, r.reason))
    return found[:MAX_REASONS], sum(r.count for r in found)


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
