"""Tests of shared.jalali: conversions, parsing and Persian display of dates and times.

Expected conversions were checked against jdatetime and published calendars
(Nowruz 1405 = 21 March 2026; 1403 is a leap year, 1404 and 1405 are not).
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from shared.jalali import (
    MONTHS,
    TEHRAN,
    WEEKDAYS,
    format_date,
    format_date_long,
    format_datetime,
    format_time,
    from_jalali_string,
    jalali_string,
    local_now,
    to_jalali,
    to_local,
    weekday_name,
)

NOWRUZ_1405 = date(2026, 3, 21)
THURSDAY = date(2026, 11, 26)  # 1405-09-05


# Conversion -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("gregorian", "jalali"),
    [
        (date(2026, 3, 21), "1405-01-01"),
        (date(2026, 3, 20), "1404-12-29"),
        (date(2026, 11, 26), "1405-09-05"),
        (date(2025, 3, 20), "1403-12-30"),
        (date(2025, 3, 21), "1404-01-01"),
        (date(2024, 3, 20), "1403-01-01"),
        (date(2021, 3, 20), "1399-12-30"),
        (date(2026, 9, 22), "1405-06-31"),
        (date(2026, 10, 22), "1405-07-30"),
        (date(2027, 3, 20), "1405-12-29"),
        (date(2027, 3, 21), "1406-01-01"),
    ],
)
def test_known_conversions(gregorian: date, jalali: str) -> None:
    assert jalali_string(gregorian) == jalali
    assert from_jalali_string(jalali) == gregorian


def test_to_jalali_returns_jdatetime_date() -> None:
    j = to_jalali(NOWRUZ_1405)
    assert (j.year, j.month, j.day) == (1405, 1, 1)
    assert j.togregorian() == NOWRUZ_1405


def test_to_jalali_of_datetime_uses_its_own_date() -> None:
    assert to_jalali(datetime(2026, 3, 21, 23, 59)).day == 1


def test_round_trip_over_several_years() -> None:
    day = date(2023, 1, 1)
    while day < date(2030, 1, 1):
        assert from_jalali_string(jalali_string(day)) == day
        day += timedelta(days=1)


def test_jalali_strings_sort_like_dates() -> None:
    days = [date(2026, 3, 20), date(2026, 3, 21), date(2026, 11, 26), date(2027, 1, 5)]
    assert sorted(jalali_string(d) for d in days) == [jalali_string(d) for d in days]


# Leap years -------------------------------------------------------------------------------


def test_last_day_of_leap_year_1403() -> None:
    assert from_jalali_string("1403-12-30") == date(2025, 3, 20)


@pytest.mark.parametrize("value", ["1404-12-30", "1405-12-30"])
def test_esfand_30_rejected_in_common_years(value: str) -> None:
    with pytest.raises(ValueError, match="تاریخ نامعتبر است"):
        from_jalali_string(value)


# Parsing ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "value",
    [
        "1405-09-05",
        "1405/09/05",
        "۱۴۰۵/۰۹/۰۵",
        "۱۴۰۵-۰۹-۰۵",
        "١٤٠٥/٠٩/٠٥",
        "1405/9/5",
        "  ۱۴۰۵/۹/۵ ",
        "\u200f۱۴۰۵/۰۹/۰۵\u200e",
    ],
)
def test_from_jalali_string_accepts_digit_scripts_and_separators(value: str) -> None:
    assert from_jalali_string(value) == THURSDAY


@pytest.mark.parametrize(
    "value",
    ["1405-13-01", "1405-00-10", "1405-01-00", "1405-01-32", "1405-07-31", "0000-01-01"],
)
def test_from_jalali_string_rejects_impossible_dates(value: str) -> None:
    with pytest.raises(ValueError, match="تاریخ نامعتبر است"):
        from_jalali_string(value)


@pytest.mark.parametrize(
    "value",
    ["", "1405", "1405-09", "05-09-1405", "1405.09.05", "1405-09-05x", "abcd-ef-gh", "14050905"],
)
def test_from_jalali_string_rejects_malformed_input(value: str) -> None:
    with pytest.raises(ValueError) as info:
        from_jalali_string(value)
    assert "تاریخ" in str(info.value)


# Display ----------------------------------------------------------------------------------


def test_month_and_weekday_names() -> None:
    assert len(MONTHS) == 12 and MONTHS[0] == "فروردین" and MONTHS[8] == "آذر"
    assert "سه\u200cشنبه" in WEEKDAYS
    assert all("ي" not in name and "ك" not in name for name in MONTHS + WEEKDAYS)


def test_format_date() -> None:
    assert format_date(THURSDAY) == "۵ آذر ۱۴۰۵"
    assert format_date(NOWRUZ_1405) == "۱ فروردین ۱۴۰۵"
    assert format_date(date(2027, 3, 20)) == "۲۹ اسفند ۱۴۰۵"


def test_format_date_long() -> None:
    assert THURSDAY.isoweekday() == 4
    assert format_date_long(THURSDAY) == "پنجشنبه ۵ آذر ۱۴۰۵"
    assert format_date_long(NOWRUZ_1405) == "شنبه ۱ فروردین ۱۴۰۵"


@pytest.mark.parametrize(
    ("d", "name"),
    [
        (date(2026, 11, 21), "شنبه"),
        (date(2026, 11, 22), "یکشنبه"),
        (date(2026, 11, 23), "دوشنبه"),
        (date(2026, 11, 24), "سه\u200cشنبه"),
        (date(2026, 11, 25), "چهارشنبه"),
        (date(2026, 11, 26), "پنجشنبه"),
        (date(2026, 11, 27), "جمعه"),
    ],
)
def test_weekday_names(d: date, name: str) -> None:
    assert weekday_name(d) == name


# Time zones -------------------------------------------------------------------------------


def test_tehran_is_utc_plus_0330_without_dst() -> None:
    for month in (1, 4, 7, 10):
        offset = datetime(2025, month, 15, 12, tzinfo=TEHRAN).utcoffset()
        assert offset == timedelta(hours=3, minutes=30)


def test_naive_datetime_is_utc() -> None:
    naive = datetime(2026, 11, 26, 11, 0)
    local = to_local(naive)
    assert local == datetime(2026, 11, 26, 14, 30, tzinfo=TEHRAN)
    assert local.utcoffset() == timedelta(hours=3, minutes=30)


def test_aware_datetime_is_converted() -> None:
    berlin = datetime(2026, 6, 1, 12, 0, tzinfo=ZoneInfo("Europe/Berlin"))  # 10:00 UTC
    assert to_local(berlin).replace(tzinfo=None) == datetime(2026, 6, 1, 13, 30)


def test_format_datetime_from_naive_utc() -> None:
    assert format_datetime(datetime(2026, 11, 26, 11, 0)) == "۵ آذر ۱۴۰۵، ساعت ۱۴:۳۰"


def test_format_datetime_from_aware_utc_crosses_midnight() -> None:
    late = datetime(2026, 11, 25, 22, 0, tzinfo=UTC)  # 01:30 on Thursday in Tehran
    assert format_datetime(late) == "۵ آذر ۱۴۰۵، ساعت ۰۱:۳۰"


def test_format_datetime_from_aware_tehran_is_unchanged() -> None:
    dt = datetime(2026, 3, 21, 9, 5, tzinfo=TEHRAN)
    assert format_datetime(dt) == "۱ فروردین ۱۴۰۵، ساعت ۰۹:۰۵"
    assert format_time(dt) == "۰۹:۰۵"


def test_format_datetime_in_another_zone() -> None:
    dt = datetime(2026, 11, 26, 11, 0, tzinfo=UTC)
    assert format_datetime(dt, tz=UTC) == "۵ آذر ۱۴۰۵، ساعت ۱۱:۰۰"


def test_local_now_is_aware_tehran_time() -> None:
    before = datetime.now(UTC)
    now = local_now()
    after = datetime.now(UTC)
    assert now.tzinfo is TEHRAN
    assert before <= now <= after
