"""Migrations and models agree: autogenerate finds nothing left to write."""

from __future__ import annotations

import pytest
from flask import Flask
from sqlalchemy import inspect

from counter_server import migrate
from counter_server.context import database


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
