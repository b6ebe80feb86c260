"""What batching would buy the worker: the CPU and time of settling inquiry attempts one
transaction each (today) against several per transaction (the next design), on PostgreSQL.

    .venv/bin/python bench/settle_batching.py [--database-url URL] [--jobs 600] [--batch 16]

Each settle is what the worker writes after an answered inquiry: the evidence entry (head
upsert, insert, head update), the inquiry's result, the usage counter and the job marked
done. Prints CPU ms and wall ms per settle for each way.
"""

from __future__ import annotations

import argparse
import time
from datetime import timedelta

import common
import inquiry_bench as bench
from sqlalchemy import update

from counter_server.config import DEMO_CATALOG
from counter_server.context import database
from counter_server.db import utcnow
from counter_server.jobs.queue import claim, succeed
from counter_server.jobs.usage import Tariff, count_call
from counter_server.models import Inquiry
from counter_server.usecases import evidence
from shared.catalog.loader import load_catalog


def settle(session, job, now) -> None:  # type: ignore[no-untyped-def]
    inquiry_id = job.payload["inquiry"]
    request_id = session.get(Inquiry, inquiry_id).request_id
    evidence.append(session, request_id, evidence.Entry(
        inquiry_id=inquiry_id, round=1, attempt=job.attempt, outcome="answered",
        target="shahkar", sent_at=now, received_at=now, message_id="m", reply_id="r",
        http_status=200, request_body=b"{}", reply_body=b"{}"))
    session.execute(update(Inquiry).where(Inquiry.id == inquiry_id)
                    .values(status="done", attempts=Inquiry.attempts + 1))
    count_call(session, "shahkar", now.date(), Tariff())
    succeed(session, job, now)


def run(app, jobs: int, batch: int) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    with app.app_context():
        db = database()
        claimed = []
        while batch_ := claim(db, "bench", utcnow(), timedelta(minutes=10), 100, ("inquiry",)):
            claimed += batch_
        claimed = claimed[:jobs]
        wall, cpu = time.perf_counter(), time.process_time()
        for start in range(0, len(claimed), batch):
            with db.transaction() as session:
                for job in claimed[start:start + batch]:
                    settle(session, job, utcnow())
        return ((time.process_time() - cpu) * 1000 / len(claimed),
                (time.perf_counter() - wall) * 1000 / len(claimed))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/miz_bench")
    parser.add_argument("--jobs", type=int, default=600)
    parser.add_argument("--batch", type=int, default=16)
    args = parser.parse_args()
    catalog = load_catalog(DEMO_CATALOG)
    instance = common.VAR_DIR / "settle-bench"
    instance.mkdir(parents=True, exist_ok=True)
    for batch in (1, args.batch):
        bench.recreate(args.database_url)
        app = bench.app_for(args.database_url, instance, catalog)
        bench.seed_requests(app, catalog, args.jobs)
        cpu, wall = run(app, args.jobs, batch)
        print(f"{batch:>3} settle(s) per transaction: {cpu:.2f} ms CPU, {wall:.2f} ms wall "
              "per settle (this process)")


if __name__ == "__main__":
    main()
