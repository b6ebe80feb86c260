"""The walk-in and promise rules that the server and the kiosk both apply, tested in their one
place (`shared.catalog.schema`): when a queue hands out tickets, which queue serves a service
at an office, how a ticket is labelled, and when a request is due.

Week used (November 2026): Wed 25, Thu 26, Fri 27, Sat 28; the default calendar opens
Sat–Wed 07:30–14:30 and Thu 07:30–12:30.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time

import pytest

from shared.catalog.schema import (
    CalendarSpec,
    Catalog,
    Duration,
    DurationUnit,
    Holiday,
    Office,
    QueueSpec,
    ticket_label,
)
from shared.jalali import TEHRAN
from shared.workcalendar import WorkCalendar
from tests.factories import catalog_data, service_data

WED, THU, FRI, SAT = (date(2026, 11, d) for d in (25, 26, 27, 28))
CALENDAR = WorkCalendar.from_spec(CalendarSpec())


def at(d: date, hour: int, minute: int = 0) -> datetime:
    return datetime.combine(d, time(hour, minute), tzinfo=TEHRAN)


def queue(**overrides: object) -> QueueSpec:
    data = {"slug": "guides", "title": "راهنمایان", "prefix": "A", "prefix_fa": "الف",
            "services": ["guide-card"], **overrides}
    return QueueSpec.model_validate(data)


# Opening hours ------------------------------------------------------------------------------

@pytest.mark.parametrize(("moment", "expected"), [
    (at(WED, 7, 29), False),   # before the calendar opens
    (at(WED, 7, 30), True),    # opening minute
    (at(WED, 14, 29), True),
    (at(WED, 14, 30), False),  # closing minute is closed
    (at(THU, 12, 0), True),    # Thursday's short day
    (at(THU, 13, 0), False),
    (at(FRI, 10, 0), False),   # weekly day off
])
def test_a_queue_without_hours_follows_the_calendar(moment: datetime, expected: bool) -> None:
    assert queue().is_open(moment, CALENDAR) is expected


def test_a_queue_with_its_own_hours_keeps_them_on_working_days_only() -> None:
    morning = queue(opening_hours={"opens": "08:00", "closes": "11:00"})
    assert not morning.is_open(at(WED, 7, 45), CALENDAR)
    assert morning.is_open(at(WED, 8, 0), CALENDAR)
    assert not morning.is_open(at(WED, 11, 0), CALENDAR)
    assert not morning.is_open(at(FRI, 9, 0), CALENDAR)
    holiday = WorkCalendar.from_spec(CalendarSpec(holidays=[
        Holiday(date="1405-09-04", title="تعطیل")]))  # Wednesday 25 November
    assert not morning.is_open(at(WED, 9, 0), holiday)


def test_opening_hours_are_read_in_the_calendars_zone() -> None:
    # 04:00 UTC is 07:30 in Tehran: open; 03:59 UTC is not.
    assert queue().is_open(datetime(2026, 11, 25, 4, 0, tzinfo=UTC), CALENDAR)
    assert not queue().is_open(datetime(2026, 11, 25, 3, 59, tzinfo=UTC), CALENDAR)


# Which queue serves a service ---------------------------------------------------------------

def lobby_catalog() -> Catalog:
    data = catalog_data()
    data["services"].append(service_data("handicraft-licence"))
    data["queues"] = [
        {"slug": "guides", "title": "راهنمایان", "prefix": "A", "prefix_fa": "الف",
         "services": ["guide-card"]},
        {"slug": "crafts", "title": "صنایع دستی", "prefix": "B", "prefix_fa": "ب",
         "services": ["handicraft-licence"]},
    ]
    data["offices"] = [
        {"slug": "hq", "name": "ستاد", "address": "اصفهان"},
        {"slug": "kashan", "name": "کاشان", "address": "کاشان", "queues": ["crafts"]},
    ]
    return Catalog.model_validate(data)


def test_the_queue_for_a_service_at_an_office() -> None:
    catalog = lobby_catalog()
    hq, kashan = catalog.office("hq"), catalog.office("kashan")
    assert isinstance(hq, Office) and isinstance(kashan, Office)
    assert catalog.queue_for("guide-card", hq).slug == "guides"       # an office of every queue
    assert catalog.queue_for("handicraft-licence", kashan).slug == "crafts"
    assert catalog.queue_for("guide-card", kashan) is None             # not served in Kashan
    assert catalog.queue_for("guide-card").slug == "guides"            # no office: any
    assert catalog.queue_for("no-such-service", hq) is None


# Ticket labels ------------------------------------------------------------------------------

def test_ticket_labels_for_screens_paper_and_the_api() -> None:
    assert queue().ticket_label(23) == "الف-۰۲۳"
    assert queue().ticket_label(23, persian=False) == "A-023"
    assert queue().ticket_label(1234, persian=False) == "A-1234"
    assert ticket_label("B", 7) == "B-007"
    assert ticket_label("ب", 7, persian=True) == "ب-۰۰۷"


# Due dates ----------------------------------------------------------------------------------

def test_due_date_in_working_days_skips_the_day_of_filing_and_days_off() -> None:
    five_days = Duration(value=5)
    # Filed Wed: Thu 1, (Fri off), Sat 2, Sun 3, Mon 4, Tue 5.
    assert five_days.due_date(at(WED, 10), CALENDAR) == date(2026, 12, 1)
    with_holiday = WorkCalendar.from_spec(CalendarSpec(holidays=[
        Holiday(date="1405-09-05", title="تعطیل رسمی")]))  # Thursday 26 November
    assert five_days.due_date(at(WED, 10), with_holiday) == date(2026, 12, 2)


def test_due_date_in_working_hours_runs_over_into_the_next_working_day() -> None:
    three_hours = Duration(value=3, unit=DurationUnit.working_hours)
    assert three_hours.due_date(at(WED, 9), CALENDAR) == WED
    # Thursday 11:00 + 3 h: 1.5 h on Thursday (closes 12:30), the rest on Saturday.
    assert three_hours.due_date(at(THU, 11), CALENDAR) == SAT
