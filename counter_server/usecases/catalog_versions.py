"""Use cases of the catalog: import, publish versions, read the current snapshot, search.

Views, the API and the command line all call these functions; they take a session and plain
values, and raise `shared.catalog.loader.CatalogError` or the errors below, never HTTP ones.
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from weakref import WeakKeyDictionary

from sqlalchemy import Pool, func, select
from sqlalchemy.orm import Session, undefer

from counter_server.db import utcnow
from counter_server.models import CatalogVersion, Category, Office, Service
from counter_server.models.catalog import ACTIVE, WITHDRAWN
from shared.catalog.schema import Catalog
from shared.catalog.schema import ServiceSpec
from shared.catalog.search import Hit, SearchIndex
from shared.workcalendar import WorkCalendar


class NoCatalog(Exception):
    """No catalog has been imported yet."""


class ServiceNotFound(Exception):
    """No service has this slug."""


class ServiceWithdrawn(Exception):
    """The service existed but is no longer offered."""

    def __init__(self, service: Service):
        super().__init__(service.slug)
        self.service = service


def _canonical(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _digest(data: Any) -> str:
    return hashlib.sha256(_canonical(data)).hexdigest()


@dataclass(frozen=True)
class Snapshot:
    """One catalog version, ready to serve: parsed, indexed, and its API body encoded once."""

    version: int
    published_at: datetime
    catalog: Catalog
    body: bytes
    etag: str
    index: SearchIndex = field(repr=False)
    calendar: WorkCalendar = field(repr=False)

    @classmethod
    def from_row(cls, row: CatalogVersion) -> Snapshot:
        data = json.loads(row.snapshot)
        catalog = Catalog.model_validate(
            {k: v for k, v in data.items() if k not in ("version", "published_at")})
        return cls.of(catalog, row.number, row.published_at, row.snapshot,
                      f'"catalog-{row.number}-{row.digest[:16]}"')

    @classmethod
    def of(cls, catalog: Catalog, version: int, published_at: datetime, body: bytes = b"",
           etag: str = "") -> Snapshot:
        """`catalog` ready to serve (unpublished, e.g. a draft's preview: no body)."""
        return cls(version=version, published_at=published_at, catalog=catalog, body=body,
                   etag=etag, index=SearchIndex(catalog),
                   calendar=WorkCalendar.from_spec(catalog.calendar))

    def public_url(self) -> str:
        """The online desk's public address (the agency's), without a trailing slash."""
        return str(self.catalog.agency.public_base_url).rstrip("/")

    def categories(self) -> list[Any]:
        return sorted(self.catalog.categories, key=lambda c: (c.order, c.title))

    def services_in(self, category: str) -> list[ServiceSpec]:
        return [s for s in self.catalog.services if s.category == category]

    def service(self, slug: str) -> ServiceSpec | None:
        return self.catalog.service(slug)

    def category_title(self, slug: str) -> str:
        return next((c.title for c in self.catalog.categories if c.slug == slug), slug)

    def search(self, query: str, category: str | None = None) -> list[Hit]:
        return self.index.search(query, category=category)


class _SnapshotCache:
    """Snapshots by version; a published version never changes, so one build serves all."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: dict[tuple[int, str, datetime], Snapshot] = {}

    def get(self, session: Session, key: tuple[int, str, datetime]) -> Snapshot:
        snapshot = self._items.get(key)
        if snapshot is None:
            row = version_row(session, key[0])
            if row is None:
                raise NoCatalog(key[0])
            snapshot = Snapshot.from_row(row)
            with self._lock:
                self._items = {key: snapshot}  # only the newest version is asked for
        return snapshot

    def built(self, key: tuple[int, str, datetime]) -> Snapshot | None:
        """The snapshot of `key` if this process has built it."""
        return self._items.get(key)


_cache = _SnapshotCache()


FRESH_SECONDS = 1.0


def _database_of(session: Session) -> Pool:
    """One key per database: the engine's pool, shared with its execution-option copies."""
    return session.get_bind().pool


class _LatestVersion:
    """The latest catalog version of each database as this process saw it, checked again at
    most once a FRESH_SECONDS."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._latest: WeakKeyDictionary[Pool, tuple[float, tuple[Any, ...]]] = (
            WeakKeyDictionary())

    def latest(self, session: Session) -> tuple[Any, ...] | None:
        engine = _database_of(session)
        seen = self._latest.get(engine)
        if seen is not None and time.monotonic() - seen[0] < FRESH_SECONDS:
            return seen[1]
        row = session.execute(
            select(CatalogVersion.number, CatalogVersion.digest, CatalogVersion.published_at)
            .order_by(CatalogVersion.number.desc()).limit(1)).first()
        if row is None:
            return None
        with self._lock:
            self._latest[engine] = (time.monotonic(), tuple(row))
        return tuple(row)

    def seen(self, pool: Pool) -> tuple[Any, ...] | None:
        """The latest version as last read on `pool`'s database, if read within FRESH_SECONDS."""
        seen = self._latest.get(pool)
        if seen is not None and time.monotonic() - seen[0] < FRESH_SECONDS:
            return seen[1]
        return None

    def forget(self, session: Session) -> None:
        """After an import: look again (this process at once, others within FRESH_SECONDS)."""
        with self._lock:
            self._latest.pop(_database_of(session), None)


_latest_version = _LatestVersion()


def version_row(session: Session, number: int) -> CatalogVersion | None:
    """Catalog version `number` with its snapshot (which is otherwise loaded only when read)."""
    return session.get(CatalogVersion, number, options=[undefer(CatalogVersion.snapshot)])


def current_version(session: Session) -> int | None:
    return session.scalar(select(func.max(CatalogVersion.number)))


def current_snapshot(session: Session) -> Snapshot:
    """The catalog as last published; raises NoCatalog before any import."""
    latest = _latest_version.latest(session)
    if latest is None:
        raise NoCatalog()
    return _cache.get(session, latest)


def known_snapshot(pool: Pool) -> Snapshot | None:
    """`current_snapshot` without a database round trip: the snapshot this process read from
    `pool`'s database within FRESH_SECONDS, or None (then ask `current_snapshot`)."""
    latest = _latest_version.seen(pool)
    return None if latest is None else _cache.built(latest)


def get_service(session: Session, slug: str) -> tuple[Snapshot, ServiceSpec]:
    """The current entry of a service; ServiceWithdrawn or ServiceNotFound otherwise."""
    snapshot = current_snapshot(session)
    spec = snapshot.service(slug)
    if spec is not None:
        return snapshot, spec
    row = session.get(Service, slug)
    if row is not None and row.status == WITHDRAWN:
        raise ServiceWithdrawn(row)
    raise ServiceNotFound(slug)


@dataclass(frozen=True)
class ImportResult:
    version: int
    published: bool
    added: list[str] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    withdrawn: list[str] = field(default_factory=list)


def import_catalog(session: Session, catalog: Catalog, source: str = "") -> ImportResult:
    """Publish `catalog` as a new version, unless it equals the current one.

    Services missing from `catalog` are withdrawn, never deleted. The caller commits.
    """
    content = catalog.model_dump(mode="json")
    digest = _digest(content)
    latest = session.scalar(select(CatalogVersion).order_by(CatalogVersion.number.desc()).limit(1))
    if latest is not None and latest.digest == digest:
        return ImportResult(version=latest.number, published=False)
    _latest_version.forget(session)
    number = (latest.number if latest else 0) + 1
    version = CatalogVersion(number=number, digest=digest, source=source[:500],
                             published_at=utcnow())
    version.snapshot = _canonical({"version": number,
                                   "published_at": version.published_at.isoformat(), **content})
    session.add(version)
    session.flush()
    _store_categories(session, catalog)
    _store_offices(session, catalog)
    added, changed, withdrawn = _store_services(session, catalog, number)
    version.changes = {"added": added, "changed": changed, "withdrawn": withdrawn}
    session.flush()
    return ImportResult(number, True, added, changed, withdrawn)


def _store_categories(session: Session, catalog: Catalog) -> None:
    rows = {c.slug: c for c in session.scalars(select(Category))}
    for row in rows.values():
        row.active = False
    for spec in catalog.categories:
        row = rows.get(spec.slug) or Category(slug=spec.slug)
        row.title, row.position, row.icon, row.active = spec.title, spec.order, spec.icon, True
        session.add(row)
    session.flush()


def _store_offices(session: Session, catalog: Catalog) -> None:
    rows = {o.slug: o for o in session.scalars(select(Office))}
    for row in rows.values():
        row.active = False
    for spec in catalog.offices:
        row = rows.get(spec.slug) or Office(slug=spec.slug)
        row.name, row.active = spec.name, True
        session.add(row)
    session.flush()


def _store_services(
    session: Session, catalog: Catalog, number: int
) -> tuple[list[str], list[str], list[str]]:
    rows = {s.slug: s for s in session.scalars(select(Service))}
    added, changed = [], []
    for spec in catalog.services:
        definition = spec.model_dump(mode="json")
        digest = _digest(definition)
        row = rows.pop(spec.slug, None)
        if row is None:
            row = Service(slug=spec.slug, introduced_in=number)
            session.add(row)
            added.append(spec.slug)
        elif row.digest != digest or row.status != ACTIVE:
            changed.append(spec.slug)
        else:
            continue
        row.category_slug, row.title, row.definition = spec.category, spec.title, definition
        row.digest, row.status, row.updated_in, row.withdrawn_in = digest, ACTIVE, number, None
        row.reviewed_at = utcnow()
    withdrawn = []
    for row in rows.values():
        if row.status == ACTIVE:
            row.status, row.withdrawn_in = WITHDRAWN, number
            withdrawn.append(row.slug)
    return added, changed, sorted(withdrawn)


def export_catalog(session: Session) -> Catalog:
    """The current catalog, as it was imported."""
    return current_snapshot(session).catalog
