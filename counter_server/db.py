"""Database engine and sessions for SQLite (embedded default) and PostgreSQL.

SQLite gets the settings a multi-process server needs: WAL, a busy timeout, foreign keys on
every connection, and SQLAlchemy — not the driver — beginning transactions, so that sessions
that write take the write lock up front with `BEGIN IMMEDIATE` instead of failing with
"database is locked" half-way through; within one process, writers wait their turn on a lock
rather than in SQLite's sleeping busy handler. docs/architecture.md ("SQLite and PostgreSQL")
puts this next to the other rules that keep both databases correct.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection, DateTime, Engine, MetaData, TypeDecorator, create_engine, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    """Base of every model; constraints get stable names so migrations can alter them."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always read back as an aware UTC datetime."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are ambiguous; pass an aware UTC datetime")
        return value.astimezone(UTC).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


def utcnow() -> datetime:
    return datetime.now(UTC)


def upsert_insert(session: Session) -> Any:
    """The dialect's INSERT, whose `on_conflict_do_nothing/do_update` both databases have."""
    return pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert


def normalize_url(url: str) -> str:
    """Use the psycopg 3 driver for plain `postgresql://` URLs."""
    for prefix in ("postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url.removeprefix(prefix)
    return url


_WRITER = "miz_holds_writer_lock"


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # SQLAlchemy emits BEGIN itself
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.execute("PRAGMA busy_timeout = 10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.close()

    # Writers of this process queue on a lock before asking SQLite for its write lock: SQLite's
    # own busy handler sleeps with growing back-off, which makes contended writers very slow.
    writers = threading.RLock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if not connection.get_execution_options().get("miz_writes", False):
            connection.exec_driver_sql("BEGIN")
            return
        writers.acquire()
        connection.info[_WRITER] = True
        try:
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        except BaseException:
            _release_writer(connection)
            raise

    def _release_writer(connection: Any) -> None:
        if connection.info.pop(_WRITER, False):
            writers.release()

    event.listen(engine, "commit", _release_writer)
    event.listen(engine, "rollback", _release_writer)


class Database:
    """One engine and the sessions made from it."""

    def __init__(self, url: str, echo: bool = False, pool_size: int = 5, max_overflow: int = 10):
        """`pool_size` connections stay open per process, `max_overflow` more are opened
        when they are all busy (a request thread then waits for one)."""
        self.url = normalize_url(url)
        self.engine = create_engine(self.url, echo=echo, pool_pre_ping=True,
                                    pool_size=pool_size, max_overflow=max_overflow)
        if self.engine.dialect.name == "sqlite":
            _configure_sqlite(self.engine)
        self._reads = sessionmaker(self.engine, expire_on_commit=False)
        self._writes = sessionmaker(
            self.engine.execution_options(miz_writes=True), expire_on_commit=False
        )
        # One-statement reads need no transaction: on PostgreSQL they send no BEGIN/ROLLBACK.
        self._single = self.engine if self.dialect == "sqlite" else \
            self.engine.execution_options(isolation_level="AUTOCOMMIT")

    def listen(self, name: str, listener: Any) -> None:
        """Run `listener` on the session event `name` of every session made here."""
        for maker in (self._reads, self._writes):
            event.listen(maker, name, listener)

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def session(self, writes: bool = False) -> Session:
        """A new session; `writes=True` takes SQLite's write lock when it begins."""
        return (self._writes if writes else self._reads)()

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A writing session committed on success and rolled back on any error."""
        with self.session(writes=True) as session, session.begin():
            yield session

    def single_read(self) -> Connection:
        """A connection for one read statement (use it in a `with`), outside any transaction
        where the database allows it."""
        return self._single.connect()

    def dispose(self) -> None:
        self.engine.dispose()
