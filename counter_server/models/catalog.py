"""The published catalog: its versions, categories and services.

A catalog import that changes anything publishes a new `CatalogVersion` holding the whole
snapshot that the API serves; a request reads the terms it was filed under from its version
(`CatalogVersion.service_terms`). Categories and services are also kept as rows, so that
requests, queues and staff assignments can refer to them; a service is withdrawn, never deleted.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from counter_server.db import Base, UTCDateTime, utcnow

ACTIVE = "active"
WITHDRAWN = "withdrawn"


class CatalogVersion(Base):
    """One published state of the whole catalog."""

    __tablename__ = "catalog_versions"

    number: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    digest: Mapped[str] = mapped_column(String(64), comment="SHA-256 of the canonical catalog")
    published_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    source: Mapped[str] = mapped_column(String(500), default="")
    changes: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    snapshot: Mapped[bytes] = mapped_column(
        LargeBinary, deferred=True,
        comment="The exact JSON body of GET /api/v1/catalog for this version"
    )

    def service_terms(self, slug: str) -> dict[str, Any]:
        """`slug`'s entry exactly as this version published it; KeyError if it had none."""
        services = _SERVICES_BY_DIGEST.get(self.digest)
        if services is None:
            services = {s["slug"]: s for s in json.loads(self.snapshot)["services"]}
            _SERVICES_BY_DIGEST[self.digest] = services
        return services[slug]


# The services of each published content, by its digest: a version's content never changes and
# equal digests mean equal services, so every database and session can share one parse.
_SERVICES_BY_DIGEST: dict[str, dict[str, dict[str, Any]]] = {}


def services_of(digest: str) -> dict[str, dict[str, Any]] | None:
    """The services of the content with this digest, by slug, if this process has parsed it
    (`CatalogVersion.service_terms` does, on first use)."""
    return _SERVICES_BY_DIGEST.get(digest)


class Category(Base):
    __tablename__ = "categories"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    position: Mapped[int] = mapped_column(Integer, default=0)
    icon: Mapped[str] = mapped_column(String(80))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Service(Base):
    """A service of the catalog; `definition` is its full catalog entry as JSON."""

    __tablename__ = "services"

    slug: Mapped[str] = mapped_column(String(80), primary_key=True)
    category_slug: Mapped[str] = mapped_column(ForeignKey("categories.slug"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=ACTIVE, index=True)
    digest: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    introduced_in: Mapped[int] = mapped_column(ForeignKey("catalog_versions.number"))
    updated_in: Mapped[int] = mapped_column(ForeignKey("catalog_versions.number"))
    withdrawn_in: Mapped[int | None] = mapped_column(ForeignKey("catalog_versions.number"))
    reviewed_at: Mapped[datetime | None] = mapped_column(
        UTCDateTime, comment="Last published with a change, or confirmed unchanged by an editor")


class CatalogDraft(Base):
    """A part of the catalog being edited in the browser, not yet published.

    `part` names what it replaces when published: `service:<slug>` (one service, new or
    existing), `offices`, `lobby` (queues and priority classes) or `calendar` (working
    hours and holidays). `content` is that part as the catalog's JSON, valid or not: the
    editor keeps a draft with errors and refuses only to publish it.
    """

    __tablename__ = "catalog_drafts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part: Mapped[str] = mapped_column(String(100), unique=True)
    base_version: Mapped[int | None] = mapped_column(
        ForeignKey("catalog_versions.number"), comment="The version the draft started from")
    content: Mapped[Any] = mapped_column(JSON)
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
