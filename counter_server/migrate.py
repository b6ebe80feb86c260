"""Schema migrations (Alembic), run from `flask init-db` and from the tests."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Connection

from counter_server.db import Base, Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@contextmanager
def _migrating(database: Database) -> Iterator[Connection]:
    """A connection in one transaction for a migration run.

    On SQLite, batch mode rebuilds a table (copy, drop, rename), which a foreign key that
    points at it would refuse while rows reference it: the keys are off for the run (a
    pragma SQLite honours only outside a transaction) and checked as a whole before the
    commit, then turned on again."""
    with database.engine.connect() as connection:
        sqlite = database.dialect == "sqlite"
        if sqlite:
            connection.connection.driver_connection.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                yield connection
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise RuntimeError(f"the migration broke foreign keys: {broken[:5]}")
        finally:
            if sqlite:
                connection.connection.driver_connection.execute("PRAGMA foreign_keys = ON")


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (the newest by default)."""
    with _migrating(database) as connection:
        command.upgrade(_config(connection), revision)


def downgrade(database: Database, revision: str) -> None:
    """Take the database schema back to `revision` (developers and tests)."""
    with _migrating(database) as connection:
        command.downgrade(_config(connection), revision)


def revision(database: Database, message: str) -> None:
    """Write a new migration from the difference between models and database (developers)."""
    with database.engine.begin() as connection:
        command.revision(_config(connection), message=message, autogenerate=True)


def pending_differences(database: Database) -> list[object]:
    """What autogenerate would still write: empty when models and migrations agree."""
    import counter_server.models  # noqa: F401

    with database.engine.connect() as connection:
        context = MigrationContext.configure(
            connection, opts={"compare_type": True, "render_as_batch": True}
        )
        return list(compare_metadata(context, Base.metadata))
