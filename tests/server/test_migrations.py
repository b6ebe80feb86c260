"""Migrations and models agree: autogenerate finds nothing left to write."""

from __future__ import annotations

import html

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import inspect

from counter_server import create_app, migrate
from counter_server.context import database
from shared.catalog.schema import Catalog
from tests.conftest import login
from tests.server.test_desk import act, file_online


def test_migrations_match_the_models(empty_app: Flask) -> None:
    with empty_app.app_context():
        assert migrate.pending_differences(database()) == []


def test_migrations_create_every_table(empty_app: Flask) -> None:
    with empty_app.app_context():
        tables = set(inspect(database().engine).get_table_names())
    assert {"catalog_versions", "categories", "services", "alembic_version"} <= tables


def test_sqlite_connections_enforce_foreign_keys_and_use_wal(empty_app: Flask) -> None:
    with empty_app.app_context():
        db = database()
        if db.dialect != "sqlite":
            pytest.skip("SQLite pragmas")
        with db.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


def test_upgrading_a_database_that_has_kiosks(database_url: str) -> None:
    """Columns added to tables that already hold rows get values (no NOT NULL failure)."""
    from counter_server.db import Database

    db = Database(database_url)
    migrate.upgrade(db, "0003")
    with db.engine.begin() as connection:
        connection.exec_driver_sql(
            "INSERT INTO kiosks (id, name, token_hash, created_at) "
            "VALUES (1, 'lobby', 'x', CURRENT_TIMESTAMP)")
    migrate.upgrade(db)
    with db.engine.connect() as connection:
        heartbeat = connection.exec_driver_sql("SELECT heartbeat FROM kiosks").scalar()
    db.dispose()
    assert heartbeat in ("{}", {})
    assert migrate.pending_differences(Database(database_url)) == []


def _request_steps(db: object, code: str) -> tuple[object, list[object]]:
    from counter_server.db import Database

    assert isinstance(db, Database)
    with db.engine.connect() as connection:
        current = connection.exec_driver_sql(
            "SELECT current_step FROM requests WHERE tracking_code = ?"
            if db.dialect == "sqlite" else
            "SELECT current_step FROM requests WHERE tracking_code = %s", (code,)).scalar()
        events = [row[0] for row in connection.exec_driver_sql(
            "SELECT step FROM request_events ORDER BY id")]
    return current, events


def test_step_ids_replace_positions_and_back(app: Flask, client: FlaskClient, database_url: str,
                                             demo_catalog: Catalog, staff_users: dict) -> None:
    """Requests filed before steps had ids read on after the upgrade, named `step-N` by
    position; downgrading gives the positions back."""
    code = file_online(client, demo_catalog, "handicraft-quality-mark")  # no inquiries
    login(client, "boss")
    act(client, code, "claim")
    act(client, code, "advance")
    spec = demo_catalog.service("handicraft-quality-mark")
    assert spec is not None
    with app.app_context():
        db = database()
        assert _request_steps(db, code) == (spec.steps[2].id, [spec.steps[1].id] * 2
                                            + [spec.steps[2].id])
        migrate.downgrade(db, "0004")
        current, events = _request_steps(db, code)
        assert (int(str(current)), [int(str(e)) for e in events]) == (2, [1, 1, 2])
        migrate.upgrade(db)
        assert _request_steps(db, code) == ("step-3", ["step-2", "step-2", "step-3"])
        assert migrate.pending_differences(db) == []
    restarted = create_app({**app.config, "DATABASE_URL": database_url})  # fresh caches
    client = restarted.test_client()
    login(client, "boss")
    page = html.unescape(client.get(f"/desk/requests/{code}").get_data(as_text=True))
    assert f"<dd>{spec.steps[2].title}</dd>" in page  # the old terms still read, by step id
    track = client.get(f"/api/v1/track/{code}").get_json()
    assert track["current_step"] == "step-3"
    assert [s["state"] for s in track["steps"]][:4] == ["done", "done", "current", "pending"]
