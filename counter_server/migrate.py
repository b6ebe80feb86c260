"""Schema migrations (Alembic), run from `flask init-db` and from the tests."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext

from counter_server.db import Base, Database

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def _config(connection: object) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    """Bring the database schema up to `revision` (the newest by default)."""
    with database.engine.begin() as connection:
        command.upgrade(_config(connection), revision)


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
