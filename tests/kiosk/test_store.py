"""The kiosk's durable local store: settings, migrations, receipts, and durable files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from kiosk.local.store import MIGRATIONS, KioskStore, StoreError, write_file_durably

VALUES = {"service_title": "صدور کارت راهنمای گردشگری", "documents": ["گواهی دوره"], "n": 3}


def test_the_store_is_wal_with_full_sync_and_fully_migrated(tmp_path: Path) -> None:
    with KioskStore(tmp_path) as store:
        db = store._db
        assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert db.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
        assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
        assert store.schema_version == len(MIGRATIONS)
    with KioskStore(tmp_path) as again:  # opening again migrates nothing
        assert again.schema_version == len(MIGRATIONS)


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


def test_a_saved_receipt_survives_the_process_being_killed(tmp_path: Path) -> None:
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
