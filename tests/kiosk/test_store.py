"""The kiosk's durable local store: settings, migrations, receipts, and durable files.

A power cut cannot be staged in a test, so what makes the store survive one is checked
where it is decided: every connection runs in WAL mode with `synchronous = FULL` (WAL with
less can lose the last commits), and a scan is fsynced under a temporary name, renamed into
place and its folder fsynced before the transaction that names it commits.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from kiosk.local import store as store_module
from kiosk.local.store import MIGRATIONS, KioskStore, StoreError, write_file_durably
from kiosk.usecases.kiosk import Kiosk
from shared.catalog.schema import Catalog
from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter
from tests.kiosk.live import APPLICANT, SERVICE, SLOT, form_for, kiosk_config, scan
from tests.shared.fake_devices import READY

VALUES = {"service_title": "صدور کارت راهنمای گردشگری", "documents": ["گواهی دوره"], "n": 3}


def test_every_connection_of_the_store_is_wal_with_synchronous_full(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    opened: list[sqlite3.Connection] = []
    connect = sqlite3.connect

    def recording_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        opened.append(connect(*args, **kwargs))
        return opened[-1]

    monkeypatch.setattr(store_module.sqlite3, "connect", recording_connect)
    for _ in range(2):  # a new store, then the same file opened again
        with KioskStore(tmp_path) as store:
            store.save_receipt("request", "0012345678901234", VALUES)
            assert store.find_receipt("request", "0012345678901234") is not None
            for db in opened:
                assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
                assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
                assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert opened, "the store opened no connection through sqlite3.connect"
        opened.clear()


def test_the_store_is_migrated_once(tmp_path: Path) -> None:
    with KioskStore(tmp_path) as store:
        assert store.schema_version == len(MIGRATIONS)
    with KioskStore(tmp_path) as again:  # opening again migrates nothing
        assert again.schema_version == len(MIGRATIONS)


def _recording(events: list[tuple[str, ...]], name: str,
               call: Callable[..., Any], describe: Callable[..., tuple[str, ...]]
               ) -> Callable[..., Any]:
    def recorded(*args: Any) -> Any:
        events.append((name, *describe(*args)))
        return call(*args)
    return recorded


def test_a_scan_is_fsynced_and_renamed_into_place_before_the_commit_that_names_it(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch, demo_catalog: Catalog) -> None:
    events: list[tuple[str, ...]] = []
    monkeypatch.setattr(os, "fsync", _recording(
        events, "fsync", os.fsync, lambda fd: (os.readlink(f"/proc/self/fd/{fd}"),)))
    monkeypatch.setattr(os, "replace", _recording(
        events, "replace", os.replace, lambda src, dst: (str(src), str(dst))))
    config = kiosk_config(tmp_path / "kiosk", "http://127.0.0.1:9", kiosk_id=7, token="t")
    with KioskStore(config.data_dir) as store:
        store._db.set_trace_callback(lambda sql: events.append(("sql", sql)))
        kiosk = Kiosk(config, store, ReceiptPrinter(FakePrinter(READY), 0.05), None)
        kiosk.file_request(SERVICE, APPLICANT, form_for(demo_catalog), {SLOT: [scan()]})
        [document] = [r for r in store.pending() if r.kind == "document"]
    assert document.file is not None and document.file.is_file()
    final = str(document.file)

    [renamed] = [i for i, e in enumerate(events) if e[0] == "replace" and e[2] == final]
    temporary = events[renamed][1]
    assert temporary != final and Path(temporary).parent == document.file.parent
    [written] = [i for i, e in enumerate(events)
                 if e == ("fsync", os.path.realpath(temporary))]
    [folder_synced] = [i for i, e in enumerate(events)
                       if e == ("fsync", os.path.realpath(document.file.parent))]
    [named] = [i for i, e in enumerate(events)
               if e[0] == "sql" and e[1].startswith("INSERT INTO outbox")
               and document.file.name in e[1]]
    committed = next(i for i, e in enumerate(events) if i > named and e == ("sql", "COMMIT"))
    assert written < renamed < folder_synced < named < committed


def test_receipts_are_kept_replaced_and_marked_printed(tmp_path: Path) -> None:
    filed = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
    with KioskStore(tmp_path) as store:
        saved = store.save_receipt("request", "0012345678901234", VALUES, created_at=filed)
        assert saved.values == VALUES and saved.created_at == filed
        assert saved.printed_at is None and saved.print_count == 0
        store.save_receipt("ticket", "aB3_x", {"ticket_label": "B-023"})
        assert [r.key for r in store.unprinted_receipts()] == ["0012345678901234", "aB3_x"]
        store.mark_printed("request", "0012345678901234")
        store.mark_printed("request", "0012345678901234")
        changed = store.save_receipt("request", "0012345678901234", {**VALUES, "n": 4})
        assert changed.values["n"] == 4 and changed.created_at == filed
    with KioskStore(tmp_path) as reopened:
        found = reopened.find_receipt("request", "0012345678901234")
        assert found is not None and found.print_count == 2 and found.printed_at is not None
        assert reopened.find_receipt("ticket", "0012345678901234") is None
        assert [r.key for r in reopened.unprinted_receipts()] == ["aB3_x"]


def test_bad_kinds_and_naive_times_are_refused(tmp_path: Path) -> None:
    with KioskStore(tmp_path) as store:
        with pytest.raises(ValueError):
            store.save_receipt("survey", "x", {})  # type: ignore[arg-type]
        with pytest.raises(ValueError):
            store.save_receipt("ticket", "x", {}, created_at=datetime(2026, 1, 1))
        assert store.unprinted_receipts() == []


def test_a_store_from_a_newer_kiosk_is_not_touched(tmp_path: Path) -> None:
    KioskStore(tmp_path).close()
    db = sqlite3.connect(tmp_path / "kiosk.sqlite3")
    db.execute(f"PRAGMA user_version = {len(MIGRATIONS) + 1}")
    db.close()
    with pytest.raises(StoreError, match="newer kiosk"):
        KioskStore(tmp_path)


def test_a_killed_process_loses_nothing_it_committed(tmp_path: Path) -> None:
    """SIGKILL leaves the operating system's cache intact, so this shows that a commit is
    done when `save_receipt` returns, not that it would survive a power cut (see above)."""
    script = (
        "import sys, time\n"
        "from kiosk.local.store import KioskStore\n"
        "store = KioskStore(__import__('pathlib').Path(sys.argv[1]))\n"
        "store.save_receipt('request', '0012345678901234', {'saved': True})\n"
        "print('saved', flush=True)\n"
        "time.sleep(60)\n"
    )
    child = subprocess.Popen([sys.executable, "-c", script, str(tmp_path)],
                             stdout=subprocess.PIPE, text=True,
                             cwd=Path(__file__).resolve().parents[2])
    try:
        assert child.stdout is not None and child.stdout.readline().strip() == "saved"
    finally:
        child.kill()  # SIGKILL: no clean-up, no close
        child.wait()
    with KioskStore(tmp_path) as store:
        found = store.find_receipt("request", "0012345678901234")
        assert found is not None and found.values == {"saved": True}


def test_files_are_replaced_whole_and_leave_no_temporaries(tmp_path: Path) -> None:
    target = tmp_path / "scans" / "doc.pdf"
    write_file_durably(target, b"%PDF-1 first")
    write_file_durably(target, b"%PDF-1 second")
    assert target.read_bytes() == b"%PDF-1 second"
    assert [p.name for p in target.parent.iterdir()] == ["doc.pdf"]
