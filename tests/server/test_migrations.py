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
