"""Jalali (Solar Hijri) dates: conversion, parsing and Persian display.

Dates are stored as Gregorian `datetime.date` values and instants as UTC datetimes (naive
datetimes read from a database are UTC); they are converted to Jalali and to local time
(Asia/Tehran by default) only for display and for the calendar's day arithmetic.

Calendar arithmetic is jdatetime's; month and weekday names are set here rather than taken
from jdatetime's locale-dependent strftime.
"""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import jdatetime

from shared.text import to_ascii_digits, to_persian_digits

TEHRAN = ZoneInfo("Asia/Tehran")

MONTHS = (
    "فروردین",
    "اردیبهشت",
    "خرداد",
    "تیر",
    "مرداد",
    "شهریور",
    "مهر",
    "آبان",
    "آذر",
    "دی",
    "بهمن",
    "اسفند",
)

# Indexed by Python's date.weekday(): Monday = 0 … Sunday = 6.
WEEKDAYS = ("دوشنبه", "سه‌شنبه", "چهارشنبه", "پنجشنبه", "جمعه", "شنبه", "یکشنبه")

INVALID_FORMAT = "قالب تاریخ درست نیست؛ تاریخ را به شکل ۱۴۰۵/۰۹/۰۵ وارد کنید."
INVALID_DATE = "تاریخ نامعتبر است؛ چنین روزی در تقویم وجود ندارد."

_JALALI = re.compile(r"([0-9]{4})[-/]([0-9]{1,2})[-/]([0-9]{1,2})")


def _plain_date(d: date) -> date:
    """The calendar date of `d` (a datetime's own date fields, unconverted)."""
    return date(d.year, d.month, d.day)


def to_jalali(d: date) -> jdatetime.date:
    """Convert a Gregorian date to a Jalali date."""
    return jdatetime.date.fromgregorian(date=_plain_date(d))


def from_jalali_string(value: str) -> date:
    """Parse a Jalali date such as "1405-09-05" or «۱۴۰۵/۹/۵» into a Gregorian date.

    Any digit script, '-' or '/' as separator, surrounding spaces and invisible bidi marks
    are accepted. Raises ValueError with a Persian message on bad input.
    """
    text = "".join(ch for ch in value if unicodedata.category(ch) != "Cf")
    match = _JALALI.fullmatch(to_ascii_digits(text).strip())
    if match is None:
        raise ValueError(INVALID_FORMAT)
    year, month, day = (int(part) for part in match.groups())
    try:
        gregorian: date = jdatetime.date(year, month, day).togregorian()
    except (ValueError, OverflowError):
        raise ValueError(INVALID_DATE) from None
    return gregorian


def jalali_string(d: date) -> str:
    """The Jalali date as sortable ASCII "YYYY-MM-DD", e.g. "1405-09-05"."""
    j = to_jalali(d)
    return f"{j.year:04d}-{j.month:02d}-{j.day:02d}"


def week_start(d: date) -> date:
    """The Saturday that starts the Jalali week of `d` (Saturday … Friday)."""
    return _plain_date(d) - timedelta(days=(d.weekday() - 5) % 7)


def format_date(d: date) -> str:
    """Display a date in Persian: «۵ آذر ۱۴۰۵»."""
    j = to_jalali(d)
    return to_persian_digits(f"{j.day} {MONTHS[j.month - 1]} {j.year}")


def weekday_name(d: date) -> str:
    """The Persian name of the weekday of `d`: «پنجشنبه»."""
    return WEEKDAYS[d.weekday()]


def format_date_long(d: date) -> str:
    """Display a date with its weekday: «پنجشنبه ۵ آذر ۱۴۰۵»."""
    return f"{weekday_name(d)} {format_date(d)}"


def to_local(dt: datetime, tz: tzinfo = TEHRAN) -> datetime:
    """Convert `dt` to the zone `tz`; a naive `dt` is taken to be UTC (as stored)."""
    if dt.tzinfo is None or dt.utcoffset() is None:
        dt = dt.replace(tzinfo=UTC)
    return dt.astimezone(tz)


def format_time(dt: datetime, tz: tzinfo = TEHRAN) -> str:
    """Display the local time of `dt` as «۱۴:۳۰» (naive `dt` is UTC)."""
    local = to_local(dt, tz)
    return to_persian_digits(f"{local.hour:02d}:{local.minute:02d}")


def format_datetime(dt: datetime, tz: tzinfo = TEHRAN) -> str:
    """Display an instant in local time: «۵ آذر ۱۴۰۵، ساعت ۱۴:۳۰» (naive `dt` is UTC)."""
    local = to_local(dt, tz)
    return f"{format_date(local)}، ساعت {format_time(local, tz)}"


def local_now(tz: tzinfo = TEHRAN) -> datetime:
    """The current time as an aware datetime in `tz`."""
    return datetime.now(tz)
