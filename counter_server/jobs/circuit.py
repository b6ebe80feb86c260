"""A circuit breaker per outside system, kept in the database so every worker shares it.

    closed ──N failures in a row──▶ open ──cool-down over──▶ half_open (one probe)
      ▲                                ▲                          │
      └───────── probe worked ─────────┼──────── probe failed ────┘

While open, jobs for the system are not tried (they wait until the cool-down ends, without
spending an attempt). When the cool-down is over, one worker's call is the probe; the others
wait for its result. A probe whose worker died is taken over after its lease.

The common case — a closed circuit and a call that works — touches no row at all: each
process keeps what it last read of a circuit for `FRESH_SECONDS` (so a circuit another
worker opened is seen here within that time). Writes happen when a call fails or the state
changes, each in a short transaction holding the row's lock.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from weakref import WeakKeyDictionary

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from counter_server.db import Database, upsert_insert
from counter_server.models.jobs import Circuit

CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"
FRESH_SECONDS = 0.5


@dataclass(frozen=True)
class _Seen:
    state: str
    failures: int
    open_until: datetime | None
    probe_until: datetime | None
    read_at: float  # time.monotonic()


_seen: WeakKeyDictionary[Engine, dict[str, _Seen]] = WeakKeyDictionary()
_seen_lock = threading.Lock()


def _remember(db: Database, target: str, circuit: Circuit | None) -> _Seen:
    seen = _Seen(circuit.state, circuit.failures, circuit.open_until, circuit.probe_until,
                 time.monotonic()) if circuit is not None else _Seen(
        CLOSED, 0, None, None, time.monotonic())
    with _seen_lock:
        _seen.setdefault(db.engine, {})[target] = seen
    return seen


def _current(db: Database, target: str) -> _Seen:
    """What this process knows of the circuit, read again when older than FRESH_SECONDS."""
    seen = _seen.get(db.engine, {}).get(target)
    if seen is not None and time.monotonic() - seen.read_at < FRESH_SECONDS:
        return seen
    with db.session() as session:
        return _remember(db, target, session.get(Circuit, target))


@dataclass(frozen=True)
class CircuitPolicy:
    threshold: int = 5  # failures in a row that open the circuit
    cool_down: timedelta = timedelta(seconds=60)
    probe_lease: timedelta = timedelta(seconds=30)


def _locked(session: Session, target: str, now: datetime) -> Circuit:
    """The target's circuit row, created closed if new, locked until the transaction ends."""
    session.execute(upsert_insert(session)(Circuit).values(target=target, state=CLOSED, failures=0,
                                           changed_at=now)
                    .on_conflict_do_nothing(index_elements=["target"]))
    circuit = session.scalars(select(Circuit).where(Circuit.target == target)
                              .with_for_update()).one()
    session.refresh(circuit)
    return circuit


def admit(db: Database, target: str, now: datetime, policy: CircuitPolicy) -> datetime | None:
    """None if a call to `target` may go now; otherwise when to ask again."""
    row = _current(db, target)
    if row.state == CLOSED:
        return None
    if row.state == OPEN and row.open_until is not None and now < row.open_until:
        return row.open_until
    if row.state == HALF_OPEN and row.probe_until is not None and now < row.probe_until:
        return row.probe_until
    return _become_probe(db, target, now, policy)


def _become_probe(db: Database, target: str, now: datetime,
                  policy: CircuitPolicy) -> datetime | None:
    with db.transaction() as session:
        circuit = _locked(session, target, now)
        if circuit.state == CLOSED:
            _remember(db, target, circuit)
            return None
        if circuit.state == OPEN and circuit.open_until and now < circuit.open_until:
            return _remember(db, target, circuit).open_until
        if circuit.state == HALF_OPEN and circuit.probe_until and now < circuit.probe_until:
            return _remember(db, target, circuit).probe_until
        circuit.state, circuit.probe_until, circuit.changed_at = (
            HALF_OPEN, now + policy.probe_lease, now)
        _remember(db, target, circuit)
        return None


def record_success(db: Database, target: str, now: datetime) -> None:
    """A call worked: a half-open circuit closes; a closed one forgets earlier failures."""
    row = _current(db, target)
    if row.state == CLOSED and row.failures == 0:
        return
    with db.transaction() as session:
        circuit = _locked(session, target, now)
        if circuit.state != CLOSED:
            circuit.changed_at = now
        circuit.state, circuit.failures = CLOSED, 0
        circuit.open_until = circuit.probe_until = None
        _remember(db, target, circuit)


def record_failure(db: Database, target: str, now: datetime, policy: CircuitPolicy) -> None:
    """A call failed (timed out, 5xx, unreadable): count it; open the circuit at the
    threshold, or again at once when the probe failed."""
    with db.transaction() as session:
        circuit = _locked(session, target, now)
        if circuit.state == CLOSED:
            circuit.failures += 1
            if circuit.failures < policy.threshold:
                _remember(db, target, circuit)
                return
        circuit.state, circuit.open_until, circuit.probe_until = (
            OPEN, now + policy.cool_down, None)
        circuit.changed_at = now
        _remember(db, target, circuit)


def states(session: Session) -> dict[str, Circuit]:
    """Every known circuit by target, for the desk."""
    return {c.target: c for c in session.scalars(select(Circuit).order_by(Circuit.target))}
