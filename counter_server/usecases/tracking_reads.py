"""A request's public tracking read in one statement: the request's public columns, the digest
of the catalog version it was filed under, and its events, documents, inquiries and delivered
documents aggregated as JSON (PostgreSQL `json_agg`, SQLite `json_group_array`) — no ORM
objects, no second round trip. `public_tracking.public_view` reads the result as it reads a
`ServiceRequest`; nothing personal is selected.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Connection, Date, TextClause, text
from sqlalchemy.orm import Session

from counter_server.db import UTCDateTime
from counter_server.models.catalog import services_of
from counter_server.usecases.catalog_versions import version_row

CHILDREN = {  # each child list: its table and the columns tracking reads
    "events": ("request_events", ("id", "at", "action", "step", "from_status", "to_status",
                                  "public_note", "details")),
    "documents": ("request_documents", ("id", "slot", "replaced")),
    "inquiries": ("inquiries", ("id", "kind", "status", "blocking")),
    "deliverables": ("deliverables", ("id", "public_id", "title", "issued_at")),
}
JSON_COLUMNS = frozenset({"details"})
AGGREGATE = {  # dialect: (array of objects, one object)
    "postgresql": ("json_agg", "json_build_object"),
    "sqlite": ("json_group_array", "json_object"),
}


@dataclass(frozen=True)
class Event:
    id: int
    at: datetime
    action: str
    step: str
    from_status: str | None
    to_status: str
    public_note: str | None
    details: dict[str, Any] | None


@dataclass(frozen=True)
class Document:
    id: int
    slot: str
    replaced: bool


@dataclass(frozen=True)
class InquiryState:
    id: int
    kind: str
    status: str
    blocking: bool


@dataclass(frozen=True)
class Delivered:
    id: int
    public_id: str
    title: str
    issued_at: datetime


@dataclass(frozen=True)
class TrackedRequest:
    """What tracking shows of a request (the attribute names of `ServiceRequest`)."""

    id: int
    tracking_code: str
    service_slug: str
    status: str
    current_step: str
    channel: str
    created_at: datetime
    updated_at: datetime
    due_date: date
    service: dict[str, Any]  # its terms, as the catalog version it was filed under has them
    events: list[Event]
    documents: list[Document]
    inquiries: list[InquiryState]
    deliverables: list[Delivered]


def _children(dialect: str, name: str) -> str:
    table, columns = CHILDREN[name]
    array, obj = AGGREGATE[dialect]
    pairs = ", ".join(
        f"'{c}', json(c.{c})" if dialect == "sqlite" and c in JSON_COLUMNS else f"'{c}', c.{c}"
        for c in columns)
    return (f"(SELECT {array}({obj}({pairs})) FROM {table} c "
            f"WHERE c.request_id = r.id) AS {name}")


def _statement(dialect: str) -> TextClause:
    children = ",\n".join(_children(dialect, name) for name in CHILDREN)
    return text(
        "SELECT r.id, r.tracking_code, r.service_slug, r.status, r.current_step, r.channel, "
        "r.created_at, r.updated_at, r.due_date, r.catalog_version, v.digest,\n"
        f"{children}\nFROM requests r JOIN catalog_versions v ON v.number = r.catalog_version "
        "WHERE r.tracking_code = :code"
    ).columns(created_at=UTCDateTime, updated_at=UTCDateTime, due_date=Date)


STATEMENTS = {dialect: _statement(dialect) for dialect in AGGREGATE}


def find(connection: Connection, code: str) -> TrackedRequest | None:
    """The request with this (normalized) tracking code, as tracking shows it, or None."""
    row = connection.execute(STATEMENTS[connection.dialect.name], {"code": code}
                             ).mappings().first()
    if row is None:
        return None
    return TrackedRequest(
        id=row["id"], tracking_code=row["tracking_code"], service_slug=row["service_slug"],
        status=row["status"], current_step=row["current_step"], channel=row["channel"],
        created_at=row["created_at"], updated_at=row["updated_at"], due_date=row["due_date"],
        service=_terms(connection, row["catalog_version"], row["digest"], row["service_slug"]),
        events=[Event(**_timed(e, "at")) for e in _listed(row["events"])],
        documents=[Document(e["id"], e["slot"], bool(e["replaced"]))
                   for e in _listed(row["documents"])],
        inquiries=[InquiryState(e["id"], e["kind"], e["status"], bool(e["blocking"]))
                   for e in _listed(row["inquiries"])],
        deliverables=[Delivered(**_timed(e, "issued_at")) for e in _listed(row["deliverables"])],
    )


def _terms(connection: Connection, version: int, digest: str, slug: str) -> dict[str, Any]:
    services = services_of(digest)
    if services is not None:
        return services[slug]
    row = version_row(Session(connection), version)  # once per version and process
    assert row is not None  # the request's foreign key
    return row.service_terms(slug)


def _listed(value: str | list[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """An aggregated child list (SQLite sends its text), in id order."""
    items = json.loads(value) if isinstance(value, str) else (value or [])
    return sorted(items, key=lambda item: item["id"])


def _timed(item: dict[str, Any], key: str) -> dict[str, Any]:
    """`item` with its stored naive-UTC timestamp `key` as an aware datetime."""
    return {**item, key: datetime.fromisoformat(item[key]).replace(tzinfo=UTC)}
