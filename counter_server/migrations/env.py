"""Alembic environment: runs on the connection handed in by counter_server.migrate."""

from __future__ import annotations

from alembic import context

import counter_server.models  # noqa: F401  (registers every table)
from counter_server.db import Base

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=Base.metadata,
    render_as_batch=True,  # SQLite cannot ALTER most things; batch mode copies the table
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
