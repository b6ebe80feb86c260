"""The kiosk's durable local store: one SQLite file in the configured `data_dir`.

"Saved before printed" must survive a power cut at any instant, so the database runs in WAL
mode with `synchronous=FULL` (WAL with NORMAL can lose the last commits), and files are
written to a temporary name, fsynced, renamed, and the folder fsynced (`write_file_durably`).

The schema grows by ordered migrations: `MIGRATIONS[i]` takes the database from version `i`
to `i + 1`, and SQLite's `user_version` records how far a file has come, in the same
transaction as the migration. It holds

- `receipts`: what was printed (the layout's plain input values), so that `reprint` works
  with no network;
- `outbox`: everything created on this kiosk (requests, documents, tickets, survey answers),
  in the order it must reach the server, each with its idempotency key (`client_id`), its
  body, its file (a scan, written with `write_file_durably` under `data_dir/outbox/`), the
  kiosk's clock when it was made and, once acknowledged, the server's answer and time. An
  acknowledged record is purged of personal data: the applicant, the form's values, the
  survey's comment and the scan file go; the code, service and dates stay. A record the
  server refused for good is purged the same way once `purge_refused` finds it old enough;
- `discarded_files`: scans a purge let go, written in the purge's own transaction and
  deleted from the disk after its commit (`remove_discarded`), so that a crash between the
  two leaves a name to delete at the next start, never a forgotten copy of a citizen's scan;
- `issued_codes`: every tracking code this kiosk handed out (a repeat is refused and drawn
  again);
- `catalog_cache`: the last good catalog with its ETag (the kiosk starts from it offline);
- `leases`: blocks of ticket numbers the server reserved for this kiosk, per queue and day;
- `revocations`, `seal_keys`: the delivered documents the server revoked and the seal keys
  pinned at the first sync, with which the kiosk checks a document's seal offline
  (`kiosk.usecases.seal_check`); a revocation, once learned, is never removed;
- `state`: small facts the app and the sync share (last contact, clock offset, office …),
  under the keys named below (`LAST_CONTACT` …).

Several use cases write in one transaction (`unit_of_work()`): a request, its documents and
its receipt values are committed together, before anything is printed. A record's scan is
written inside that transaction (`StoreUnit.write_file`), while it holds the database's write
lock: a unit that fails removes what it wrote, and a process killed in the middle leaves a
file no committed record names. Opening the store (`clean_up`, at every start of the app, the
sync or a command) deletes the discarded files and, under the same write lock, every file of
the outbox folder no record names, temporary files included; with the lock held no other
process can be between writing a scan and committing its record. The data folder and its
outbox are the kiosk user's alone (0700).
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
import tempfile
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
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
    # 1 → 2: the outbox, the codes handed out, the catalog cache, ticket leases, shared state.
    """
    CREATE TABLE outbox (
        id              INTEGER PRIMARY KEY,
        kind            TEXT NOT NULL CHECK (kind IN ('request', 'document', 'ticket', 'survey')),
        client_id       TEXT NOT NULL UNIQUE,
        ref             TEXT,
        service         TEXT,
        depends_on      INTEGER REFERENCES outbox (id),
        body_json       TEXT,
        file_path       TEXT,
        media_type      TEXT,
        catalog_version INTEGER,
        kiosk_time      TEXT NOT NULL,
        state           TEXT NOT NULL DEFAULT 'pending'
                        CHECK (state IN ('pending', 'sent', 'failed')),
        attempts        INTEGER NOT NULL DEFAULT 0,
        claimed_until   TEXT,
        last_attempt_at TEXT,
        last_error      TEXT,
        http_status     INTEGER,
        response_json   TEXT,
        server_time     TEXT,
        acked_at        TEXT,
        purged_at       TEXT
    );
    CREATE INDEX outbox_pending ON outbox (id) WHERE state = 'pending';
    CREATE INDEX outbox_ref ON outbox (ref);
    CREATE TABLE issued_codes (
        code       TEXT PRIMARY KEY,
        service    TEXT NOT NULL,
        issued_at  TEXT NOT NULL
    );
    CREATE TABLE catalog_cache (
        id          INTEGER PRIMARY KEY CHECK (id = 1),
        version     INTEGER,
        etag        TEXT,
        body        BLOB NOT NULL,
        fetched_at  TEXT NOT NULL,
        server_time TEXT
    );
    CREATE TABLE leases (
        id         INTEGER PRIMARY KEY,
        office     TEXT NOT NULL,
        queue      TEXT NOT NULL,
        day        TEXT NOT NULL,
        prefix     TEXT NOT NULL,
        prefix_fa  TEXT NOT NULL,
        first      INTEGER NOT NULL,
        last       INTEGER NOT NULL,
        next       INTEGER NOT NULL,
        leased_at  TEXT NOT NULL,
        CHECK (first <= next AND next <= last + 1),
        UNIQUE (queue, day, first)
    );
    CREATE INDEX leases_open ON leases (queue, day) WHERE next <= last;
    CREATE TABLE state (
        key   TEXT PRIMARY KEY,
        value TEXT NOT NULL
    )
    """,
    # 2 → 3: revocations of delivered documents and the seal keys this kiosk trusts, kept
    # beside the catalog (a catalog rolled back never un-revokes a document).
    """
    CREATE TABLE revocations (
        document_id TEXT PRIMARY KEY,
        number      TEXT NOT NULL,
        revoked_at  TEXT NOT NULL,
        reason      TEXT,
        learned_at  TEXT NOT NULL
    );
    CREATE TABLE seal_keys (
        key_id    TEXT PRIMARY KEY,
        pem       TEXT NOT NULL,
        pinned_at TEXT NOT NULL
    )
    """,
    # 3 → 4: scans a purge let go, until they are gone from the disk.
    """
    CREATE TABLE discarded_files (
        path         TEXT PRIMARY KEY,
        discarded_at TEXT NOT NULL
    )
    """,
)

OutboxKind = Literal["request", "document", "ticket", "survey"]
OUTBOX_KINDS: tuple[OutboxKind, ...] = ("request", "document", "ticket", "survey")
OutboxState = Literal["pending", "sent", "failed"]
OUTBOX_FOLDER = "outbox"
# What an acknowledged record keeps of its body: enough to reprint and to track, nothing
# personal (no applicant, no form values, no comment).
KEPT_AFTER_ACK: dict[str, tuple[str, ...]] = {
    "request": ("service", "channel", "tracking_code", "catalog_version", "created_at"),
    "document": ("slot",),
    "ticket": ("service", "priority", "tracking_code", "number", "issued_at"),
    "survey": ("service", "tracking_code", "ticket_id", "answers", "created_at"),
}
MAX_CODE_DRAWS = 8
PRIVATE_FOLDER = 0o700

log = logging.getLogger(__name__)

# Keys of the `state` table, which the app and the sync share.
LAST_CONTACT = "last_contact_at"
LAST_SYNC = "last_sync_at"
LAST_SYNC_ERROR = "last_sync_error"
CLOCK_OFFSET = "clock_offset_seconds"
CLOCK_MEASURED = "clock_offset_at"
CLOCK_DRIFT = "clock_drift"
OFFICE = "office"
PRINTER_STATE = "printer_state"
REVOCATIONS_CURSOR = "revocations_cursor"


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


@dataclass(frozen=True)
class NewRecord:
    """An outbox record to add: its body is what will be POSTed (with `file` for documents)."""

    kind: OutboxKind
    client_id: str
    body: dict[str, Any]
    kiosk_time: datetime
    ref: str | None = None
    service: str | None = None
    depends_on: int | None = None
    file: Path | None = None
    media_type: str | None = None
    catalog_version: int | None = None


@dataclass(frozen=True)
class OutboxRecord:
    """One record of the outbox as stored; `body` and `file` are None once purged."""

    id: int
    kind: OutboxKind
    client_id: str
    ref: str | None
    service: str | None
    depends_on: int | None
    body: dict[str, Any] | None
    file: Path | None
    media_type: str | None
    catalog_version: int | None
    kiosk_time: datetime
    state: OutboxState
    attempts: int
    claimed_until: datetime | None
    last_attempt_at: datetime | None
    last_error: str | None
    http_status: int | None
    response: dict[str, Any] | None
    server_time: datetime | None
    acked_at: datetime | None
    purged_at: datetime | None


@dataclass(frozen=True)
class Ack:
    """The server's acknowledgement of one record: its answer and both clocks."""

    record_id: int
    http_status: int
    response: dict[str, Any]
    server_time: datetime | None
    acked_at: datetime


