"""Measure the next design of the reports' roll-ups: month blocks with coarser histograms.

    .venv/bin/python bench/rollup_blocks.py \
        --database-url postgresql://postgres@127.0.0.1:5432/miz_reports_bench

The day roll-ups it starts from were built and then taken out again (slower to read over a
year than the rows, see bench/RESULTS.md); to run this, make them with that commit's code:

    git worktree add /tmp/miz-5c5a1fe 5c5a1fe && cd /tmp/miz-5c5a1fe
    .venv/bin/python bench/report_bench.py --roll --database-url …/miz_reports_bench

Reads the day roll-ups of the last 365 days that `report_bench.py --roll` made, merges them
into one JSON document per report and month (every combination of filters inside it), with
histograms at a coarser resolution — waits and service times exact below 2 minutes, then 5 s
to 10 minutes, 15 s to an hour, a minute beyond; hours to close and in a step exact below two
days, then whole days, then weeks past 60 days — and stores them in a scratch table. Then it
times what a year's report would do with them: read the twelve documents, keep the
combinations the filters allow, merge them and take the percentiles. It prints the entries
kept per design and the medians of `--repeat` runs. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from collections import defaultdict
from collections.abc import Callable
from datetime import timedelta

import common
from sqlalchemy import create_engine, text

from counter_server.db import normalize_url
from counter_server.usecases.reports import percentile
from shared import jalali


def second_bucket(seconds: int) -> int:
    for limit, step in ((120, 1), (600, 5), (3600, 15)):
        if seconds < limit:
            return seconds - seconds % step
    return seconds - seconds % 60


def hour_bucket(hours: int) -> int:
    if hours < 48:
        return hours
    if hours < 60 * 24:
        return hours - hours % 24
    return hours - hours % (24 * 7)


def add(histogram: dict, pairs: list, bucket: Callable[[int], int]) -> None:
    for value, count in pairs:
        key = bucket(int(value))
        histogram[key] = histogram.get(key, 0) + count


def build(sql, first) -> dict[str, int]:  # type: ignore[no-untyped-def]
    """Month documents from the day roll-ups; entries per design."""
    sql.execute(text("DROP TABLE IF EXISTS proto_blocks"))
    sql.execute(text("CREATE TABLE proto_blocks (kind text, month text, doc text)"))
    entries = defaultdict(int)
    queue: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, 0, 0, {}, {}, {}]))
    for row in sql.execute(text(
            "SELECT day, office_slug, queue_slug, service_slug, channel, counter_id, clerk_id, "
            "tickets, served, no_shows, transfers, waits, services, hours FROM queue_rollups "
            "WHERE day >= :first"), {"first": first}):
        cell = queue[row.day.strftime("%Y-%m")][
            f"{row.office_slug}|{row.queue_slug}|{row.service_slug}|{row.channel}|"
            f"{row.counter_id}|{row.clerk_id}"]
        for index, value in enumerate((row.tickets, row.served, row.no_shows, row.transfers)):
            cell[index] += value
        entries["queue, days"] += len(row.waits) + len(row.services) + len(row.hours)
        add(cell[4], row.waits, second_bucket)
        add(cell[5], row.services, second_bucket)
        add(cell[6], row.hours, int)
    requests: dict = defaultdict(lambda: defaultdict(lambda: [0, 0, {}, {}, {}]))
    for row in sql.execute(text(
            "SELECT day, service_slug, channel, clerk_id, filed, on_time, hours, reasons, steps "
            "FROM request_rollups WHERE day >= :first"), {"first": first}):
        cell = requests[row.day.strftime("%Y-%m")][f"{row.service_slug}|{row.channel}|"
                                                   f"{row.clerk_id}"]
        cell[0] += row.filed
        cell[1] += row.on_time
        entries["requests, days"] += len(row.hours) + len(row.reasons) + len(row.steps)
        add(cell[2], row.hours, hour_bucket)
        for reason, count in row.reasons:
            cell[3][reason] = cell[3].get(reason, 0) + count
        for step, hours, count, seconds in row.steps:
            key = f"{step}|{hour_bucket(int(hours))}"
            counted = cell[4].setdefault(key, [0, 0.0])
            counted[0] += count
            counted[1] += seconds
    for kind, months in (("queue", queue), ("requests", requests)):
        for month, cells in months.items():
            doc = {key: [*cell[:-3], *(sorted(h.items()) for h in cell[-3:])]
                   if kind == "queue" else
                   [cell[0], cell[1], sorted(cell[2].items()), sorted(cell[3].items()),
                    sorted([k, *v] for k, v in cell[4].items())]
                   for key, cell in cells.items()}
            entries[f"{kind}, months"] += sum(len(part) for cell in doc.values()
                                              for part in cell[-3:])
            sql.execute(text("INSERT INTO proto_blocks VALUES (:k, :m, :d)"),
                        {"k": kind, "m": month, "d": json.dumps(doc)})
    return entries


def read_queue(sql) -> None:  # type: ignore[no-untyped-def]
    """What the queue report would do with a year of month documents, unfiltered."""
    by: dict[str, dict] = {d: defaultdict(lambda: [{}, {}]) for d in ("office", "queue",
                                                                      "counter", "clerk")}
    total: list[dict] = [{}, {}]
    for (doc,) in sql.execute(text("SELECT doc FROM proto_blocks WHERE kind = 'queue'")):
        for key, cell in json.loads(doc).items():
            office, queue, _, _, counter, clerk = key.split("|")
            for dimension, value in (("office", office), ("queue", queue),
                                     ("counter", counter), ("clerk", clerk)):
                target = by[dimension][value]
                for index in (0, 1):
                    if index == 0 and dimension in ("counter", "clerk"):
                        continue
                    for seconds, count in cell[4 + index]:
                        target[index][seconds] = target[index].get(seconds, 0) + count
            for index in (0, 1):
                for seconds, count in cell[4 + index]:
                    total[index][seconds] = total[index].get(seconds, 0) + count
    for groups in by.values():
        for waits, services in groups.values():
            percentile(waits, 0.5), percentile(waits, 0.9), percentile(services, 0.5)
    percentile(total[0], 0.5), percentile(total[1], 0.9)


def read_requests(sql) -> None:  # type: ignore[no-untyped-def]
    """What the requests report would do with a year of month documents, unfiltered."""
    by_service: dict = defaultdict(dict)
    by_clerk: dict = defaultdict(dict)
    steps: dict = defaultdict(dict)
    for (doc,) in sql.execute(text("SELECT doc FROM proto_blocks WHERE kind = 'requests'")):
        for key, (_, _, hours, _, stays) in json.loads(doc).items():
            service, _, clerk = key.split("|")
            for target in (by_service[service], by_clerk[clerk]):
                for value, count in hours:
                    target[value] = target.get(value, 0) + count
            for step_hours, count, _ in stays:
                step, value = step_hours.split("|")
                histogram = steps[(service, step)]
                histogram[int(value)] = histogram.get(int(value), 0) + count
    for histogram in (*by_service.values(), *by_clerk.values(), *steps.values()):
        percentile(histogram, 0.5), percentile(histogram, 0.9)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=common.DEFAULT_PG_URL)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    engine = create_engine(normalize_url(args.database_url))
    first = jalali.local_now().date() - timedelta(days=364)
    with engine.begin() as sql:
        started = time.perf_counter()
        entries = build(sql, first)
        print(f"month documents built in {time.perf_counter() - started:.1f} s")
        for name, count in sorted(entries.items()):
            print(f"histogram entries kept for a year, {name}: {count:,}")
    for name, reader in (("queue", read_queue), ("requests", read_requests)):
        runs = []
        for _ in range(args.repeat):
            with engine.connect() as sql:
                started = time.perf_counter()
                reader(sql)
                runs.append(time.perf_counter() - started)
        print(f"{name}, a year from month documents: median {statistics.median(runs):.2f} s, "
              f"slowest {max(runs):.2f} s")


if __name__ == "__main__":
    main()
