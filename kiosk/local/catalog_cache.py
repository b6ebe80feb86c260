"""The catalog on the kiosk: the last good one the server sent, kept in the local store.

The sync pulls `GET /api/v1/catalog` with the stored ETag (`If-None-Match`) and hands a new
body to `CatalogCache.accept`, which keeps it only if it parses into a whole `Catalog`: a
damaged or half-read answer never replaces the last good catalog. Keys this kiosk does not
know (a newer server's) are ignored (`shared.catalog.published`), so a kiosk not yet
upgraded still takes the server's newer catalog. The kiosk starts from the
stored copy with no network; a kiosk that has never reached the server serves the catalog
bundled with its software (`assets/catalog`), with no version.
"""

from __future__ import annotations

import json
import threading
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from pydantic import ValidationError

from kiosk.local.store import CachedCatalog, KioskStore
from shared.catalog.loader import CatalogError, load_catalog
from shared.catalog.published import parse_published_catalog
from shared.catalog.schema import Catalog
from shared.workcalendar import WorkCalendar

BUNDLED_CATALOG = Path(__file__).resolve().parents[2] / "assets" / "catalog"


class CatalogUnusable(Exception):
    """A catalog body that cannot be used (not JSON, or not a valid catalog)."""


@dataclass(frozen=True)
class LoadedCatalog:
    """A parsed catalog with its version (None for the bundled one) and work calendar."""

    catalog: Catalog
    version: int | None
    etag: str | None
    calendar: WorkCalendar


def parse_catalog_body(body: bytes) -> tuple[Catalog, int | None]:
    """The catalog and version in a `GET /api/v1/catalog` body; CatalogUnusable if bad."""
    try:
        data = json.loads(body)
        if not isinstance(data, dict):
            raise CatalogUnusable("the catalog body is not a JSON object")
        version = data.get("version")
        catalog = parse_published_catalog(data)
    except (ValueError, ValidationError) as exc:  # JSONDecodeError is a ValueError
        raise CatalogUnusable(f"the catalog body cannot be used: {exc}") from exc
    if version is not None and (isinstance(version, bool) or not isinstance(version, int)):
        raise CatalogUnusable(f"the catalog version is not a number: {version!r}")
    return catalog, version


def _loaded(catalog: Catalog, version: int | None, etag: str | None) -> LoadedCatalog:
    return LoadedCatalog(catalog=catalog, version=version, etag=etag,
                         calendar=WorkCalendar.from_spec(catalog.calendar))


class CatalogCache:
    """The catalog to serve: the stored one, parsed once per version; safe across threads."""

    def __init__(self, store: KioskStore, fallback: Path = BUNDLED_CATALOG) -> None:
        self.store, self.fallback = store, fallback
        self._lock = threading.Lock()
        self._current: LoadedCatalog | None = None
        self._tag: tuple[int | None, str | None] | None = None

    def current(self) -> LoadedCatalog:
        """The last good catalog from the store, else the bundled one."""
        tag = self.store.catalog_tag()
        with self._lock:
            if self._current is not None and tag == self._tag:
                return self._current
            loaded = self._load(tag)
            self._current, self._tag = loaded, tag
            return loaded

    def _load(self, tag: tuple[int | None, str | None] | None) -> LoadedCatalog:
        cached = self.store.cached_catalog() if tag is not None else None
        if cached is not None:
            try:
                catalog, version = parse_catalog_body(cached.body)
                return _loaded(catalog, version, cached.etag)
            except CatalogUnusable:
                pass  # never stored unless it parsed; a newer schema may refuse it: bundled
        try:
            return _loaded(load_catalog(self.fallback), None, None)
        except CatalogError as exc:
            raise CatalogUnusable(f"no stored catalog and the bundled one at {self.fallback} "
                                  f"cannot be loaded: {exc}") from exc

    def accept(self, body: bytes, etag: str | None, fetched_at: datetime,
               server_time: datetime | None = None) -> LoadedCatalog:
        """Keep a catalog the server sent, if it parses; CatalogUnusable (and the last good
        one stays) if it does not."""
        catalog, version = parse_catalog_body(body)
        self.store.save_catalog(CachedCatalog(body=body, etag=etag, version=version,
                                              fetched_at=fetched_at, server_time=server_time))
        loaded = _loaded(catalog, version, etag)
        with self._lock:
            self._current, self._tag = loaded, (version, etag)
        return loaded
