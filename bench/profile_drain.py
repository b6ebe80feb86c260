"""Where the server's time goes in a kiosk drain, in-process (no HTTP server): `--pairs`
kiosk requests with one 200 KB JPEG each, sent through Flask's test client the way the kiosk
sends them — the request, then its document (`--mode separate`), or both in one call
(`--mode combined`, `POST /api/v1/filings`) — under cProfile.

    .venv/bin/python bench/profile_drain.py --pairs 200
    .venv/bin/python bench/profile_drain.py --mode combined \
        --database-url postgresql://postgres@127.0.0.1:5432/bench_drain

Prints the CPU milliseconds per record and cProfile's top functions (cumulative and own
time). It wipes the database it is given.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import pstats
import shutil
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import common  # noqa: F401  (puts the app under test on sys.path)
from common import VAR_DIR
from kiosk_sync_bench import distinct, noise_jpeg, pick_service, sample_fields, wipe_database
from urllib3 import encode_multipart_formdata

from counter_server import create_app, migrate
from counter_server.config import DEMO_CATALOG
from counter_server.context import database
from counter_server.usecases import kiosks
from counter_server.usecases.catalog_versions import import_catalog
from shared import tracking_codes
from shared.catalog.loader import load_catalog

WORK = VAR_DIR / "profile-drain"
BOUNDARY = uuid.uuid4().hex


def prepare(url: str) -> tuple[Any, int, str, str, str]:
    """The app over a fresh database with the demo catalog and a kiosk."""
    catalog = load_catalog(DEMO_CATALOG)
    service, slot = pick_service(catalog)
    app = create_app({"DATABASE_URL": url, "SECRET_KEY": "bench",
                      "INSTANCE_PATH": str(WORK / "instance")})
    with app.app_context():
        migrate.upgrade(database())
        with database().transaction() as session:
            import_catalog(session, catalog, source="profile drain")
            registration = kiosks.register_kiosk(session, "کیوسک سنجش", "isfahan-hq")
            kiosk_id, token = registration.kiosk.id, registration.token
    return app, kiosk_id, token, service, slot


def request_body(kiosk_id: int, service: str, fields: dict[str, Any]) -> dict[str, Any]:
    now = datetime.now(UTC).isoformat()
    return {"client_id": str(uuid.uuid4()), "service": service, "channel": "kiosk",
            "applicant": {"name": "زهرا احمدی", "national_code": "0499370899",
                          "mobile": "09121234567"},
            "fields": fields, "tracking_code": tracking_codes.new_code(kiosk_id),
            "catalog_version": 1, "created_at": now}


def send_pair(client: Any, headers: dict[str, str], body: dict[str, Any], slot: str,
              scan: bytes, combined: bool) -> None:
    """One record, the way the kiosk sends it; AssertionError on anything but 201."""
    doc_id = str(uuid.uuid4())
    if combined:
        parts: list[tuple[str, Any]] = [
            ("request", json.dumps(body, ensure_ascii=False)),
            ("documents", json.dumps([{"client_id": doc_id, "slot": slot}])),
            (doc_id, ("scan.jpg", scan, "image/jpeg"))]
        data, kind = encode_multipart_formdata(parts, boundary=BOUNDARY)
        answer = client.post("/api/v1/filings", data=data,
                             headers={**headers, "Content-Type": kind})
        assert answer.status_code == 201, answer.get_data(as_text=True)
        return
    answer = client.post("/api/v1/requests", json=body, headers=headers)
    assert answer.status_code == 201, answer.get_data(as_text=True)
    data, kind = encode_multipart_formdata(
        [("client_id", doc_id), ("slot", slot), ("file", ("scan.jpg", scan, "image/jpeg"))],
        boundary=BOUNDARY)
    answer = client.post(f"/api/v1/requests/{body['tracking_code']}/documents", data=data,
                         headers={**headers, "Content-Type": kind})
    assert answer.status_code == 201, answer.get_data(as_text=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pairs", type=int, default=200)
    parser.add_argument("--mode", choices=("separate", "combined"), default="separate")
    parser.add_argument("--database-url", default=f"sqlite:///{WORK / 'server.sqlite3'}")
    parser.add_argument("--top", type=int, default=35)
    args = parser.parse_args()
    shutil.rmtree(WORK, ignore_errors=True)
    WORK.mkdir(parents=True)
    wipe_database(args.database_url)
    app, kiosk_id, token, service, slot = prepare(args.database_url)
    fields, picture = sample_fields(service), noise_jpeg(200)
    scans = [distinct(picture, n) for n in range(2 * args.pairs + 20)]
    headers = {"Authorization": f"Bearer {token}"}
    client = app.test_client()
    for n in range(20):  # warm up: first-call imports and caches
        send_pair(client, headers, request_body(kiosk_id, service, fields), slot,
                  scans[n], args.mode == "combined")
    combined = args.mode == "combined"
    bodies = [request_body(kiosk_id, service, fields) for _ in range(2 * args.pairs)]
    cpu = time.process_time()
    for body, scan in zip(bodies[:args.pairs], scans[20:], strict=False):
        send_pair(client, headers, body, slot, scan, combined)
    cpu = time.process_time() - cpu
    print(f"{args.mode}, {app.extensions['miz.db'].engine.dialect.name}: "
          f"{1000 * cpu / args.pairs:.2f} ms CPU per record ({args.pairs} records, "
          "client and server in one process, not profiled)")
    profile = cProfile.Profile(time.process_time)
    profile.enable()
    for body, scan in zip(bodies[args.pairs:], scans[20 + args.pairs:], strict=False):
        send_pair(client, headers, body, slot, scan, combined)
    profile.disable()
    profile.dump_stats(str(VAR_DIR / f"profile-drain-{args.mode}.prof"))
    for order in ("cumulative", "tottime"):
        out = io.StringIO()
        pstats.Stats(profile, stream=out).sort_stats(order).print_stats(args.top)
        print(out.getvalue())


if __name__ == "__main__":
    main()
