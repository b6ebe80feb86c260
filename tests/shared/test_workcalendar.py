"""Tests of shared.workcalendar: working-day and working-hour arithmetic.

Week used throughout (November 2026, Jalali Aban/Azar 1405):
Sat 21, Sun 22, Mon 23, Tue 24, Wed 25, Thu 26 (= 1405-09-05), Fri 27, Sat 28, Sun 29,
Mon 30, Tue 1 Dec, Wed 2 Dec.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

import pytest

from shared.catalog.schema import CalendarSpec, Holiday, OpeningHours, Weekday
from shared.jalali import TEHRAN
from shared.workcalendar import WorkCalendar

SAT, SUN, MON, TUE, WED, THU, FRI = (date(2026, 11, d) for d in range(21, 28))
NEXT_SAT, NEXT_SUN, NEXT_MON = date(2026, 11, 28), date(2026, 11, 29), date(2026, 11, 30)
NEXT_TUE, NEXT_WED = date(2026, 12, 1), date(2026, 12, 2)


def calendar(*holidays: Holiday) -> WorkCalendar:
    """The default catalog calendar (Sat–Wed 07:30–14:30, Thu 07:30–12:30) with holidays."""
    return WorkCalendar.from_spec(CalendarSpec(holidays=list(holidays)))


def tehran(d: date, hour: int, minute: int = 0) -> datetime:
    """An aware Tehran datetime on `d`."""
    return datetime.combine(d, time(hour, minute), tzinfo=TEHRAN)


THURSDAY_HOLIDAY = Holiday(date="1405-09-05", title="تعطیل رسمی")


# Construction -----------------------------------------------------------------------------


def test_from_spec_default_hours() -> None:
    cal = calendar()
    assert cal.timezone == "Asia/Tehran"
    assert cal.hours[6] == (time(7, 30), time(14, 30))
    assert cal.hours[4] == (time(7, 30), time(12, 30))
    assert 5 not in cal.hours
    assert dict(cal.holidays) == {}


def test_from_spec_converts_jalali_holidays() -> None:
    spec = CalendarSpec(
        holidays=[
            Holiday(date="1405-01-01", title="نوروز"),
            Holiday(date="1405-01-13", title="روز طبیعت"),
            THURSDAY_HOLIDAY,
        ]
    )
    cal = WorkCalendar.from_spec(spec)
    assert dict(cal.holidays) == {
        date(2026, 3, 21): "نوروز",
        date(2026, 4, 2): "روز طبیعت",
        THU: "تعطیل رسمی",
    }
    assert cal.holiday(date(2026, 4, 2)) == "روز طبیعت"


def test_from_spec_custom_hours_and_zone() -> None:
    spec = CalendarSpec(
        timezone="Asia/Dubai",
        working_hours={
            Weekday.monday: OpeningHours(opens=time(9), closes=time(17)),
            Weekday.friday: OpeningHours(opens=time(8), closes=time(11)),
        },
    )
    cal = WorkCalendar.from_spec(spec)
    assert cal.timezone == "Asia/Dubai"
    assert dict(cal.hours) == {1: (time(9), time(17)), 5: (time(8), time(11))}


def test_from_spec_rejects_impossible_jalali_holiday() -> None:
    spec = CalendarSpec(holidays=[Holiday(date="1405-12-30", title="روز ناموجود")])
    with pytest.raises(ValueError):
        WorkCalendar.from_spec(spec)


def test_constructor_rejects_no_working_day() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(timezone="Asia/Tehran", hours={}, holidays={})


@pytest.mark.parametrize(
    "hours",
    [
        {0: (time(8), time(16))},
        {8: (time(8), time(16))},
        {1: (time(16), time(8))},
        {1: (time(8), time(8))},
    ],
)
def test_constructor_rejects_bad_hours(hours: dict[int, tuple[time, time]]) -> None:
    with pytest.raises(ValueError):
        WorkCalendar(timezone="Asia/Tehran", hours=hours)


def test_constructor_rejects_unknown_zone() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(timezone="Asia/Nowhere", hours={1: (time(8), time(16))})


def test_calendar_is_immutable_and_copies_its_inputs() -> None:
    hours = {1: (time(8), time(16))}
    holidays = {MON: "تعطیل"}
    cal = WorkCalendar(timezone="Asia/Tehran", hours=hours, holidays=holidays)
    hours[2] = (time(8), time(16))
    holidays.clear()
    assert 2 not in cal.hours and cal.holiday(MON) == "تعطیل"
    with pytest.raises(TypeError):
        cal.hours[3] = (time(8), time(16))  # type: ignore[index]
    with pytest.raises(AttributeError):
        cal.timezone = "UTC"  # type: ignore[misc]


def test_equal_calendars_compare_and_hash_equal() -> None:
    assert calendar(THURSDAY_HOLIDAY) == calendar(THURSDAY_HOLIDAY)
    assert hash(calendar(THURSDAY_HOLIDAY)) == hash(calendar(THURSDAY_HOLIDAY))
    assert calendar(THURSDAY_HOLIDAY) != calendar()


# Days -------------------------------------------------------------------------------------


def test_working_days_of_default_week() -> None:
    cal = calendar()
    assert [cal.is_working_day(d) for d in (SAT, SUN, MON, TUE, WED, THU, FRI)] == [
        True,
        True,
        True,
        True,
        True,
        True,
        False,
    ]
    assert cal.hours_on(THU) == (time(7, 30), time(12, 30))
    assert cal.hours_on(FRI) is None
    assert cal.holiday(FRI) is None


def test_holiday_on_a_working_day() -> None:
    cal = WorkCalendar.from_spec(CalendarSpec(holidays=[Holiday(date="1405-09-02", title="عید")]))
    assert cal.holiday(MON) == "عید"
    assert not cal.is_working_day(MON)
    assert cal.hours_on(MON) is None
    assert cal.add_working_days(SUN, 1) == TUE
    assert calendar().add_working_days(SUN, 1) == MON


def test_wednesday_before_thursday_holiday_five_days() -> None:
    with_holiday = calendar(THURSDAY_HOLIDAY).add_working_days(WED, 5)
    without = calendar().add_working_days(WED, 5)
    # Thu holiday, Fri off, Sat 1, Sun 2, Mon 3, Tue 4, Wed 5.
    assert with_holiday == NEXT_WED
    # Thu 1, Sat 2, Sun 3, Mon 4, Tue 5.
    assert without == NEXT_TUE


def test_friday_is_skipped() -> None:
    cal = calendar()
    assert cal.add_working_days(THU, 1) == NEXT_SAT
    assert cal.add_working_days(FRI, 1) == NEXT_SAT
    assert cal.next_working_day(THU) == NEXT_SAT


def test_thursday_counts_as_a_working_day() -> None:
    cal = calendar()
    assert cal.add_working_days(WED, 1) == THU
    assert cal.working_days_between(WED, THU) == 1


def test_submission_day_never_counts() -> None:
    cal = calendar()
    assert cal.add_working_days(tehran(SAT, 7, 0), 1) == SUN
    assert cal.add_working_days(tehran(SAT, 23, 59), 1) == SUN
    assert cal.add_working_days(SAT, 0) == SAT
    assert cal.working_days_between(tehran(SAT, 7), tehran(SAT, 14)) == 0


def test_naive_utc_start_already_next_day_in_tehran() -> None:
    cal = calendar()
    late = datetime(2026, 11, 25, 22, 0)  # naive UTC: Thursday 01:30 in Tehran
    assert cal.local_date(late) == THU
    assert cal.add_working_days(late, 1) == NEXT_SAT
    evening = datetime(2026, 11, 25, 20, 0)  # naive UTC: Wednesday 23:30 in Tehran
    assert cal.add_working_days(evening, 1) == THU


def test_aware_start_is_converted_to_calendar_zone() -> None:
    cal = calendar()
    late = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)
    assert cal.add_working_days(late, 1) == NEXT_SAT
    assert cal.working_days_between(late, NEXT_SAT) == 1


def test_add_working_days_rejects_negative() -> None:
    with pytest.raises(ValueError):
        calendar().add_working_days(WED, -1)


def test_next_working_day_is_strictly_after() -> None:
    cal = calendar(THURSDAY_HOLIDAY)
    assert cal.next_working_day(SAT) == SUN
    assert cal.next_working_day(WED) == NEXT_SAT


def test_next_working_day_past_a_long_run_of_holidays() -> None:
    mondays = [MON + timedelta(weeks=w) for w in range(10)]
    cal = WorkCalendar(
        timezone="Asia/Tehran",
        hours={1: (time(8), time(16))},
        holidays={d: "تعطیل" for d in mondays},
    )
    assert cal.next_working_day(SUN) == MON + timedelta(weeks=10)


def test_nowruz_holidays_are_skipped() -> None:
    spec = CalendarSpec(
        holidays=[Holiday(date=f"1405-01-{d:02d}", title="نوروز") for d in range(1, 5)]
        + [Holiday(date="1405-01-12", title="روز جمهوری اسلامی")]
        + [Holiday(date="1405-01-13", title="روز طبیعت")]
    )
    cal = WorkCalendar.from_spec(spec)
    # Friday 20 March 2026 (29 Esfand 1404): Sat–Tue 21–24 March are Nowruz.
    assert cal.add_working_days(date(2026, 3, 20), 1) == date(2026, 3, 25)


def test_working_days_between_basics() -> None:
    cal = calendar(THURSDAY_HOLIDAY)
    assert cal.working_days_between(WED, WED) == 0
    assert cal.working_days_between(WED, TUE) == 0
    assert cal.working_days_between(WED, THU) == 0
    assert cal.working_days_between(WED, FRI) == 0
    assert cal.working_days_between(WED, NEXT_SAT) == 1
    assert cal.working_days_between(SAT, NEXT_SAT) == 5
    assert calendar().working_days_between(SAT, NEXT_SAT) == 6


def brute_force_between(cal: WorkCalendar, start: date, end: date) -> int:
    """Count working days in (start, end] one day at a time."""
    count, d = 0, start + timedelta(days=1)
    while d <= end:
        count += cal.is_working_day(d)
        d += timedelta(days=1)
    return count


def rich_calendar() -> WorkCalendar:
    """A calendar with scattered and consecutive holidays, some on days off."""
    titles = ["1405-01-01", "1405-01-02", "1405-01-03", "1405-01-04", "1405-01-12", "1405-01-13"]
    titles += ["1405-03-14", "1405-03-15", "1405-09-05", "1405-09-06", "1405-11-22", "1405-12-29"]
    return WorkCalendar.from_spec(
        CalendarSpec(holidays=[Holiday(date=d, title="تعطیل") for d in titles])
    )


def test_working_days_between_matches_brute_force() -> None:
    cal = rich_calendar()
    start = date(2026, 3, 1)
    for offset in range(0, 400, 3):
        s = start + timedelta(days=offset)
        for span in (0, 1, 2, 6, 7, 8, 13, 30, 95):
            e = s + timedelta(days=span)
            assert cal.working_days_between(s, e) == brute_force_between(cal, s, e), (s, e)


def test_round_trip_add_and_between() -> None:
    cal = rich_calendar()
    start = date(2026, 3, 1)
    for offset in range(400):
        s = start + timedelta(days=offset)
        for n in range(25):
            e = cal.add_working_days(s, n)
            assert cal.working_days_between(s, e) == n, (s, n)
            if n:
                assert cal.is_working_day(e)
                # e is the first date reaching n: the day before is still at n - 1.
                assert cal.working_days_between(s, e - timedelta(days=1)) == n - 1


def test_round_trip_with_datetime_starts() -> None:
    cal = rich_calendar()
    start = datetime(2026, 3, 1, 0, 0)  # naive UTC
    for step in range(0, 24 * 60, 7):
        s = start + timedelta(hours=step)
        for n in (0, 1, 5, 10):
            assert cal.working_days_between(s, cal.add_working_days(s, n)) == n


# Hours ------------------------------------------------------------------------------------


def test_hours_within_a_day() -> None:
    assert calendar().add_working_hours(tehran(SAT, 8), 3) == tehran(SAT, 11)


def test_hours_before_opening_start_at_opening() -> None:
    assert calendar().add_working_hours(tehran(SAT, 6), 1) == tehran(SAT, 8, 30)


def test_hours_after_closing_roll_to_next_working_day() -> None:
    assert calendar().add_working_hours(tehran(WED, 15), 1) == tehran(THU, 8, 30)


def test_hours_ending_at_closing_time() -> None:
    assert calendar().add_working_hours(tehran(SAT, 7, 30), 7) == tehran(SAT, 14, 30)


def test_hours_cross_thursday_noon_and_the_weekend() -> None:
    cal = calendar()
    # Thu 11:30–12:30 is one hour; Friday is off; one more hour on Saturday.
    assert cal.add_working_hours(tehran(THU, 11, 30), 2) == tehran(NEXT_SAT, 8, 30)
    # From Wednesday noon: 2.5 h Wed + 5 h Thu + 0.5 h Sat.
    assert cal.add_working_hours(tehran(WED, 12), 8) == tehran(NEXT_SAT, 8)


def test_hours_of_a_whole_week() -> None:
    cal = calendar()
    # Sat–Wed 7 h each (35 h) + Thu 5 h = 40 h.
    assert cal.add_working_hours(tehran(SAT, 7, 30), 40) == tehran(THU, 12, 30)
    assert cal.add_working_hours(tehran(SAT, 7, 30), 41) == tehran(NEXT_SAT, 8, 30)
    assert cal.add_working_hours(tehran(SAT, 7, 30), 48) == tehran(NEXT_SUN, 8, 30)


def test_hours_skip_holidays() -> None:
    cal = calendar(THURSDAY_HOLIDAY)
    assert cal.add_working_hours(tehran(WED, 14), 1) == tehran(NEXT_SAT, 8)
    assert cal.add_working_hours(tehran(THU, 9), 1) == tehran(NEXT_SAT, 8, 30)


def test_hours_from_a_day_off() -> None:
    assert calendar().add_working_hours(tehran(FRI, 10), 2) == tehran(NEXT_SAT, 9, 30)


def test_hours_from_naive_utc_start() -> None:
    cal = calendar()
    start = datetime(2026, 11, 25, 4, 0)  # naive UTC: 07:30 Wednesday in Tehran
    due = cal.add_working_hours(start, 2)
    assert due == tehran(WED, 9, 30)
    assert due.tzinfo is cal.zone
    assert due.utcoffset() == timedelta(hours=3, minutes=30)
    late = datetime(2026, 11, 25, 22, 0)  # naive UTC: 01:30 Thursday in Tehran
    assert cal.add_working_hours(late, 1) == tehran(THU, 8, 30)


def test_hours_result_is_in_calendar_zone() -> None:
    start = datetime(2026, 11, 21, 5, 0, tzinfo=UTC)  # 08:30 Tehran
    due = calendar().add_working_hours(start, 1)
    assert due.tzinfo is TEHRAN
    assert due.replace(tzinfo=None) == datetime(2026, 11, 21, 9, 30)


def test_zero_hours_returns_start_in_zone() -> None:
    start = datetime(2026, 11, 27, 10, 0, tzinfo=UTC)
    assert calendar().add_working_hours(start, 0) == start
    assert calendar().add_working_hours(start, 0).tzinfo is TEHRAN


def test_add_working_hours_rejects_negative() -> None:
    with pytest.raises(ValueError):
        calendar().add_working_hours(tehran(SAT, 8), -1)
