"""Stored files nothing names: a document is stored before the transaction that names it
commits. A transaction rolled back after the store (a refused step, a unique key another
writer won) deletes the file at once (`delete_on_rollback`); a server killed in between
leaves a file no row names, and one killed while writing a `.partial`. `sweep` deletes those
once they are older than a grace period — long enough that no transaction still running can
be about to name them — and runs when the worker starts and every hour after
(`background.py`), or by `flask --app counter_server uploads sweep`.

`migrate` copies the documents of a local uploads folder to the object store under the
names the rows already hold (`flask --app counter_server uploads migrate-to-s3`); it skips
what is already there whole, so it can be stopped and run again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import event, select
from sqlalchemy.orm import Session

from counter_server.models import Deliverable, RequestDocument
from counter_server.storage import S3Storage, Storage

CHUNK = 500
PENDING = "miz.stored_files.pending"  # in `Session.info`: files stored in its transaction


@dataclass(frozen=True)
class Swept:
    """What a sweep deleted."""

    partial: int
    orphans: int


@dataclass(frozen=True)
class Migrated:
    """What a migration did: files copied, files already there whole, local copies removed."""

    copied: int
    present: int
    removed: int


def delete_on_rollback(session: Session, storage: Storage, name: str) -> None:
    """Delete the stored file `name` if `session`'s transaction rolls back instead of
    committing the row that names it; once committed, it stays."""
    if PENDING not in session.info:
        session.info[PENDING] = []
        event.listen(session, "after_rollback", _rolled_back)
        event.listen(session, "after_commit", _committed)
    session.info[PENDING].append((storage, name))


def _rolled_back(session: Session) -> None:
    stored, session.info[PENDING] = session.info[PENDING], []
    for storage, name in stored:
        storage.delete(name)


def _committed(session: Session) -> None:
    session.info[PENDING] = []


def named(session: Session, names: list[str]) -> set[str]:
    """Those of `names` a document or a deliverable is stored under."""
    found: set[str] = set()
    for column in (RequestDocument.stored_name, Deliverable.stored_name):
        found |= set(session.scalars(select(column).where(column.in_(names))))
    return found


def sweep(session: Session, storage: Storage, before: datetime) -> Swept:
    """Delete the half-written files and those no row names, of the files last changed
    before `before`."""
    old = [f for f in storage.files() if f.modified < before]
    partial = [f.name for f in old if f.partial]
    whole = [f.name for f in old if not f.partial]
    orphans: list[str] = []
    for start in range(0, len(whole), CHUNK):
        chunk = whole[start:start + CHUNK]
        kept = named(session, chunk)
        orphans += [name for name in chunk if name not in kept]
    for name in partial + orphans:
        storage.delete(name)
    return Swept(partial=len(partial), orphans=len(orphans))


def migrate(source: Storage, target: S3Storage, remove: bool = False) -> Migrated:
    """Copy every whole file of `source` to `target` under its own name, unless one of the
    same size is there already; with `remove`, delete each local copy once it is in the
    target. Half-written files stay for the sweep."""
    copied = present = removed = 0
    for stored in source.files():
        if stored.partial:
            continue
        data = source.read(stored.name)
        if target.size(stored.name) == len(data):
            present += 1
        else:
            target.save_as(stored.name, data)
            copied += 1
        if remove:
            source.delete(stored.name)
            removed += 1
    return Migrated(copied=copied, present=present, removed=removed)
