"""steps named by a stable id instead of their position

Every catalog step now has an `id` (a slug unique within its service). Catalog versions
published before carry none: their steps are named `step-1`, `step-2` … in order, in the
stored snapshots and service definitions alike, so that every version still reads under
the current schema. A request's current step and each event's step become those ids.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = '0005'
down_revision: str | None = '0004'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STEP_ID = sa.String(length=80)


def _canonical(data: Any) -> bytes:
    return json.dumps(data, ensure_ascii=False, sort_keys=True, separators=(",", ":")).encode()


def _digest(data: Any) -> str:
    return hashlib.sha256(_canonical(data)).hexdigest()


def _store_version(connection: sa.Connection, number: int, data: dict[str, Any]) -> None:
    """The version's snapshot rewritten, and its digest (of the content: the snapshot less
    its number and time) with it: equal digests must mean equal content."""
    content = {k: v for k, v in data.items() if k not in ("version", "published_at")}
    connection.execute(sa.text("UPDATE catalog_versions SET snapshot = :body, digest = :digest "
                               "WHERE number = :number"),
                       {"body": _canonical(data), "digest": _digest(content), "number": number})


def _store_definition(connection: sa.Connection, slug: str, definition: dict[str, Any]) -> None:
    connection.execute(sa.text("UPDATE services SET definition = :definition, digest = :digest "
                               "WHERE slug = :slug"),
                       {"definition": json.dumps(definition, ensure_ascii=False),
                        "digest": _digest(definition), "slug": slug})


def _named(service: dict[str, Any]) -> dict[str, Any]:
    """The service with an id on each step that has none (by position)."""
    for index, step in enumerate(service.get("steps", [])):
        step.setdefault("id", f"step-{index + 1}")
    return service


def _name_stored_steps(connection: sa.Connection) -> dict[int, dict[str, list[str]]]:
    """Add ids to every stored version; each version's step ids by service slug."""
    ids: dict[int, dict[str, list[str]]] = {}
    versions = connection.execute(sa.text("SELECT number, snapshot FROM catalog_versions"))
    for number, snapshot in versions.all():
        data = json.loads(bytes(snapshot))
        data["services"] = [_named(s) for s in data.get("services", [])]
        ids[number] = {s["slug"]: [step["id"] for step in s["steps"]] for s in data["services"]}
        _store_version(connection, number, data)
    services = connection.execute(sa.text("SELECT slug, definition FROM services"))
    for slug, definition in services.all():
        _store_definition(connection, slug, _named(
            definition if isinstance(definition, dict) else json.loads(definition)))
    return ids


def _step_id(ids: dict[int, dict[str, list[str]]], version: int, slug: str, index: Any) -> str:
    steps = ids.get(version, {}).get(slug) or []
    position = int(index)
    return steps[position] if 0 <= position < len(steps) else f"step-{position + 1}"


def _rename_positions(connection: sa.Connection, ids: dict[int, dict[str, list[str]]]) -> None:
    requests = connection.execute(sa.text(
        "SELECT id, catalog_version, service_slug, current_step FROM requests")).all()
    for request_id, version, slug, position in requests:
        connection.execute(sa.text("UPDATE requests SET current_step = :step WHERE id = :id"),
                           {"step": _step_id(ids, version, slug, position), "id": request_id})
    events = connection.execute(sa.text(
        "SELECT e.id, r.catalog_version, r.service_slug, e.step FROM request_events e "
        "JOIN requests r ON r.id = e.request_id")).all()
    for event_id, version, slug, position in events:
        connection.execute(sa.text("UPDATE request_events SET step = :step WHERE id = :id"),
                           {"step": _step_id(ids, version, slug, position), "id": event_id})


def upgrade() -> None:
    connection = op.get_bind()
    ids = _name_stored_steps(connection)
    with op.batch_alter_table('requests', schema=None) as batch_op:
        batch_op.alter_column('current_step', existing_type=sa.Integer(), type_=STEP_ID,
                              existing_nullable=False,
                              comment="The id of the step the request is at, in its version's terms",
                              postgresql_using='current_step::varchar')
    with op.batch_alter_table('request_events', schema=None) as batch_op:
        batch_op.alter_column('step', existing_type=sa.Integer(), type_=STEP_ID,
                              existing_nullable=False, comment="The id of the request's step then",
                              postgresql_using='step::varchar')
    _rename_positions(connection, ids)


def _unnamed(service: dict[str, Any]) -> list[str]:
    """Take the ids off the service's steps; what refers to a step by id (an inquiry's
    `at_step`) is left naming it by position, as the upgrade will name it again."""
    ids = [step.pop("id", "") for step in service.get("steps", [])]

    def by_position(step_id: str) -> str:
        return f"step-{ids.index(step_id) + 1}" if step_id in ids else step_id

    for inquiry in service.get("inquiries", []):
        if inquiry.get("at_step"):
            inquiry["at_step"] = by_position(inquiry["at_step"])
    if service.get("sms"):
        service["sms"]["steps"] = [by_position(s) for s in service["sms"].get("steps", [])]
    return ids


def _unname_stored_steps(connection: sa.Connection) -> dict[int, dict[str, list[str]]]:
    """Take the ids off every stored version again; each version's step ids by slug."""
    ids: dict[int, dict[str, list[str]]] = {}
    versions = connection.execute(sa.text("SELECT number, snapshot FROM catalog_versions"))
    for number, snapshot in versions.all():
        data = json.loads(bytes(snapshot))
        ids[number] = {s["slug"]: _unnamed(s) for s in data.get("services", [])}
        _store_version(connection, number, data)
    services = connection.execute(sa.text("SELECT slug, definition FROM services"))
    for slug, definition in services.all():
        data = definition if isinstance(definition, dict) else json.loads(definition)
        _unnamed(data)
        _store_definition(connection, slug, data)
    return ids


def _position(ids: dict[int, dict[str, list[str]]], version: int, slug: str, step: str) -> int:
    steps = ids.get(version, {}).get(slug) or []
    return steps.index(step) if step in steps else 0


def downgrade() -> None:
    connection = op.get_bind()
    ids = _unname_stored_steps(connection)
    for table, column, query in (
            ("requests", "current_step",
             "SELECT id, catalog_version, service_slug, current_step FROM requests"),
            ("request_events", "step",
             "SELECT e.id, r.catalog_version, r.service_slug, e.step FROM request_events e "
             "JOIN requests r ON r.id = e.request_id")):
        for row_id, version, slug, step in connection.execute(sa.text(query)).all():
            connection.execute(sa.text(f"UPDATE {table} SET {column} = :position "
                                       "WHERE id = :id"),
                               {"position": str(_position(ids, version, slug, step)),
                                "id": row_id})
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(column, existing_type=STEP_ID, type_=sa.Integer(),
                                  existing_nullable=False, comment=None,
                                  postgresql_using=f'{column}::integer')
