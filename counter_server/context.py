"""The database of the running app, the session of the current request, and units of work."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from flask import current_app, g, has_request_context, request
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from counter_server.agencies.protocol import Bus
from counter_server.db import Database
from counter_server.usecases import kiosks
from counter_server.usecases.lobby_cache import EXTENSION, LobbyCache

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
T = TypeVar("T")
RETRIES = 3


def database() -> Database:
    db: Database = current_app.extensions["miz.db"]
    return db


def lobby_cache() -> LobbyCache:
    """This process's cache of the offices' lobbies (see `usecases/lobby_cache.py`)."""
    cache: LobbyCache | None = current_app.extensions.get(EXTENSION)
    if cache is None:
        cache = current_app.extensions.setdefault(EXTENSION, LobbyCache())
    return cache


def kiosk_tokens() -> kiosks.TokenCache:
    """This process's kiosk tokens (`KIOSK_TOKEN_CACHE_SECONDS`)."""
    cache: kiosks.TokenCache | None = current_app.extensions.get("miz.kiosk_tokens")
    if cache is None:
        cache = current_app.extensions.setdefault("miz.kiosk_tokens", kiosks.TokenCache(
            float(current_app.config["KIOSK_TOKEN_CACHE_SECONDS"])))
    return cache


def bus() -> Bus | None:
    """The government service bus the app asks other agencies through; None when none is
    configured (inquiries then wait in the job queue)."""
    configured: Bus | None = current_app.extensions.get("miz.bus")
    return configured


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


def unit_of_work(work: Callable[[Session], T]) -> T:
    """Run `work` and commit; when a concurrent writer won a unique key, roll back and run it
    again — the idempotent use cases then find the row the other writer committed."""
    return _attempts(session(), work)


def statement_unit_of_work(work: Callable[[Session], T]) -> T:
    """`unit_of_work` for a use case each of whose statements leaves the database whole
    (`walk_in_queue.issue`): on PostgreSQL, in a session of its own whose statements commit
    as they run (AUTOCOMMIT: no BEGIN, no COMMIT round trip, no lock held between two
    statements); on SQLite, the request's transaction (its one writer is the lock)."""
    if database().dialect != "postgresql":
        return unit_of_work(work)
    with database().session(writes=True) as own:
        own.connection(execution_options={"isolation_level": "AUTOCOMMIT"})
        return _attempts(own, work)


def _attempts(db_session: Session, work: Callable[[Session], T]) -> T:
    for attempt in range(1, RETRIES + 1):
        try:
            result = work(db_session)
            db_session.commit()
            return result
        except IntegrityError:
            db_session.rollback()
            if attempt == RETRIES:
                raise
        except Exception:
            db_session.rollback()
            raise
    raise RuntimeError("unit_of_work: no attempt was made")  # only if RETRIES < 1


def public_url() -> str:
    """The online desk's public address (the catalog's agency), without a trailing slash:
    what receipt and ticket QR codes and SMS links point below."""
    from counter_server.usecases.catalog_versions import current_snapshot

    return current_snapshot(session()).public_url()
