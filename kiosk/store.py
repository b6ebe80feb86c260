"""The kiosk's durable local store: one SQLite file in the configured `data_dir`.

"Saved before printed" must survive a power cut at any instant, so the database runs in WAL
mode with `synchronous=FULL` (WAL with NORMAL can lose the last commits), and files are
written to a temporary name, fsynced, renamed, and the folder fsynced (`write_file_durably`).

The schema grows by ordered migrations: `MIGRATIONS[i]` takes the database from version `i`
to `i + 1`, and SQLite's `user_version` records how far a file has come, in the same
transaction as the migration. For now it holds `receipts`: what was printed (the layout's
plain input values), so that `reprint` works with no network; the kiosk issue adds the
outbox and the catalog cache as further migrations.
"""

from __future__ import annotations

import json
import os
import sqlite3
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal, Self

DATABASE_NAME = "kiosk.sqlite3"
ReceiptKind = Literal["request", "ticket"]
RECEIPT_KINDS: tuple[ReceiptKind, ...] = ("request", "ticket")

MIGRATIONS: tuple[str, ...] = (
    # 0 → 1: what the kiosk printed, so that it can print it again.
    """
    CREATE TABLE receipts (
        id          INTEGER PRIMARY KEY,
        kind        TEXT NOT NULL CHECK (kind IN ('request', 'ticket')),
        key         TEXT NOT NULL,
        input_json  TEXT NOT NULL,
        created_at  TEXT NOT NULL,
        printed_at  TEXT,
        print_count INTEGER NOT NULL DEFAULT 0,
        UNIQUE (kind, key)
    );
    CREATE INDEX receipts_unprinted ON receipts (created_at) WHERE printed_at IS NULL;
    """,
)


class StoreError(Exception):
    """The local store cannot be used (a newer schema, a damaged file, no space)."""


@dataclass(frozen=True)
class StoredReceipt:
    """One saved receipt: `key` is the tracking code (request) or the ticket's id (ticket)."""

    kind: ReceiptKind
    key: str
    values: dict[str, Any]
    created_at: datetime
    printed_at: datetime | None
    print_count: int


def utcnow() -> datetime:
    return datetime.now(UTC)


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("store times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def write_file_durably(path: Path, data: bytes) -> None:
    """Write `data` to `path` so that a power cut leaves the old file or the new, never half.

    Temporary file in the same folder, fsync, atomic rename, then fsync of the folder.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
            out.flush()
            os.fsync(out.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    folder = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(folder)
    finally:
        os.close(folder)


class KioskStore:
    """The local SQLite store; safe to share between the app's threads."""

    def __init__(self, data_dir: Path) -> None:
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / DATABASE_NAME
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the kiosk's local store: {exc}") from exc

    def _configure(self) -> None:
        self._db.execute("PRAGMA busy_timeout = 5000")
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{self.path}: the file system does not support WAL mode")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA foreign_keys = ON")

    @property
    def schema_version(self) -> int:
        return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    def _migrate(self) -> None:
        version = self.schema_version
        if version > len(MIGRATIONS):
            raise StoreError(f"{self.path}: written by a newer kiosk (schema {version}, this "
                             f"kiosk knows up to {len(MIGRATIONS)}); update the kiosk software")
        for target in range(version + 1, len(MIGRATIONS) + 1):
            with self._transaction() as db:
                for statement in _statements(MIGRATIONS[target - 1]):
                    db.execute(statement)
                db.execute(f"PRAGMA user_version = {target:d}")

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken at once (BEGIN IMMEDIATE) and committed or rolled back."""
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    def save_receipt(self, kind: ReceiptKind, key: str, values: dict[str, Any],
                     created_at: datetime | None = None) -> StoredReceipt:
        """Commit what a receipt shows, before it is printed; a second save replaces the values."""
        if kind not in RECEIPT_KINDS:
            raise ValueError(f"kind must be one of {RECEIPT_KINDS}, not {kind!r}")
        payload = json.dumps(values, ensure_ascii=False, sort_keys=True)
        with self._transaction() as db:
            db.execute(
                "INSERT INTO receipts (kind, key, input_json, created_at) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (kind, key) DO UPDATE SET input_json = excluded.input_json",
                (kind, key, payload, _iso(created_at or utcnow())))
        found = self.find_receipt(kind, key)
        assert found is not None
        return found

    def mark_printed(self, kind: ReceiptKind, key: str, at: datetime | None = None) -> None:
        """Record that the receipt came out of the printer (once more)."""
        with self._transaction() as db:
            db.execute("UPDATE receipts SET printed_at = ?, print_count = print_count + 1 "
                       "WHERE kind = ? AND key = ?", (_iso(at or utcnow()), kind, key))

    def find_receipt(self, kind: ReceiptKind, key: str) -> StoredReceipt | None:
        with self._lock:
            row = self._db.execute(
                "SELECT kind, key, input_json, created_at, printed_at, print_count "
                "FROM receipts WHERE kind = ? AND key = ?", (kind, key)).fetchone()
        return _receipt(row) if row else None

    def unprinted_receipts(self) -> list[StoredReceipt]:
        """Receipts saved but never printed (paper ran out, say), oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT kind, key, input_json, created_at, printed_at, print_count "
                "FROM receipts WHERE printed_at IS NULL ORDER BY created_at, id").fetchall()
        return [_receipt(row) for row in rows]

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _receipt(row: tuple[Any, ...]) -> StoredReceipt:
    kind, key, payload, created, printed, count = row
    return StoredReceipt(kind=kind, key=key, values=json.loads(payload),
                         created_at=datetime.fromisoformat(created),
                         printed_at=datetime.fromisoformat(printed) if printed else None,
                         print_count=count)
