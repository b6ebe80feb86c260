"""Print var/bench/track-results.jsonl (every run of track_bench.py) as Markdown tables.

    .venv/bin/python bench/report.py                 # the latest run of every configuration
    .venv/bin/python bench/report.py --server 'sync -w 4' --endpoint 'GET /t/<code>'

For each (database, gunicorn configuration, endpoint, connections) it keeps the latest run.
"""

from __future__ import annotations

import argparse
import json

import common

RESULTS = common.VAR_DIR / "track-results.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", action="append", help="only these gunicorn configurations")
    parser.add_argument("--endpoint", action="append", help="only these endpoints")
    parser.add_argument("--since", default="", help="only runs at or after this ISO time")
    parser.add_argument("--app", help="only runs of this app version (commit)")
    parser.add_argument("--database", help="only this database (sqlite or postgresql)")
    args = parser.parse_args()
    latest: dict[tuple[str, str, str, int], dict] = {}
    for line in RESULTS.read_text().splitlines():
        run = json.loads(line)
        if run["at"] < args.since:
            continue
        if args.app and run.get("app") != args.app:
            continue
        if args.database and run["database"] != args.database:
            continue
        if args.server and run["server"] not in args.server:
            continue
        if args.endpoint and run["endpoint"] not in args.endpoint:
            continue
        latest[(run["database"], run["server"], run["endpoint"], run["connections"])] = run
    print("| database | gunicorn | endpoint | conns | req/s | p50 ms | p99 ms | errors "
          "| server CPU ms/req | gunicorn / PostgreSQL / wrk / others CPU |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | --- |")
    for (database, server, endpoint, conns), run in latest.items():
        w = run["wrk"]
        cpu = (f"{w.get('gunicorn_cpu_pct', 0):.0f} / {w.get('postgres_cpu_pct', 0):.0f} / "
               f"{w['wrk_cpu_pct']:.0f} / {w['other_cpu_pct']:.0f} %")
        ms = w.get("cpu_ms_per_request")
        if ms is None:  # runs from before the column existed
            ms = (w["server_cpu_pct"] / 100 * 2 * w["duration_us"] / 1000 / max(1, w["requests"]))
        print(f"| {database} | {server} | `{endpoint}` | {conns} | {run['rps']:,.0f} "
              f"| {run['p50_ms']:.1f} | {run['p99_ms']:.1f} | {run['errors']} | {ms:.2f} "
              f"| {cpu} |")


if __name__ == "__main__":
    main()
