"""Working-day and working-hour arithmetic on the agency's calendar.

A `WorkCalendar` knows the agency's time zone, its weekly opening hours (a weekday without
hours is a day off) and its official holidays. It answers the questions the desk asks about
promised durations:

- `add_working_days(start, n)`: the due date of a task promised in n working days. The day
  of submission never counts, even for a request made early in the morning: counting starts
  on the next day and the result is the n-th working day after the submission's local date.
- `working_days_between(start, end)`: working days elapsed, consistent with the above:
  `working_days_between(s, add_working_days(s, n)) == n`.
- `add_working_hours(start, h)`: the instant when h opening hours have passed.

Instants may be aware or naive datetimes; naive ones are UTC (as read from the database) and
are converted to the calendar's zone before their local date or time is used.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from types import MappingProxyType
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from shared.jalali import from_jalali_string, to_local

if TYPE_CHECKING:
    from shared.catalog.schema import CalendarSpec

_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class WorkCalendar:
    """The agency's working time.

    `hours` maps an ISO weekday (Monday = 1 … Sunday = 7) to its (opens, closes) local times;
    `holidays` maps a Gregorian date to the holiday's title.
    """

    timezone: str
    hours: Mapping[int, tuple[time, time]] = field(hash=False)
    holidays: Mapping[date, str] = field(default_factory=dict, hash=False)
    zone: ZoneInfo = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            zone = ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {self.timezone!r}") from exc
        _check_hours(self.hours)
        object.__setattr__(self, "zone", zone)
        object.__setattr__(self, "hours", MappingProxyType(dict(self.hours)))
        object.__setattr__(self, "holidays", MappingProxyType(dict(self.holidays)))

    @classmethod
    def from_spec(cls, spec: CalendarSpec) -> WorkCalendar:
        """Build the calendar of a catalog's `CalendarSpec` (holidays given as Jalali dates)."""
        hours = {day.iso: (h.opens, h.closes) for day, h in spec.working_hours.items()}
        holidays = {from_jalali_string(h.date): h.title for h in spec.holidays}
        return cls(timezone=spec.timezone, hours=hours, holidays=holidays)

    # Days -----------------------------------------------------------------------------

    def local_date(self, value: datetime | date) -> date:
        """The local calendar date of an instant (naive = UTC), or a date itself."""
        if isinstance(value, datetime):
            return to_local(value, self.zone).date()
        return value

    def is_working_day(self, d: date) -> bool:
        """True if the agency is open on `d` (a weekday with hours, not a holiday)."""
        return d.isoweekday() in self.hours and d not in self.holidays

    def holiday(self, d: date) -> str | None:
        """The title of the holiday on `d`, or None."""
        return self.holidays.get(d)

    def hours_on(self, d: date) -> tuple[time, time] | None:
        """The (opens, closes) local times of `d`, or None on a day off or holiday."""
        return self.hours[d.isoweekday()] if self.is_working_day(d) else None

    def next_working_day(self, d: date) -> date:
        """The first working day strictly after `d`."""
        # Every week has a working weekday and each holiday closes at most one of them, so
        # a working day comes within this many days.
        for _ in range(7 * (len(self.holidays) + 2)):
            d += _ONE_DAY
            if self.is_working_day(d):
                return d
        raise RuntimeError("no working day found")  # unreachable: hours are never empty

    def add_working_days(self, start: datetime | date, days: int) -> date:
        """The date on which the `days`-th working day after `start`'s local date falls."""
        if days < 0:
            raise ValueError("days must not be negative")
        d = self.local_date(start)
        for _ in range(days):
            d = self.next_working_day(d)
        return d

    def working_days_between(self, start: datetime | date, end: datetime | date) -> int:
        """Working days after `start`'s local date up to and including `end`'s (0 if none)."""
        first = self.local_date(start) + _ONE_DAY
        last = self.local_date(end)
        if last < first:
            return 0
        weeks, rest = divmod((last - first).days + 1, 7)
        count = weeks * len(self.hours)
        count += sum((first + timedelta(days=i)).isoweekday() in self.hours for i in range(rest))
        closed = (d for d in self.holidays if first <= d <= last)
        return count - sum(d.isoweekday() in self.hours for d in closed)

    # Hours ----------------------------------------------------------------------------

    def add_working_hours(self, start: datetime, hours: int) -> datetime:
        """The local instant when `hours` opening hours have passed since `start`.

        Only opening hours are consumed: time before opening is skipped, time after closing
        moves on to the next working day's opening, days off and holidays are skipped.
        Ending exactly at closing time returns that closing time. Zero hours returns `start`
        in the calendar's zone. Arithmetic is on local wall-clock time.
        """
        if hours < 0:
            raise ValueError("hours must not be negative")
        local = to_local(start, self.zone)
        remaining = timedelta(hours=hours)
        if not remaining:
            return local
        day, clock = local.date(), local.time().replace(tzinfo=None)
        while True:
            opening = self.hours_on(day)
            if opening is not None:
                begin = datetime.combine(day, max(clock, opening[0]))
                end = datetime.combine(day, opening[1])
                if begin < end:
                    if remaining <= end - begin:
                        return (begin + remaining).replace(tzinfo=self.zone)
                    remaining -= end - begin
            day, clock = self.next_working_day(day), time.min


def _check_hours(hours: Mapping[int, tuple[time, time]]) -> None:
    """Raise ValueError unless `hours` names at least one weekday with valid hours."""
    if not hours:
        raise ValueError("hours must name at least one working weekday")
    for weekday, (opens, closes) in hours.items():
        if not 1 <= weekday <= 7:
            raise ValueError(f"weekday must be an ISO number 1–7, not {weekday!r}")
        if closes <= opens:
            raise ValueError(f"closing time must be later than opening time on day {weekday}")
