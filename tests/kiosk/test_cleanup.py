"""No copy of a citizen's scan outlives what names it: the kiosk's processes are killed
(SIGKILL, real processes) at the moments where a scan is on disk and nothing is yet — or no
longer — meant to keep it, and the next start leaves no file that no record names. Also: the
data folder is private, a failed filing takes its scans back, and refused records lose their
personal data after the configured days."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import pytest

from counter_server.models import RequestDocument
from kiosk.config import KioskConfig
from kiosk.local.store import KioskStore, NewRecord, utcnow
from kiosk.sync.engine import SyncEngine
from kiosk.usecases.kiosk import Kiosk
from shared.catalog.schema import Catalog
from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter
from tests.kiosk.live import (
    APPLICANT,
    SERVICE,
    SLOT,
    LiveServer,
    form_for,
    kiosk_config,
    scan,
)
from tests.shared.fake_devices import READY

ROOT = Path(__file__).resolve().parents[2]
OFFLINE = "http://127.0.0.1:9"

# A kiosk process that files one request with two scans, and dies at `moment`:
# "mid-scan": the first scan half written to its temporary file (before its fsync);
# "scans-written": both scans written, the transaction that names them not committed.
FILING_SCRIPT = """
import os, signal, sys
from kiosk.config import load_config
from kiosk.local.store import KioskStore
from kiosk.usecases import filing
from kiosk.usecases.kiosk import Kiosk
from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter
from tests.kiosk.live import APPLICANT, PHOTO_SLOT, SERVICE, SLOT, form_for, scan
from tests.shared.fake_devices import READY

config_path, moment = sys.argv[1:3]

def die(*args, **kwargs):
    os.kill(os.getpid(), signal.SIGKILL)

config = load_config(config_path)
store = KioskStore(config.data_dir)
kiosk = Kiosk(config, store, ReceiptPrinter(FakePrinter(READY), 0.05), None)
if moment == "mid-scan":
    os.fsync = die
else:
    filing._receipt_values = die
kiosk.file_request(SERVICE, APPLICANT, form_for(kiosk.catalog()),
                   {SLOT: [scan("certificate")], PHOTO_SLOT: [scan("photo")]})
print("filed without dying", flush=True)
"""

# A sync process that dies right after committing an acknowledgement, when it first
# deletes a scan the acknowledgement let go.
ACK_SCRIPT = """
import os, pathlib, signal, sys
from kiosk.config import load_config
from kiosk.local.store import KioskStore
from kiosk.sync.engine import SyncEngine

config = load_config(sys.argv[1])
store = KioskStore(config.data_dir)
real_unlink = pathlib.Path.unlink

def unlink(path, *args, **kwargs):
    if path.parent == store.files_dir:
        os.kill(os.getpid(), signal.SIGKILL)
    return real_unlink(path, *args, **kwargs)

