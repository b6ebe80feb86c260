"""How the kiosk behaves around the network: timeouts, when it counts as online, how long
it may number tickets out of touch, lease sizes and the sync's pace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True)
class KioskPolicy:
    """How the kiosk behaves around the network; the defaults suit a lobby."""

    max_offline: timedelta = timedelta(minutes=20)
    """Out of touch longer than this, the kiosk stops numbering tickets (reception does)."""
    online_window: timedelta = timedelta(seconds=90)
    """The kiosk counts as online when the server answered within this time."""
    inline_timeout: float = 3.0
    """Seconds for a call made while a citizen waits (a ticket, a tracking look-up)."""
    connect_timeout: float = 5.0
    read_timeout: float = 60.0
    drift_threshold: float = 120.0
    """Seconds of clock offset above which the kiosk's clock counts as drifted."""
    lease_size: int = 50
    lease_low_water: int = 20
    enforce_queue_hours: bool = True
    """Number tickets only within the queue's hours (as the server does)."""
    interval: float = 30.0
    """Seconds between rounds when the outbox is empty (a new record wakes the sync)."""
    min_backoff: float = 1.0
    """Seconds the first failed round waits (at most; jitter takes up to half off); each
    failure after it doubles the wait."""
    max_backoff: float = 60.0
    """Seconds a failed round waits at most before the next; a round that delivered records
    counts as a first failure whatever came before."""
    probe_interval: float = 2.0
    """Seconds between health checks while backing off: the sync goes on as soon as the
    server answers again, however long the back-off."""
    batch: int = 200
    concurrency: int = 4
    """Chains of records sent side by side (1: one record at a time, strictly in order)."""
    filings: bool = True
    """Send a request with its documents in one call where the server takes it."""
    ack_group: int = 50
    """Acknowledgements committed together (a crash costs a replay of at most this many)."""
    purge_after_ack: bool = True
