"""The database of the running app and the session of the current request."""

from __future__ import annotations

from flask import current_app, g, has_request_context, request
from sqlalchemy.orm import Session

from counter_server.db import Database

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def database() -> Database:
    db: Database = current_app.extensions["miz.db"]
    return db


def session() -> Session:
    """The session of this request (or CLI command), opened on first use, closed at teardown."""
    if "db_session" not in g:
        writes = not has_request_context() or request.method not in SAFE_METHODS
        g.db_session = database().session(writes=writes)
    return g.db_session


def close_session(_exc: BaseException | None = None) -> None:
    db_session = g.pop("db_session", None)
    if db_session is not None:
        db_session.close()
