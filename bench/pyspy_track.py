"""Sample the live gunicorn workers with py-spy while wrk loads a tracking endpoint.

    .venv/bin/pip install py-spy
    .venv/bin/python bench/pyspy_track.py --db sqlite --endpoint api
    .venv/bin/python bench/pyspy_track.py --db pg --endpoint page --seconds 20
    .venv/bin/python bench/pyspy_track.py --endpoint ticket --production --server gthread:2x32 \
        --connections 32 --database-url postgresql://postgres@127.0.0.1:5432/bench_tickets

Unlike profile_track.py (in-process, Flask's test client) this sees what the real server does:
gunicorn's request parsing, the sockets, the database driver. It prints the functions that
were on the workers' stacks most often (inclusive) and where the samples ended (own time);
the raw stacks go to var/bench/pyspy-<endpoint>-<db>.txt (flamegraph.pl input). `--endpoint
ticket` takes tickets (`tickets.lua`: the seeded kiosk's token, a fresh `client_id` each);
`--production` runs the server with `lobby_bench.py`'s production settings (Redis limiter,
limits raised by configuration).
"""

from __future__ import annotations

import argparse
import collections
import os
import subprocess
import time

import common
from track_bench import DB_SHORTCUTS, LUA, VENV_BIN, Server, ServerConfig, check

TICKETS_LUA = common.BENCH_DIR / "tickets.lua"
SERVICE = "tour-guide-card"


def summarize(raw: str, top: int) -> None:
    inclusive: collections.Counter[str] = collections.Counter()
    own: collections.Counter[str] = collections.Counter()
    total = 0
    for line in raw.splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        frames = [f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].split("/")[-1] + ")"
                  for f in stack.split(";") if f and not f.startswith("process ")]
        total += count
        for name in set(frames):
            inclusive[name] += count
        if frames:
            own[frames[-1]] += count
    if not total:
        print("no samples")
        return
    idle = sum(c for name, c in own.items() if "select" in name or "accept" in name
               or "wait" in name.split(" (")[0])
    print(f"{total} samples; {100 * idle / total:.0f}% of them waiting (select/accept/wait)")
    print("\ninclusive (on the stack):")
    for name, count in inclusive.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name}")
    print("\nown time (leaf):")
    for name, count in own.most_common(top):
        print(f"  {100 * count / total:5.1f}%  {name}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=sorted(DB_SHORTCUTS), default="sqlite")
    parser.add_argument("--endpoint", choices=("api", "page", "ticket"), default="api")
    parser.add_argument("--database-url", help="instead of --db")
    parser.add_argument("--production", action="store_true",
                        help="lobby_bench.py's production settings (Redis limiter at --redis)")
    parser.add_argument("--redis", default="redis://127.0.0.1:6379")
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--seconds", type=int, default=15)
    parser.add_argument("--server", type=ServerConfig.parse, default=ServerConfig("sync", 4, 1))
    parser.add_argument("--wsgi", default="counter_server:create_app()")
    parser.add_argument("--top", type=int, default=40)
    args = parser.parse_args()
    url = args.database_url or DB_SHORTCUTS[args.db]
    if args.production:
        from lobby_bench import PRODUCTION

        os.environ.update(PRODUCTION, MIZ_RATELIMIT_STORAGE_URI=args.redis)
    codes, token = common.codes_file(url), common.token_file(url).read_text().strip()
    out = common.VAR_DIR / f"pyspy-{args.endpoint}-{common.backend(url)}.txt"
    (common.VAR_DIR / "logs").mkdir(parents=True, exist_ok=True)
    server = Server(url, args.server, common.VAR_DIR / "logs" / "gunicorn-pyspy.log", args.wsgi)
    load = None
    try:
        server.start()
        script, wrk_args = TICKETS_LUA, [token, SERVICE]
        if args.endpoint != "ticket":
            check(server.base, args.endpoint, codes.read_text().split()[0], token)
            prefix = "/api/v1/track/" if args.endpoint == "api" else "/t/"
            script, wrk_args = LUA, ["track", str(codes), token, prefix]
        load = subprocess.Popen(
            ["wrk", "-t", "1", "-c", str(args.connections), "-d", f"{args.seconds + 6}s",
             "-s", str(script), server.base, "--", *wrk_args],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        time.sleep(3)  # warm
        assert server.process is not None
        subprocess.run([str(VENV_BIN / "py-spy"), "record", "--pid", str(server.process.pid),
                        "--subprocesses", "--duration", str(args.seconds), "--rate", "250",
                        "--format", "raw", "--output", str(out), "--nonblocking"],
                       check=True, capture_output=True)
        output, _ = load.communicate(timeout=args.seconds + 30)
        print(f"app {common.app_version()}; {common.backend(url)}; gunicorn {args.server}; "
              f"wrk -c {args.connections}:")
        print("\n".join(line for line in output.splitlines()
                        if "Requests/sec" in line or "Latency" in line
                        or line.startswith("MIZ_RESULT")))
    finally:
        if load is not None and load.poll() is None:
            load.terminate()
            load.wait()
        server.stop()
    summarize(out.read_text(), args.top)
    print(f"\nraw stacks: {out}")
    if os.environ.get("MIZ_BENCH_APP"):
        print(f"(MIZ_BENCH_APP={os.environ['MIZ_BENCH_APP']})")


if __name__ == "__main__":
    main()