pathlib.Path.unlink = unlink
print(SyncEngine(config, store).run_once().summary(), flush=True)
"""


def run_killed(script: str, *args: str) -> None:
    done = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True,
                          text=True, timeout=120, check=False)
    assert done.returncode == -signal.SIGKILL, (done.stdout, done.stderr)


def unnamed_files(store: KioskStore) -> set[str]:
    """Files of the outbox folder that no record names."""
    on_disk = {p.name for p in store.files_dir.iterdir()} if store.files_dir.is_dir() else set()
    named = {r.file.name for r in store.pending() + store.failed() if r.file is not None}
    return on_disk - named


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()} if folder.is_dir() else set()


def offline_config(tmp_path: Path) -> KioskConfig:
    return kiosk_config(tmp_path / "kiosk", OFFLINE, kiosk_id=7, token="t")


@pytest.mark.parametrize("moment", ["mid-scan", "scans-written"])
def test_a_kiosk_killed_while_filing_leaves_no_scan_after_its_next_start(
        tmp_path: Path, moment: str) -> None:
    config = offline_config(tmp_path)
    with KioskStore(config.data_dir) as store:
        outbox = store.files_dir
    for _ in range(3):  # each start sweeps what the kill before it left
        run_killed(FILING_SCRIPT, str(config.source), moment)
        left = files_in(outbox)
        assert len(left) == (1 if moment == "mid-scan" else 2), left  # the moment was reached
        assert all(name.endswith(".tmp") for name in left) == (moment == "mid-scan")

    with KioskStore(config.data_dir) as store:  # the next start
        assert store.counts() == {"pending": 0, "sent": 0, "failed": 0}
        assert files_in(outbox) == set()


def test_a_sync_killed_right_after_an_acknowledgement_leaves_no_scan_after_its_next_start(
        tmp_path: Path, demo_catalog: Catalog) -> None:
    server = LiveServer(tmp_path / "server", demo_catalog)
    try:
        server.start()
        config = kiosk_config(tmp_path / "kiosk", server.url, server.kiosk_id, server.token)
        offline = kiosk_config(tmp_path / "offline", OFFLINE, server.kiosk_id, server.token,
                               data_dir=config.data_dir)
        with KioskStore(config.data_dir) as store:
            kiosk = Kiosk(offline, store, ReceiptPrinter(FakePrinter(READY), 0.05), None)
            for n in range(4):
                kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog),
                                   {SLOT: [scan(f"certificate {n}")]})
            outbox = store.files_dir
        assert len(files_in(outbox)) == 4

        run_killed(ACK_SCRIPT, str(config.source))
        assert server.count(RequestDocument) == 4
        assert len(files_in(outbox)) == 4  # acknowledged, purged, and still on disk

        with KioskStore(config.data_dir) as store:  # the next start
            assert store.counts() == {"pending": 0, "sent": 8, "failed": 0}
            assert files_in(outbox) == set()
            assert store._db.execute("SELECT COUNT(*) FROM discarded_files").fetchone() == (0,)
    finally:
        server.close()


def test_the_next_start_spares_the_scans_records_still_name(
        tmp_path: Path, demo_catalog: Catalog) -> None:
    config = offline_config(tmp_path)
    with KioskStore(config.data_dir) as store:
        kiosk = Kiosk(config, store, ReceiptPrinter(FakePrinter(READY), 0.05), None)
        kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {SLOT: [scan()]})
        [document] = [r for r in store.pending() if r.kind == "document"]
        (store.files_dir / "stray.jpg").write_bytes(b"nobody's")
    with KioskStore(config.data_dir) as store:
        assert document.file is not None and document.file.read_bytes()
        assert files_in(store.files_dir) == {document.file.name}
        assert unnamed_files(store) == set()


def test_a_failed_filing_takes_back_the_scans_it_wrote(tmp_path: Path) -> None:
    with KioskStore(tmp_path / "data") as store, pytest.raises(sqlite3.IntegrityError):
        with store.unit_of_work() as unit:
            path = unit.write_file("scan-1", b"a citizen's scan", ".jpg")
            assert path.read_bytes() == b"a citizen's scan"
            record = NewRecord(kind="document", client_id="same", body={}, kiosk_time=utcnow(),
                               file=path)
            unit.add_record(record)
            unit.add_record(record)  # the same client id twice: the unit fails
    assert files_in(tmp_path / "data" / "outbox") == set()


def test_the_data_folder_is_the_kiosk_users_alone(tmp_path: Path) -> None:
    shared = tmp_path / "data"
    shared.mkdir(mode=0o755)
    shared.chmod(0o755)
    with KioskStore(shared) as store, store.unit_of_work() as unit:
        unit.write_file("scan", b"scan", ".jpg")
    assert shared.stat().st_mode & 0o777 == 0o700
    assert (shared / "outbox").stat().st_mode & 0o777 == 0o700
    with KioskStore(tmp_path / "new" / "data"):
        assert (tmp_path / "new" / "data").stat().st_mode & 0o777 == 0o700


def test_refused_records_lose_their_personal_data_after_the_configured_days(
        tmp_path: Path, demo_catalog: Catalog) -> None:
    config = offline_config(tmp_path)
    assert config.refused_retention_days == 30
    with KioskStore(config.data_dir) as store:
        kiosk = Kiosk(config, store, ReceiptPrinter(FakePrinter(READY), 0.05), None)
        filed = kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {SLOT: [scan()]})
        request, document = store.pending()
        refused_at = utcnow()
        assert store.fail(request.id, 422, "HTTP 422 invalid_form", refused_at) == [document.id]
        assert document.file is not None and document.file.is_file()

        def engine_on(day: float) -> SyncEngine:
            return SyncEngine(config, store, clock=lambda: refused_at + timedelta(days=day))

        assert engine_on(29.9).purge_refused() == 0
        assert store.record(request.id).body["applicant"] == APPLICANT  # type: ignore[union-attr]
        assert engine_on(30.1).purge_refused() == 2
        request, document = (store.record(r.id) for r in (request, document))
        assert request is not None and document is not None
        assert request.state == document.state == "failed" and request.purged_at
        assert request.body == {"catalog_version": None, "channel": "kiosk",
                                "created_at": request.kiosk_time.isoformat(),
                                "service": SERVICE, "tracking_code": filed.tracking_code}
        assert request.last_error == "HTTP 422 invalid_form" and request.http_status == 422
        assert document.file is None and files_in(store.files_dir) == set()
        assert store.reset() == 0  # purged: nothing left to send again
        kept = store.path.read_bytes() + store.path.with_name(
            store.path.name + "-wal").read_bytes()
        assert json.dumps(APPLICANT["national_code"]).strip('"').encode() not in kept
