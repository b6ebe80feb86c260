"""What the supervisors' reports share: their filters (a Jalali date range, office, service,
queue, counter, clerk, channel), SQL expressions that read the same on SQLite and PostgreSQL,
and percentiles.

Percentiles are taken from histograms that the database groups (one row per whole second or
day, not one per ticket), so a year of tickets comes back as a few thousand rows on either
database; neither SQLite nor a portable SQL has a percentile of its own.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import Date, Float, Integer, cast, func
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement, FunctionElement

from shared import jalali
from shared.workcalendar import WorkCalendar

DEFAULT_DAYS = 30


@dataclass(frozen=True)
class Filters:
    """The range is of local days, both ends included."""

    date_from: date
    date_to: date
    office: str | None = None
    service: str | None = None
    queue: str | None = None
    counter: int | None = None
    clerk: int | None = None
    channel: str | None = None
    errors: tuple[str, ...] = ()

    def utc_bounds(self, calendar: WorkCalendar) -> tuple[datetime, datetime]:
        """[start, end) in UTC of the local days from `date_from` to `date_to`."""
        def midnight(day: date) -> datetime:
            return datetime.combine(day, time(), calendar.zone).astimezone(UTC)
        return midnight(self.date_from), midnight(self.date_to + timedelta(days=1))

    def offset_minutes(self, calendar: WorkCalendar) -> int:
        """The zone's offset from UTC in the range (Iran has kept +03:30 all year since 2022)."""
        moment = datetime.combine(self.date_from, time(12), calendar.zone)
        offset = moment.utcoffset() or timedelta()
        return int(offset.total_seconds() // 60)


def read_filters(args: Mapping[str, str], today: date) -> Filters:
    """Filters from a query string; dates Jalali (`1405-09-10`, any digits) or Gregorian ISO.
    A bad value is dropped with a Persian note; no range means the last thirty days."""
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

    def number(name: str) -> int | None:
        value = (args.get(name) or "").strip()
        return int(value) if value.isdigit() else None

    def text(name: str) -> str | None:
        return (args.get(name) or "").strip() or None

    date_to = day("to") or today
    date_from = day("from") or date_to - timedelta(days=DEFAULT_DAYS - 1)
    if date_from > date_to:
        errors.append("تاریخ آغاز بازه پس از تاریخ پایان آن است؛ جای آن دو عوض شد.")
        date_from, date_to = date_to, date_from
    return Filters(date_from=date_from, date_to=date_to, office=text("office"),
                   service=text("service"), queue=text("queue"), counter=number("counter"),
                   clerk=number("clerk"), channel=text("channel"), errors=tuple(errors))


class seconds_between(FunctionElement[float]):  # noqa: N801 - an SQL function's name
    """Seconds from the first timestamp to the second."""

    type = Float()
    inherit_cache = True


@compiles(seconds_between, "sqlite")
def _seconds_sqlite(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (f"((julianday({compiler.process(end, **kw)}) - "
            f"julianday({compiler.process(start, **kw)})) * 86400.0)")


@compiles(seconds_between, "postgresql")
def _seconds_postgresql(element: seconds_between, compiler: Any, **kw: Any) -> str:
    start, end = list(element.clauses)
    return (f"EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
            f"{compiler.process(start, **kw)}))")


class local_hour(FunctionElement[int]):  # noqa: N801
    """The hour (0–23) of a UTC timestamp shifted by a number of minutes."""

    type = Integer()
    inherit_cache = True


@compiles(local_hour, "sqlite")
def _hour_sqlite(element: local_hour, compiler: Any, **kw: Any) -> str:
    moment, minutes = list(element.clauses)
    return (f"CAST(strftime('%H', {compiler.process(moment, **kw)}, "
            f"({compiler.process(minutes, **kw)}) || ' minutes') AS INTEGER)")


@compiles(local_hour, "postgresql")
def _hour_postgresql(element: local_hour, compiler: Any, **kw: Any) -> str:
    moment, minutes = list(element.clauses)
    return (f"CAST(EXTRACT(HOUR FROM {compiler.process(moment, **kw)} + "
            f"make_interval(mins => {compiler.process(minutes, **kw)})) AS INTEGER)")


class local_day(FunctionElement[date]):  # noqa: N801
    """The date of a UTC timestamp shifted by a number of minutes."""

    type = Date()
    inherit_cache = True


@compiles(local_day, "sqlite")
def _day_sqlite(element: local_day, compiler: Any, **kw: Any) -> str:
    moment, minutes = list(element.clauses)
    return (f"date({compiler.process(moment, **kw)}, "
            f"({compiler.process(minutes, **kw)}) || ' minutes')")


@compiles(local_day, "postgresql")
def _day_postgresql(element: local_day, compiler: Any, **kw: Any) -> str:
    moment, minutes = list(element.clauses)
    return (f"CAST({compiler.process(moment, **kw)} + "
            f"make_interval(mins => {compiler.process(minutes, **kw)}) AS DATE)")


def whole(expression: ColumnElement[float]) -> ColumnElement[int]:
    """Round a number of seconds to a whole one, the same on both databases."""
    return cast(func.round(expression), Integer)


Histogram = Mapping[int, int]  # value → how many


def percentile(histogram: Histogram, fraction: float) -> float | None:
    """The `fraction` percentile of the values a histogram counts, interpolated between the
    two nearest ranks (as `statistics.quantiles(method='inclusive')`); None if it is empty."""
    total = sum(histogram.values())
    if total == 0:
        return None
    position = fraction * (total - 1)
    below, above = int(position), min(int(position) + 1, total - 1)
    low = high = None
    seen = 0
    for value in sorted(histogram):
        seen += histogram[value]
        if low is None and seen > below:
            low = value
        if seen > above:
            high = value
            break
    assert low is not None and high is not None
    return low + (high - low) * (position - below)


def merge(histograms: Iterable[Histogram]) -> dict[int, int]:
    merged: dict[int, int] = {}
    for histogram in histograms:
        for value, count in histogram.items():
            merged[value] = merged.get(value, 0) + count
    return merged
