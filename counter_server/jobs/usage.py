"""Calls to metered outside systems: a daily quota per system and what the calls cost.

Each worker lane counts into its own shard of the day's row (`SHARDS` of them), so lanes
settling at the same moment do not wait on one another's row lock; the figures read are the
sums over the shards.

A daily *allowance* (units of something other than calls, e.g. the SMS parts of a day's
budget) lives in the same table, in the one shard `ALLOWANCE_SHARD` of its target's day:
`take_allowance` reserves units with one conditional UPDATE, so lanes and processes reserving
at once can never pass the limit together (the row lock serializes them on PostgreSQL, the
write lock on SQLite); the call figures leave that shard out.
"""

from __future__ import annotations

import threading
import zlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from counter_server.db import upsert_insert
from counter_server.models.jobs import UsageDay
from shared.workcalendar import WorkCalendar


@dataclass(frozen=True)
class Tariff:
    """What one outside system allows and charges: calls a day (None: no limit), rials a call."""

    daily_quota: int | None = None
    cost_rials: int = 0


SHARDS = 16
ALLOWANCE_SHARD = -1


@dataclass(frozen=True)
class Usage:
    """One system's calls and their cost on one day."""

    target: str
    day: date
    calls: int
    cost_rials: int


def shard_of_this_thread() -> int:
    return zlib.crc32(f"{threading.get_native_id()}".encode()) % SHARDS


def calls_on(session: Session, target: str, day: date) -> int:
    return session.scalar(select(func.sum(UsageDay.calls)).where(
        UsageDay.target == target, UsageDay.day == day, UsageDay.shard >= 0)) or 0


def quota_wait(session: Session, target: str, tariff: Tariff, now: datetime,
               calendar: WorkCalendar) -> datetime | None:
    """None if today's quota has room; otherwise the start of the next (local) day."""
    if tariff.daily_quota is None:
        return None
    today = calendar.local_date(now)
    if calls_on(session, target, today) < tariff.daily_quota:
        return None
    tomorrow = datetime.combine(today + timedelta(days=1), time(0, 0), tzinfo=calendar.zone)
    return tomorrow


def count_call(session: Session, target: str, day: date, tariff: Tariff) -> None:
    """One more call to `target` on `day` (in the transaction that settles the attempt)."""
    statement = upsert_insert(session)(UsageDay).values(
        target=target, day=day, shard=shard_of_this_thread(), calls=1,
        cost_rials=tariff.cost_rials)
    session.execute(statement.on_conflict_do_update(
        index_elements=["target", "day", "shard"],
        set_={"calls": UsageDay.calls + 1,
              "cost_rials": UsageDay.cost_rials + tariff.cost_rials}))


def usage_between(session: Session, first: date, last: date) -> list[Usage]:
    """Every system's days from `first` to `last`, for the desk."""
    rows = session.execute(
        select(UsageDay.target, UsageDay.day, func.sum(UsageDay.calls),
               func.sum(UsageDay.cost_rials))
        .where(UsageDay.day.between(first, last), UsageDay.shard >= 0)
        .group_by(UsageDay.target, UsageDay.day)
        .order_by(UsageDay.day.desc(), UsageDay.target))
    return [Usage(target, day, int(calls), int(cost)) for target, day, calls, cost in rows]


# Daily allowances ----------------------------------------------------------------------------

def allowance_used(session: Session, target: str, day: date) -> int | None:
    """The units of `target`'s allowance taken on `day`; None before the first was taken."""
    return session.scalar(select(UsageDay.calls).where(
        UsageDay.target == target, UsageDay.day == day, UsageDay.shard == ALLOWANCE_SHARD))


def take_allowance(session: Session, target: str, day: date, units: int, limit: int | None,
                   opening: int = 0) -> bool:
    """Take `units` of `target`'s allowance on `day` if the day stays within `limit` (None:
    no limit, always taken); whether they were taken. `opening` is what the day had used
    before its row existed. Commit soon: the row stays locked until then."""
    session.execute(upsert_insert(session)(UsageDay).values(
        target=target, day=day, shard=ALLOWANCE_SHARD, calls=opening, cost_rials=0)
        .on_conflict_do_nothing(index_elements=["target", "day", "shard"]))
    statement = update(UsageDay).where(
        UsageDay.target == target, UsageDay.day == day, UsageDay.shard == ALLOWANCE_SHARD)
    if limit is not None:
        statement = statement.where(UsageDay.calls + units <= limit)
    taken = session.execute(statement.values(calls=UsageDay.calls + units)
                            .execution_options(synchronize_session=False))
    return taken.rowcount == 1


def give_back_allowance(session: Session, target: str, day: date, units: int) -> None:
    """Return `units` taken on `day` that were not used after all (e.g. a send that failed)."""
    session.execute(update(UsageDay).where(
        UsageDay.target == target, UsageDay.day == day, UsageDay.shard == ALLOWANCE_SHARD)
        .values(calls=UsageDay.calls - units)
        .execution_options(synchronize_session=False))
