"""The satisfaction report: averages per service, office, counter, clerk and channel, the
weekly trend (Jalali weeks, Saturday first), the response rate of SMS invitations, comments."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from statistics import fmean

from sqlalchemy import select
from sqlalchemy.orm import Session

from counter_server.models import Counter, SurveyAnswer, SurveyInvitation, User
from counter_server.usecases.catalog_versions import Snapshot
from shared import jalali
from shared.text import to_persian_digits
from shared.catalog.labels import CHANNELS
from shared.catalog.schema import Channel

DIMENSIONS: dict[str, str] = {"service": "خدمت", "office": "دفتر", "counter": "باجه",
                              "clerk": "کارمند", "channel": "مجرای درخواست"}
UNKNOWN = "نامشخص"
MAX_COMMENTS = 200


@dataclass(frozen=True)
class Filters:
    service: str | None = None
    date_from: date | None = None
    date_to: date | None = None
    score: int | None = None  # comments whose rounded score is this (1 … 5)
    errors: tuple[str, ...] = ()


@dataclass(frozen=True)
class Group:
    key: str
    label: str
    answers: int
    average: float


@dataclass(frozen=True)
class Week:
    start: date
    answers: int
    average: float | None


@dataclass(frozen=True)
class Comment:
    received_at: datetime
    service: str
    score: float
    channel: str
    text: str


@dataclass(frozen=True)
class Satisfaction:
    answers: int
    average: float | None
    invitations: int
    answered: int
    groups: dict[str, list[Group]] = field(default_factory=dict)
    weeks: list[Week] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)

    @property
    def response_rate(self) -> float | None:
        return self.answered / self.invitations if self.invitations else None


def read_filters(args: dict[str, str]) -> Filters:
    """Filters from a query string (Jalali dates in any digits); bad values are dropped with
    a Persian note."""
    errors: list[str] = []

    def day(name: str) -> date | None:
        value = (args.get(name) or "").strip()
        if not value:
            return None
        try:
            return jalali.from_jalali_string(value)
        except ValueError as exc:
            errors.append(str(exc))
            return None

    score = (args.get("score") or "").strip()
    return Filters(service=(args.get("service") or "").strip() or None,
                   date_from=day("from"), date_to=day("to"),
                   score=int(score) if score in {"1", "2", "3", "4", "5"} else None,
                   errors=tuple(errors))


def score_of(answer: SurveyAnswer) -> float:
    """The answer's mean score (older rows kept no score of their own)."""
    if answer.score is not None:
        return answer.score
    return round(fmean(int(v) for v in answer.answers.values()), 2)


def rounded(score: float) -> int:
    """A mean score to the nearest whole point, halves up (4.5 → 5)."""
    return int(score + 0.5)


def report(session: Session, snapshot: Snapshot, filters: Filters) -> Satisfaction:
    """The satisfaction report for `filters`; dates are the agency's local days."""
    local_day = snapshot.calendar.local_date
    answers = [a for a in _answers(session, filters) if _within(local_day(a.received_at), filters)]
    invitations = [i for i in _invitations(session, filters)
                   if _within(local_day(i.created_at), filters)]
    label = _labeller(session, snapshot)
    scores = [score_of(a) for a in answers]
    return Satisfaction(
        answers=len(answers), average=round(fmean(scores), 2) if scores else None,
        invitations=len(invitations),
        answered=sum(1 for i in invitations if i.answered_at is not None),
        groups={name: _groups(answers, name, label) for name in DIMENSIONS},
        weeks=_weeks(answers, local_day),
        comments=_comments(answers, filters, label))


def _answers(session: Session, filters: Filters) -> list[SurveyAnswer]:
    query = select(SurveyAnswer).order_by(SurveyAnswer.received_at.desc())
    if filters.service:
        query = query.where(SurveyAnswer.service_slug == filters.service)
    if filters.date_from:  # a day's margin: the exact local day is checked in Python
        query = query.where(SurveyAnswer.received_at >= _utc_margin(filters.date_from, -1))
    if filters.date_to:
        query = query.where(SurveyAnswer.received_at < _utc_margin(filters.date_to, 2))
    return list(session.scalars(query))


def _invitations(session: Session, filters: Filters) -> list[SurveyInvitation]:
    query = select(SurveyInvitation)
    if filters.service:
        query = query.where(SurveyInvitation.service_slug == filters.service)
    if filters.date_from:
        query = query.where(SurveyInvitation.created_at >= _utc_margin(filters.date_from, -1))
    if filters.date_to:
        query = query.where(SurveyInvitation.created_at < _utc_margin(filters.date_to, 2))
    return list(session.scalars(query))


def _utc_margin(day: date, days: int) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=days)


def _within(day: date, filters: Filters) -> bool:
    return ((filters.date_from is None or day >= filters.date_from)
            and (filters.date_to is None or day <= filters.date_to))


Labeller = Callable[[str, str | None], str]


def _labeller(session: Session, snapshot: Snapshot) -> Labeller:
    """Persian names for the keys of each dimension."""
    catalog = snapshot.catalog
    counters = {str(c.id): c for c in session.scalars(select(Counter))}
    clerks = {str(u.id): u.full_name for u in session.scalars(select(User))}

    def office_name(slug: str) -> str:
        office = catalog.office(slug)
        return office.name if office else slug

    def label(dimension: str, key: str | None) -> str:
        if key is None:
            return UNKNOWN
        if dimension == "service":
            spec = catalog.service(key)
            return spec.title if spec else key
        if dimension == "office":
            return office_name(key)
        if dimension == "counter" and key in counters:
            counter = counters[key]
            return f"باجه {to_persian_digits(counter.number)} · {office_name(counter.office_slug)}"
        if dimension == "clerk":
            return clerks.get(key, key)
        if dimension == "channel" and key in {c.value for c in Channel}:
            return CHANNELS[Channel(key)]
        return key
    return label


def _key(answer: SurveyAnswer, dimension: str) -> str | None:
    value = {"service": answer.service_slug, "office": answer.office_slug,
             "counter": answer.counter_id, "clerk": answer.clerk_id,
             "channel": answer.channel}[dimension]
    return None if value is None else str(value)


def _groups(answers: Iterable[SurveyAnswer], dimension: str, label: Labeller) -> list[Group]:
    scores: dict[str | None, list[float]] = defaultdict(list)
    for answer in answers:
        scores[_key(answer, dimension)].append(score_of(answer))
    groups = [Group(key or "", label(dimension, key), len(values), round(fmean(values), 2))
              for key, values in scores.items()]
    return sorted(groups, key=lambda g: (g.label == UNKNOWN, -g.average, g.label))


def _weeks(answers: Iterable[SurveyAnswer], local_day: Callable[[datetime], date]) -> list[Week]:
    """Every Jalali week from the first answer's to the last's; weeks without answers too."""
    scores: dict[date, list[float]] = defaultdict(list)
    for answer in answers:
        scores[jalali.week_start(local_day(answer.received_at))].append(score_of(answer))
    if not scores:
        return []
    weeks, start = [], min(scores)
    while start <= max(scores):
        values = scores.get(start, [])
        weeks.append(Week(start, len(values), round(fmean(values), 2) if values else None))
        start += timedelta(days=7)
    return weeks


def _comments(answers: Iterable[SurveyAnswer], filters: Filters, label: Labeller
              ) -> list[Comment]:
    found = [Comment(a.received_at, label("service", a.service_slug), score_of(a),
                     label("channel", a.channel), a.comment)
             for a in answers if a.comment
             and (filters.score is None or rounded(score_of(a)) == filters.score)]
    return found[:MAX_COMMENTS]