@dataclass(frozen=True)
class CachedCatalog:
    """The last good catalog the server sent: its JSON body as received, and its ETag."""

    body: bytes
    etag: str | None
    version: int | None
    fetched_at: datetime
    server_time: datetime | None


@dataclass(frozen=True)
class Revocation:
    """A delivered document the server revoked: its public id, number, when and why."""

    document_id: str
    number: str
    revoked_at: datetime
    reason: str | None


@dataclass(frozen=True)
class LeasedNumber:
    """A ticket number taken from one of this kiosk's leases."""

    office: str
    queue: str
    day: date
    number: int
    prefix: str
    prefix_fa: str


def utcnow() -> datetime:
    return datetime.now(UTC)


def _when(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


def _iso(moment: datetime) -> str:
    if moment.tzinfo is None:
        raise ValueError("store times must be timezone-aware")
    return moment.astimezone(UTC).isoformat()


def clock_offset(store: KioskStore) -> float:
    """The last measured server-minus-kiosk offset in seconds (0 before any measurement)."""
    try:
        return float(store.state(CLOCK_OFFSET) or 0.0)
    except ValueError:
        return 0.0


def private_folder(path: Path) -> Path:
    """Create `path` (and its parents) if need be, and make it its owner's alone (0700)."""
    path.mkdir(mode=PRIVATE_FOLDER, parents=True, exist_ok=True)
    path.chmod(PRIVATE_FOLDER)
    return path


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
        try:
            private_folder(data_dir)
        except PermissionError as exc:
            raise StoreError(f"{data_dir}: cannot make the kiosk's data folder private (0700): "
                             f"{exc.strerror}; give it to the user the kiosk runs as") from exc
        self.path = data_dir / DATABASE_NAME
        self._lock = threading.Lock()
        try:
            self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False)
            self._configure()
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the kiosk's local store: {exc}") from exc
        self.clean_up()

    def _configure(self) -> None:
        self._db.execute("PRAGMA busy_timeout = 5000")
        mode = self._db.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode.lower() != "wal":
            raise StoreError(f"{self.path}: the file system does not support WAL mode")
        self._db.execute("PRAGMA synchronous = FULL")
        self._db.execute("PRAGMA foreign_keys = ON")
        self._db.execute("PRAGMA secure_delete = ON")  # purged personal data is overwritten

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

    @contextmanager
    def unit_of_work(self) -> Iterator[StoreUnit]:
        """One transaction for several writes (a request, its documents, its receipt):
        all of them are committed together, or none (and the files it wrote are removed)."""
        written: list[Path] = []
        try:
            with self._transaction() as db:
                yield StoreUnit(self, db, written)
        except BaseException:
            for path in written:
                path.unlink(missing_ok=True)
            raise

    def save_receipt(self, kind: ReceiptKind, key: str, values: dict[str, Any],
                     created_at: datetime | None = None) -> StoredReceipt:
        """Commit what a receipt shows, before it is printed; a second save replaces the values."""
        with self._transaction() as db:
            _save_receipt(db, kind, key, values, created_at)
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

    # --- the outbox ---------------------------------------------------------------------

    @property
    def files_dir(self) -> Path:
        """Where the outbox's files (scans) are kept until the server has them."""
        return self.path.parent / OUTBOX_FOLDER

    def add_record(self, record: NewRecord) -> int:
        """Commit one outbox record on its own; its id (the push order)."""
        with self.unit_of_work() as unit:
            return unit.add_record(record)

    def pending(self, limit: int = 100, after: int = 0) -> list[OutboxRecord]:
        """Records still to push, in push order."""
        return self._records("WHERE state = 'pending' AND id > ? ORDER BY id LIMIT ?",
                             (after, limit))

    def failed(self) -> list[OutboxRecord]:
        """Records the server refused for good, kept for staff."""
        return self._records("WHERE state = 'failed' ORDER BY id", ())

    def record(self, record_id: int) -> OutboxRecord | None:
        found = self._records("WHERE id = ?", (record_id,))
        return found[0] if found else None

    def records_for(self, ref: str, kind: OutboxKind | None = None) -> list[OutboxRecord]:
        """The records of one tracking code or ticket, oldest first."""
        if kind is None:
            return self._records("WHERE ref = ? ORDER BY id", (ref,))
        return self._records("WHERE ref = ? AND kind = ? ORDER BY id", (ref, kind))

    def ticket_ref_for(self, server_id: str) -> str | None:
        """The local key of the ticket the server knows as `server_id`."""
        with self._lock:
            row = self._db.execute(
                "SELECT ref FROM outbox WHERE kind = 'ticket' AND state = 'sent' "
                "AND json_extract(response_json, '$.id') = ?", (server_id,)).fetchone()
        return str(row[0]) if row else None

    def _records(self, where: str, params: tuple[Any, ...]) -> list[OutboxRecord]:
        with self._lock:
            rows = self._db.execute(f"SELECT {_RECORD_COLUMNS} FROM outbox {where}",
                                    params).fetchall()
        return [self._outbox_record(row) for row in rows]

    def _outbox_record(self, row: tuple[Any, ...]) -> OutboxRecord:
        values = dict(zip(_RECORD_FIELDS, row, strict=True))
        for key in ("kiosk_time", "claimed_until", "last_attempt_at", "server_time",
                    "acked_at", "purged_at"):
            values[key] = _when(values[key])
        body, response = values.pop("body_json"), values.pop("response_json")
        values["body"] = json.loads(body) if body else None
        values["response"] = json.loads(response) if response else None
        path = values.pop("file_path")
        values["file"] = self.path.parent / path if path else None
        return OutboxRecord(**values)

    def claim(self, record_id: int, until: datetime) -> bool:
        """Reserve a pending record for one sender until `until` (False if it is not pending
        or another sender holds it)."""
        with self._transaction() as db:
            changed = db.execute(
                "UPDATE outbox SET claimed_until = ? WHERE id = ? AND state = 'pending' "
                "AND (claimed_until IS NULL OR claimed_until < ?)",
                (_iso(until), record_id, _iso(utcnow()))).rowcount
        return changed == 1

    def release(self, record_id: int) -> None:
        with self._transaction() as db:
            db.execute("UPDATE outbox SET claimed_until = NULL WHERE id = ?", (record_id,))

    def note_attempt(self, record_id: int, error: str, at: datetime,
                     http_status: int | None = None) -> None:
        """A try that may succeed later (network, 5xx, 408, 429): counted, the record stays."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET attempts = attempts + 1, last_attempt_at = ?, "
                       "last_error = ?, http_status = ?, claimed_until = NULL WHERE id = ?",
                       (_iso(at), error[:500], http_status, record_id))

    def acknowledge(self, acks: Sequence[Ack], purge: bool = True,
                    delete_files: bool = True) -> list[Path]:
        """Record the server's answers in one transaction and (optionally) purge what is
        personal: the applicant and form values, the survey's comment, the scan files —
        recorded as discarded in the same transaction and deleted after the commit, unless
        the caller deletes them later (`remove_discarded`). The files let go."""
        files: list[Path] = []
        if not acks:
            return files
        with self._transaction() as db:
            for ack in acks:
                files += _acknowledge(db, ack, purge, self.path.parent)
        if delete_files:
            self.remove_discarded()
        return files

    def fail(self, record_id: int, http_status: int | None, error: str, at: datetime
             ) -> list[int]:
        """The server refused the record for good: kept for staff, with what it said. Records
        that depend on it (documents of a refused request) fail with it; their ids."""
        with self._transaction() as db:
            db.execute("UPDATE outbox SET state = 'failed', attempts = attempts + 1, "
                       "last_attempt_at = ?, last_error = ?, http_status = ?, "
                       "claimed_until = NULL WHERE id = ?",
                       (_iso(at), error[:500], http_status, record_id))
            rows = db.execute(
                "UPDATE outbox SET state = 'failed', last_attempt_at = ?, last_error = ? "
                "WHERE depends_on = ? AND state = 'pending' RETURNING id",
                (_iso(at), f"depends on record {record_id}, which the server refused",
                 record_id)).fetchall()
        return [int(row[0]) for row in rows]

    def purge_refused(self, before: datetime, at: datetime | None = None) -> int:
        """Purge the personal data of records the server refused for good before `before`
        (what an acknowledgement would have purged; their scans deleted after the commit).
        How many."""
        with self._transaction() as db:
            ids = [int(row[0]) for row in db.execute(
                "SELECT id FROM outbox WHERE state = 'failed' AND purged_at IS NULL "
                "AND COALESCE(last_attempt_at, kiosk_time) < ?", (_iso(before),))]
            for record_id in ids:
                _purge(db, record_id, at or utcnow(), self.path.parent)
        if ids:
            self.remove_discarded()
            self.checkpoint()
        return len(ids)

    def reset(self, states: Sequence[OutboxState] = ("failed",),
              ids: Sequence[int] | None = None) -> int:
        """Put records back to pending (staff retrying refused ones, or a replay); count.
        Purged records stay as they are: their bodies are gone."""
        marks = ",".join("?" for _ in states)
        query = (f"UPDATE outbox SET state = 'pending', claimed_until = NULL "
                 f"WHERE purged_at IS NULL AND state IN ({marks})")
        params: list[Any] = list(states)
        if ids is not None:
            query += f" AND id IN ({','.join('?' for _ in ids)})"
            params += list(ids)
        with self._transaction() as db:
            return db.execute(query, params).rowcount

    def counts(self) -> dict[str, int]:
        """Records per state: pending, sent, failed."""
        with self._lock:
            rows = self._db.execute("SELECT state, COUNT(*) FROM outbox GROUP BY state")
            found = {str(state): int(n) for state, n in rows}
        return {state: found.get(state, 0) for state in ("pending", "sent", "failed")}

    def remove_discarded(self) -> int:
        """Delete the files purges let go, then their names (a crash in between deletes
        them again, harmlessly); how many."""
        with self._lock:
            paths = [str(row[0]) for row in self._db.execute(
                "SELECT path FROM discarded_files")]
        for path in paths:
            (self.path.parent / path).unlink(missing_ok=True)
        if paths:
            with self._transaction() as db:
                db.executemany("DELETE FROM discarded_files WHERE path = ?",
                               [(path,) for path in paths])
        return len(paths)

    def remove_orphan_files(self) -> int:
        """Delete the outbox folder's files that no record names (a process killed while
        filing, a half-written temporary file); how many. Holds the write lock throughout,
        so that no one can be between writing a scan and committing its record."""
        if not self.files_dir.is_dir():
            return 0
        removed = 0
        with self._transaction() as db:
            named = {Path(row[0]).name for row in db.execute(
                "SELECT file_path FROM outbox WHERE file_path IS NOT NULL")}
            for path in self.files_dir.iterdir():
                if path.is_file() and path.name not in named:
                    path.unlink(missing_ok=True)
                    removed += 1
        return removed

    def clean_up(self) -> None:
        """At start: delete the discarded files and the orphans. A store another process
        holds busy for long is cleaned up at its next start instead."""
        try:
            discarded, orphans = self.remove_discarded(), self.remove_orphan_files()
        except sqlite3.OperationalError as exc:
            log.warning("%s: files not cleaned up at start: %s", self.path, exc)
            return
        if discarded or orphans:
            log.info("%s: %d discarded and %d orphan file(s) deleted at start", self.path,
                     discarded, orphans)

    def checkpoint(self) -> None:
        """Copy the write-ahead log into the database and empty it, so that purged personal
        data does not linger in old page images (best effort while others read)."""
        with self._lock:
            self._db.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()

    # --- the catalog cache -------------------------------------------------------------

    def save_catalog(self, cached: CachedCatalog) -> None:
        """Keep `cached` as the last good catalog (the caller has checked it parses)."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO catalog_cache (id, version, etag, body, fetched_at, server_time) "
                "VALUES (1, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET "
                "version = excluded.version, etag = excluded.etag, body = excluded.body, "
                "fetched_at = excluded.fetched_at, server_time = excluded.server_time",
                (cached.version, cached.etag, cached.body, _iso(cached.fetched_at),
                 _iso(cached.server_time) if cached.server_time else None))

    def cached_catalog(self) -> CachedCatalog | None:
        with self._lock:
            row = self._db.execute("SELECT body, etag, version, fetched_at, server_time "
                                   "FROM catalog_cache WHERE id = 1").fetchone()
        if row is None:
            return None
        body, etag, version, fetched, server = row
        return CachedCatalog(body=bytes(body), etag=etag, version=version,
                             fetched_at=datetime.fromisoformat(fetched),
                             server_time=_when(server))

    def catalog_tag(self) -> tuple[int | None, str | None] | None:
        """(version, ETag) of the cached catalog, without reading its body."""
        with self._lock:
            row = self._db.execute(
                "SELECT version, etag FROM catalog_cache WHERE id = 1").fetchone()
        return (row[0], row[1]) if row else None

    # --- ticket leases -----------------------------------------------------------------

    def add_lease(self, office: str, queue: str, day: date, prefix: str, prefix_fa: str,
                  first: int, last: int, at: datetime) -> None:
        """Keep numbers `first`..`last` of `queue` on `day`, reserved for this kiosk."""
        with self._transaction() as db:
            db.execute(
                "INSERT INTO leases (office, queue, day, prefix, prefix_fa, first, last, next, "
                "leased_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?) "
                "ON CONFLICT (queue, day, first) DO NOTHING",
                (office, queue, day.isoformat(), prefix, prefix_fa, first, last, first,
                 _iso(at)))

    def numbers_left(self, queue: str, day: date) -> int:
        with self._lock:
            row = self._db.execute(
                "SELECT COALESCE(SUM(last - next + 1), 0) FROM leases "
                "WHERE queue = ? AND day = ? AND next <= last", (queue, day.isoformat())
            ).fetchone()
        return int(row[0])

    def drop_leases_before(self, day: date) -> int:
        """Forget the leases of days gone by; how many."""
        with self._transaction() as db:
            return db.execute("DELETE FROM leases WHERE day < ?", (day.isoformat(),)).rowcount

    # --- revocations and seal keys -----------------------------------------------------

    def add_revocations(self, revoked: Sequence[Revocation], cursor: str | None,
                        at: datetime) -> int:
        """Keep `revoked` and the cursor after them in one transaction; how many were new.
        A revocation already kept stays as it was (learning it twice changes nothing)."""
        with self._transaction() as db:
            before = db.total_changes
            db.executemany(
                "INSERT INTO revocations (document_id, number, revoked_at, reason, learned_at) "
                "VALUES (?, ?, ?, ?, ?) ON CONFLICT (document_id) DO NOTHING",
                [(r.document_id, r.number, _iso(r.revoked_at), r.reason, _iso(at))
                 for r in revoked])
            added = db.total_changes - before
            if cursor is not None:
                db.execute("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) "
                           "DO UPDATE SET value = excluded.value", (REVOCATIONS_CURSOR, cursor))
        return added

    def revocation(self, document_id: str) -> Revocation | None:
        with self._lock:
            row = self._db.execute("SELECT document_id, number, revoked_at, reason "
                                   "FROM revocations WHERE document_id = ?",
                                   (document_id,)).fetchone()
        return Revocation(row[0], row[1], datetime.fromisoformat(row[2]), row[3]) if row else None

    def revocation_count(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM revocations").fetchone()[0])

    def seal_keys(self) -> dict[str, str]:
        """The pinned seal keys' PEMs by key id (hex)."""
        with self._lock:
            return {str(k): str(p) for k, p in self._db.execute(
                "SELECT key_id, pem FROM seal_keys ORDER BY pinned_at, key_id")}

    def pin_seal_keys(self, keys: Mapping[str, str], at: datetime) -> bool:
        """Pin `keys` (PEM by key id) if none is pinned yet; whether they were pinned."""
        with self._transaction() as db:
            if db.execute("SELECT 1 FROM seal_keys LIMIT 1").fetchone():
                return False
            db.executemany("INSERT INTO seal_keys (key_id, pem, pinned_at) VALUES (?, ?, ?)",
                           [(kid, pem, _iso(at)) for kid, pem in keys.items()])
            return bool(keys)

    # --- shared state ------------------------------------------------------------------

    def state(self, key: str) -> str | None:
        with self._lock:
            row = self._db.execute("SELECT value FROM state WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else None

    def states(self) -> dict[str, str]:
        with self._lock:
            return {str(k): str(v) for k, v in self._db.execute("SELECT key, value FROM state")}

    def set_state(self, values: Mapping[str, str | None]) -> None:
        """Set (or, with None, remove) several facts at once."""
        with self._transaction() as db:
            for key, value in values.items():
                if value is None:
                    db.execute("DELETE FROM state WHERE key = ?", (key,))
                else:
                    db.execute("INSERT INTO state (key, value) VALUES (?, ?) ON CONFLICT (key) "
                               "DO UPDATE SET value = excluded.value", (key, value))

    def close(self) -> None:
        with self._lock:
            self._db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class CodeTaken(Exception):
    """No fresh tracking code after several draws (never in practice: 1 in 10**13 each)."""


class StoreUnit:
    """Writes inside one open transaction of `KioskStore.unit_of_work()`."""

    def __init__(self, store: KioskStore, db: sqlite3.Connection, written: list[Path]) -> None:
        self._store, self._db, self._written = store, db, written

    def write_file(self, client_id: str, data: bytes, suffix: str) -> Path:
        """Write a record's file durably inside this transaction (so under its write lock);
        removed again if the unit fails."""
        path = private_folder(self._store.files_dir) / f"{client_id}{suffix}"
        self._written.append(path)
        write_file_durably(path, data)
        return path

    def claim_code(self, draw: Callable[[], str], service: str, at: datetime) -> str:
        """A tracking code this kiosk has never handed out: drawn again on a repeat."""
        for _ in range(MAX_CODE_DRAWS):
            code = draw()
            try:
                self._db.execute("INSERT INTO issued_codes (code, service, issued_at) "
                                 "VALUES (?, ?, ?)", (code, service, _iso(at)))
            except sqlite3.IntegrityError:
                continue
            return code
        raise CodeTaken(f"{MAX_CODE_DRAWS} tracking codes in a row were already taken")

    def take_number(self, queue: str, day: date) -> LeasedNumber | None:
        """The next unused number of this kiosk's leases for `queue` on `day`, or None."""
        row = self._db.execute(
            "UPDATE leases SET next = next + 1 WHERE id = (SELECT id FROM leases "
            "WHERE queue = ? AND day = ? AND next <= last ORDER BY first LIMIT 1) "
            "RETURNING office, queue, day, next - 1, prefix, prefix_fa",
            (queue, day.isoformat())).fetchone()
        if row is None:
            return None
        office, queue, day_text, number, prefix, prefix_fa = row
        return LeasedNumber(office=office, queue=queue, day=date.fromisoformat(day_text),
                            number=int(number), prefix=prefix, prefix_fa=prefix_fa)

    def add_record(self, record: NewRecord) -> int:
        """Add an outbox record; its id, which is its place in the push order."""
        if record.kind not in OUTBOX_KINDS:
            raise ValueError(f"kind must be one of {OUTBOX_KINDS}, not {record.kind!r}")
        path = None
        if record.file is not None:
            path = str(record.file.relative_to(self._store.path.parent))
        cursor = self._db.execute(
            "INSERT INTO outbox (kind, client_id, ref, service, depends_on, body_json, "
            "file_path, media_type, catalog_version, kiosk_time) VALUES (?, ?, ?, ?, ?, ?, ?, "
            "?, ?, ?)",
            (record.kind, record.client_id, record.ref, record.service, record.depends_on,
             _json(record.body), path, record.media_type, record.catalog_version,
             _iso(record.kiosk_time)))
        assert cursor.lastrowid is not None
        return cursor.lastrowid

    def acknowledge(self, ack: Ack, purge: bool = True) -> list[Path]:
        """Record an answer inside this transaction; the files to delete after the commit."""
        return _acknowledge(self._db, ack, purge, self._store.path.parent)

    def save_receipt(self, kind: ReceiptKind, key: str, values: dict[str, Any],
                     created_at: datetime | None = None) -> None:
        _save_receipt(self._db, kind, key, values, created_at)


_RECORD_FIELDS = ("id", "kind", "client_id", "ref", "service", "depends_on", "body_json",
                  "file_path", "media_type", "catalog_version", "kiosk_time", "state",
                  "attempts", "claimed_until", "last_attempt_at", "last_error", "http_status",
                  "response_json", "server_time", "acked_at", "purged_at")
_RECORD_COLUMNS = ", ".join(_RECORD_FIELDS)


def _json(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _save_receipt(db: sqlite3.Connection, kind: ReceiptKind, key: str, values: dict[str, Any],
                  created_at: datetime | None) -> None:
    if kind not in RECEIPT_KINDS:
        raise ValueError(f"kind must be one of {RECEIPT_KINDS}, not {kind!r}")
    db.execute(
        "INSERT INTO receipts (kind, key, input_json, created_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT (kind, key) DO UPDATE SET input_json = excluded.input_json",
        (kind, key, _json(values), _iso(created_at or utcnow())))


def _acknowledge(db: sqlite3.Connection, ack: Ack, purge: bool, root: Path) -> list[Path]:
    """Mark one record sent with the server's answer; purge it when asked. Files to delete."""
    row = db.execute("SELECT kind, ref FROM outbox WHERE id = ?", (ack.record_id,)).fetchone()
    if row is None:
        return []
    kind, ref = row
    db.execute("UPDATE outbox SET state = 'sent', attempts = attempts + 1, http_status = ?, "
               "response_json = ?, server_time = ?, acked_at = ?, last_attempt_at = ?, "
               "last_error = NULL, claimed_until = NULL WHERE id = ?",
               (ack.http_status, _json(ack.response),
                _iso(ack.server_time) if ack.server_time else None, _iso(ack.acked_at),
                _iso(ack.acked_at), ack.record_id))
    if kind == "ticket" and ref and isinstance(ack.response.get("id"), str):
        db.execute("UPDATE receipts SET input_json = json_set(input_json, '$.ticket_id', ?) "
                   "WHERE kind = 'ticket' AND key = ?", (ack.response["id"], ref))
    if not purge:
        return []
    return _purge(db, ack.record_id, ack.acked_at, root)


def _purge(db: sqlite3.Connection, record_id: int, at: datetime, root: Path) -> list[Path]:
    """Keep only what is not personal of a record's body; its file is recorded as discarded
    (deleted after the commit). The file let go."""
    kind, body, file_path = db.execute("SELECT kind, body_json, file_path FROM outbox "
                                       "WHERE id = ?", (record_id,)).fetchone()
    kept = {k: v for k, v in json.loads(body).items() if k in KEPT_AFTER_ACK[kind]} \
        if body else None
    db.execute("UPDATE outbox SET body_json = ?, file_path = NULL, purged_at = ? WHERE id = ?",
               (_json(kept) if kept is not None else None, _iso(at), record_id))
    if not file_path:
        return []
    db.execute("INSERT INTO discarded_files (path, discarded_at) VALUES (?, ?) "
               "ON CONFLICT (path) DO NOTHING", (file_path, _iso(at)))
    return [root / file_path]


def _statements(script: str) -> list[str]:
    return [part.strip() for part in script.split(";") if part.strip()]


def _receipt(row: tuple[Any, ...]) -> StoredReceipt:
    kind, key, payload, created, printed, count = row
    return StoredReceipt(kind=kind, key=key, values=json.loads(payload),
                         created_at=datetime.fromisoformat(created),
                         printed_at=datetime.fromisoformat(printed) if printed else None,
                         print_count=count)
