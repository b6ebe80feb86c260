"""The kiosk's sync with the counter server: push the outbox, pull the catalog, keep ticket
leases topped up, report a heartbeat and watch the kiosk's clock. No Kivy here: the app runs
`SyncEngine.run_forever` in a background thread, `python -m kiosk sync` runs it alone.

Delivery is at least once, the effect exactly once: every record carries its `client_id`
and the server treats a second delivery of the same id as the same record (200 instead of
201). So a crash at any instant — before the POST, during it, after the server committed but
before the kiosk wrote the acknowledgement — leads at worst to a replay, which changes
nothing. Acknowledgements are therefore written in small groups (one fsync per group, not
per record): losing the last group to a crash costs a replay, never a record.

Order and failures:

- A request and its documents go in one call (`POST /api/v1/filings`): one HTTP round trip,
  one transaction on the server. An older server answers 404: the kiosk then sends the
  request and each document separately, as before, and asks again an hour later. A filing
  the server refuses is sent again record by record, so that each gets its own verdict
  (the request filed, only a bad document refused, as separate calls would have it).

- Records go in the order they were made wherever the order matters: a request, then its
  documents, then the tickets and survey answers that name its tracking code form one
  *chain*, always sent one after the other. Independent chains (other requests, tickets
  with no code) are sent side by side, `policy.concurrency` at a time, in batches read in
  order; `concurrency = 1` sends every record strictly one after the other.
- A failure that may pass (no network, a timeout, 5xx, 408, 425, 429, or 401 when the
  kiosk's token is refused) stops the round once the records in flight are settled; the
  next round starts again from the oldest record still pending, after a backoff with jitter
  (`min_backoff`, 1 s, doubling up to `max_backoff`) that counts failed rounds *since the
  last progress*: a round that delivered records and then met an error is a first failure
  again. The backoff is no dead sleep: every `probe_interval` seconds it asks the server's
  `/healthz`, and ends as soon as the server answers again (or a new record wakes the
  sync). `SyncPace` keeps count, for the status and the tests.
- A refusal for good (any other 4xx: the server has judged the record) marks it `failed`,
  kept with the server's code and message for staff, and the round goes on: the citizen
  already holds the receipt, and one bad record must not hold every later one hostage. The
  documents of a refused request fail with it (they cannot be attached to nothing).
- Survey answers depend on nothing and nothing depends on them: they never hold the line.
  A server that does not know `POST /api/v1/surveys` yet keeps them pending.

Once the server has a record, what is personal is purged (see `kiosk.local.store`); the
scans let go are deleted after each acknowledgement's commit, from the names that commit
recorded. Records the server refused for good are purged the same way once they are
`refused_retention_days` old (the kiosk's configuration).

Time: each record keeps the kiosk's clock when it was made and the server's (the `Date`
header) when it was acknowledged. The heartbeat's `server_time`, taken against the middle of
the round trip, gives the kiosk's clock offset; beyond `drift_threshold` seconds the kiosk
flags its clock as drifted (staff see it on `/desk` and the kiosk's status), and tickets it
numbers carry the corrected time.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from importlib import metadata

import requests

from kiosk.config import KioskConfig
from kiosk.local.catalog_cache import CatalogCache, CatalogUnusable
from kiosk.local.store import (
    CLOCK_DRIFT,
    CLOCK_MEASURED,
    CLOCK_OFFSET,
    LAST_CONTACT,
    LAST_SYNC,
    LAST_SYNC_ERROR,
    OFFICE,
    PRINTER_STATE,
    Ack,
    KioskStore,
    OutboxRecord,
    clock_offset,
    utcnow,
)
from kiosk.sync.api_client import (
    CATALOG_PATH,
    HEALTH_PATH,
    HEARTBEAT_PATH,
    LEASES_PATH,
    ApiClient,
    Reply,
    Unreachable,
    endpoint_missing,
    is_transient,
    parse_time,
)
from kiosk.sync import revocations
from kiosk.sync.delivery import ack_of, filing_acks, send_filing, send_record
from kiosk.sync.policy import KioskPolicy
from kiosk.sync.redaction import redacted_logger

log = redacted_logger(__name__)
FILINGS_RETRY = 3600.0  # seconds before asking again a server that knew no filings


def software_version() -> str:
    """What the heartbeat reports as the kiosk's software: the installed package's version."""
    try:
        return f"miz-kiosk {metadata.version('miz')}"
    except metadata.PackageNotFoundError:
        return "miz-kiosk (unpackaged)"


class Blocked(Exception):
    """The round cannot go on (the server unreachable, or refusing the kiosk's token)."""


@dataclass
class SyncReport:
    """What one round did."""

    started_at: datetime
    finished_at: datetime | None = None
    pushed: int = 0
    replayed: int = 0
    failed: int = 0
    pending: int = 0
    catalog: str = "not_checked"
    revoked: int = 0
    leased: int = 0
    heartbeat: bool = False
    clock_offset: float | None = None
    clock_drift: bool = False
    error: str | None = None
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        """True when the round got through (it may still have refused records for good)."""
        return self.error is None

    def summary(self) -> str:
        parts = [f"pushed {self.pushed} ({self.replayed} already there)",
                 f"failed {self.failed}", f"pending {self.pending}", f"catalog {self.catalog}",
                 f"leased {self.leased}", f"revocations learned {self.revoked}"]
        if self.clock_offset is not None:
            parts.append(f"clock offset {self.clock_offset:+.1f} s"
                         + (" DRIFTED" if self.clock_drift else ""))
        if self.error:
            parts.append(f"stopped: {self.error}")
        return "; ".join(parts)


@dataclass
class SyncPace:
    """How the sync has waited since it started: failed rounds in a row since the last
    progress, and the backoffs, ended early (the server answered again, or a wake) or run
    out."""

    failures: int = 0
    most_failures: int = 0
    backoffs: int = 0
    cut_short: int = 0
    run_out: int = 0

    def after(self, report: SyncReport) -> None:
        """Count a round: progress starts the count again; an error adds one."""
        if report.pushed or report.failed:
            self.failures = 0
        self.failures += 0 if report.ok else 1
        self.most_failures = max(self.most_failures, self.failures)


class SyncEngine:
    """Pushes the outbox, pulls the catalog, tops up leases, sends the heartbeat."""

    def __init__(self, config: KioskConfig, store: KioskStore,
                 session: requests.Session | None = None, *,
                 policy: KioskPolicy | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 catalogs: CatalogCache | None = None) -> None:
        self.config, self.store, self.clock = config, store, clock
        self.policy = policy or KioskPolicy()
        self.api = ApiClient(config, session, clock, self.policy)
        self.catalogs = catalogs or CatalogCache(store)
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._filings_missing_at: float | None = None
        self.pace = SyncPace()

    # -- control --

    def wake(self) -> None:
        """Start the next round now (a new record was made); harmless at any time."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the record being sent (the round ends cleanly)."""
        self._stop.set()

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Rounds until `stop` is set: at once when woken or when records remain, every
        `interval` seconds when idle, with backoff and jitter after a failed round, cut
        short when the server answers again. Never raises."""
        if stop is not None:
            self._stop = stop
        while not self._stop.is_set():
            report = self._guarded_round()
            self.pace.after(report)
            if self.pace.failures:
                self._back_off(self._backoff(self.pace.failures))
            elif report.pending and report.pushed + report.failed:
                continue  # progress made and more to push: go on at once
            else:
                self._sleep(self.policy.interval)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.policy.max_backoff,
                      self.policy.min_backoff * 2.0 ** (failures - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def _sleep(self, seconds: float, probe: bool = False) -> bool:
        """Wait `seconds`, until stopped or woken, or (`probe`) until the server answers
        its health check; True when the wait ended early."""
        now = time.monotonic()
        deadline, next_probe = now + seconds, now + self.policy.probe_interval
        while not self._stop.is_set():
            now = time.monotonic()
            if now >= deadline:
                return False
            if self._wake.wait(min(0.25, deadline - now)):
                return True
            if probe and time.monotonic() >= next_probe:
                if self._server_answers():
                    return True
                next_probe = time.monotonic() + self.policy.probe_interval
        return True

    def _back_off(self, seconds: float) -> None:
        """Wait after a failed round, until the server answers again at the latest."""
        self.pace.backoffs += 1
        if self._sleep(seconds, probe=True):
            self.pace.cut_short += 1
        else:
            self.pace.run_out += 1

    def _server_answers(self) -> bool:
        """Whether the server's health check answers that it is up."""
        try:
            return self.api.get(HEALTH_PATH, timeout=self.policy.inline_timeout).status == 200
        except Unreachable:
            return False

    def _guarded_round(self) -> SyncReport:
        try:
            return self.run_once()
        except Exception as exc:  # the background thread must never die
            log.exception("sync round failed unexpectedly: %s", type(exc).__name__)
            return SyncReport(started_at=self.clock(), finished_at=self.clock(),
                              error=f"unexpected {type(exc).__name__}")

    def run_once(self) -> SyncReport:
        """One round: catalog, outbox, heartbeat, leases. Network trouble ends the round
        early (`report.error`); it never raises for it."""
        self._wake.clear()
        report = SyncReport(started_at=self.clock())
        self.purge_refused()
        try:
            self.pull_catalog(report)
            self.pull_revocations(report)
            self.push(report)
            self.heartbeat(report)
            self.top_up_leases(report)
        except (Unreachable, Blocked) as exc:
            report.error = str(exc)
        report.finished_at = self.clock()
        report.pending = self.store.counts()["pending"]
        self._finish(report)
        return report

    def _finish(self, report: SyncReport) -> None:
        values: dict[str, str | None] = {LAST_SYNC_ERROR: report.error}
        if report.ok and report.finished_at:
            values[LAST_SYNC] = report.finished_at.isoformat()
        if self.api.last_contact:
            values[LAST_CONTACT] = self.api.last_contact.isoformat()
        self.store.set_state(values)
        if report.error:
            log.info("sync round stopped: %s", report.summary())
        elif (report.pushed or report.failed or report.catalog == "updated" or report.leased
              or report.revoked):
            log.info("sync round: %s", report.summary())

    def purge_refused(self) -> int:
        """Purge the personal data of records refused for good `refused_retention_days` ago."""
        days = timedelta(days=self.config.refused_retention_days)
        purged = self.store.purge_refused(self.clock() - days, self.clock())
        if purged:
            log.info("personal data of %d refused record(s) purged", purged)
        return purged

    # -- catalog --

    def pull_catalog(self, report: SyncReport) -> None:
        """GET the catalog with the stored ETag; keep a new one only if it parses."""
        tag = self.store.catalog_tag()
        headers = {"If-None-Match": tag[1]} if tag and tag[1] else {}
        reply = self.api.get(CATALOG_PATH, headers=headers)
        if reply.status == 304:
            report.catalog = "unchanged"
        elif reply.status == 200:
            self._accept_catalog(reply, report)
        elif is_transient(reply):
            raise Blocked(f"catalog: {reply.error_text}")
        else:
            report.catalog = "unavailable"
            report.problems.append(f"catalog: {reply.error_text}")

    def _accept_catalog(self, reply: Reply, report: SyncReport) -> None:
        try:
            loaded = self.catalogs.accept(reply.content, reply.headers.get("ETag"),
                                          reply.received_at, reply.server_date)
        except CatalogUnusable as exc:
            report.catalog = "refused"
            report.problems.append(str(exc)[:300])
            log.warning("the server's catalog was not kept: %s", str(exc)[:300])
            return
        report.catalog = "updated"
        log.info("catalog version %s kept", loaded.version)

    def pull_revocations(self, report: SyncReport) -> None:
        """Learn the revocations and seal keys, beside the catalog (`kiosk.sync.revocations`)."""
        learned = revocations.pull(self.api, self.store, self.clock)
        report.revoked += learned.added
        report.problems += learned.problems or []
        if learned.pinned:
            log.info("seal keys pinned from the server's first answer")

    # -- outbox --

    def push(self, report: SyncReport) -> None:
        """Send pending records until none is left, or the round must stop (Blocked or
        Unreachable raised after the records in flight are settled)."""
        pushing = _Push(self, report)
        after = 0
        try:
            with ThreadPoolExecutor(max_workers=max(1, self.policy.concurrency),
                                    thread_name_prefix="miz-push") as pool:
                while not self._stop.is_set() and pushing.blocked is None:
                    batch = self.store.pending(self.policy.batch, after)
                    if not batch:
                        break
                    after = batch[-1].id
                    if self.policy.concurrency <= 1:
                        pushing.send_chain(batch)  # strictly in the order made
                    else:
                        list(pool.map(pushing.send_chain, chains(batch)))
        finally:
            pushing.flush()
            if report.pushed and self.policy.purge_after_ack:
                self.store.checkpoint()
        if pushing.blocked is not None:
            raise pushing.blocked

    def filing_documents(self, record: OutboxRecord, later: list[OutboxRecord]
                         ) -> list[OutboxRecord]:
        """The documents of `later` that go with `record` in one filing: none unless it is a
        request and the server takes filings (`policy.filings`; not after an older server
        said it does not know them, until `FILINGS_RETRY` seconds later)."""
        if record.kind != "request" or not self.policy.filings:
            return []
        if self._filings_missing_at is not None:
            if time.monotonic() - self._filings_missing_at < FILINGS_RETRY:
                return []
            self._filings_missing_at = None
        return [r for r in later if r.kind == "document" and r.depends_on == record.id]

    def _push_filing(self, record: OutboxRecord, documents: list[OutboxRecord],
                     pushing: _Push) -> bool:
        """Send a request with its documents in one call and settle them all; False when
        they must go one by one instead: an older server, a refusal (each record then gets
        its own verdict: the request may be filed and only a bad document refused), a scan
        gone, an answer that does not account for every record."""
        now = utcnow()
        if any(r.claimed_until and r.claimed_until > now for r in (record, *documents)):
            raise Blocked(f"record {record.id} is being sent by the kiosk's screen")
        try:
            reply = send_filing(self.api, record, documents)
        except FileNotFoundError:
            return False
        except Unreachable as exc:
            self.store.note_attempt(record.id, str(exc), self.clock())
            raise
        if reply.status in (200, 201):
            try:
                pushing.acknowledge(*filing_acks(record.id, documents, reply))
            except ValueError:
                return False
            return True
        if is_transient(reply):
            self.store.note_attempt(record.id, reply.error_text, self.clock(), reply.status)
            raise Blocked(f"filing {record.id}: {reply.error_text}")
        if endpoint_missing(reply):
            log.info("the server takes no filings yet: requests and documents go one by one")
            self._filings_missing_at = time.monotonic()
        return False

    def _push_one(self, record: OutboxRecord, pushing: _Push) -> None:
        """Send one record and settle it: acknowledged, refused for good, or left pending
        (Unreachable / Blocked raised, except for surveys, which never hold the line)."""
        if record.claimed_until and record.claimed_until > utcnow():
            raise Blocked(f"record {record.id} is being sent by the kiosk's screen")
        try:
            reply = send_record(self.api, record)
        except FileNotFoundError as exc:
            pushing.refuse(record, None, str(exc))
            return
        except Unreachable as exc:
            self.store.note_attempt(record.id, str(exc), self.clock())
            if record.kind != "survey":
                raise
            return
        if reply.status in (200, 201):
            pushing.acknowledge(ack_of(record.id, reply))
        elif is_transient(reply) or (record.kind == "survey" and endpoint_missing(reply)):
            self.store.note_attempt(record.id, reply.error_text, self.clock(), reply.status)
            if record.kind != "survey" or reply.status == 401:
                raise Blocked(f"{record.kind} {record.id}: {reply.error_text}")
        else:
            pushing.refuse(record, reply.status, reply.error_text)

    # -- heartbeat and clock --

    def heartbeat(self, report: SyncReport) -> None:
        """Report to staff and measure the clock; an older server without the endpoint is
        measured by its Date header instead."""
        body = {"software_version": software_version(),
                "outbox_depth": self.store.counts()["pending"],
                "last_sync_at": self.store.state(LAST_SYNC),
                "printer_state": self.store.state(PRINTER_STATE) or "unknown",
                "kiosk_time": self.clock().isoformat()}
        reply = self.api.post_json(HEARTBEAT_PATH, body)
        if reply.status == 200:
            report.heartbeat = True
            answer = reply.data if isinstance(reply.data, dict) else {}
            self._measure(report, reply, parse_time(answer.get("server_time")))
            office = answer.get("office")
            if isinstance(office, str) and office:
                self.store.set_state({OFFICE: office})
        elif is_transient(reply):
            raise Blocked(f"heartbeat: {reply.error_text}")
        else:
            report.problems.append(f"heartbeat: {reply.error_text}")
            self._measure(report, reply, None)

    def _measure(self, report: SyncReport, reply: Reply, server_time: datetime | None) -> None:
        if server_time is None:
            date_header = reply.server_date
            if date_header is None:
                return
            server_time = date_header + timedelta(milliseconds=500)  # Date is truncated
        offset = (server_time - reply.midpoint).total_seconds()
        drift = abs(offset) > self.policy.drift_threshold
        report.clock_offset, report.clock_drift = offset, drift
        self.store.set_state({CLOCK_OFFSET: f"{offset:.3f}",
                              CLOCK_MEASURED: reply.received_at.isoformat(),
                              CLOCK_DRIFT: "1" if drift else "0"})
        if drift:
            log.warning("the kiosk's clock is %+.0f s off the server's", offset)

    # -- leases --

    def top_up_leases(self, report: SyncReport) -> None:
        """Keep at least `lease_low_water` numbers per queue of this kiosk's office for
        today and the next working day (in the server's time)."""
        loaded = self.catalogs.current()
        if not loaded.catalog.queues:
            return
        now = self.clock() + timedelta(seconds=clock_offset(self.store))
        today = loaded.calendar.local_date(now)
        self.store.drop_leases_before(today)
        days = (today, loaded.calendar.next_working_day(today))
        for queue in [q.slug for q in loaded.catalog.queues]:
            if not self._serves(queue):
                continue
            for day in days:
                if self.store.numbers_left(queue, day) < self.policy.lease_low_water:
                    self._lease(queue, day, report)

    def _keep_lease(self, reply: Reply, report: SyncReport) -> None:
        got = reply.data if isinstance(reply.data, dict) else {}
        try:
            office, queue, prefix, prefix_fa = (str(got[k]) for k in (
                "office", "queue", "prefix", "prefix_fa"))
            day, first, last = date.fromisoformat(got["day"]), int(got["first"]), int(got["last"])
        except (KeyError, TypeError, ValueError):
            report.problems.append(f"lease: an answer without its numbers ({reply.status})")
            return
        self.store.add_lease(office, queue, day, prefix, prefix_fa, first, last, self.clock())
        if self.store.state(OFFICE) is None:
            self.store.set_state({OFFICE: office})
        report.leased += 1

    def _serves(self, queue: str) -> bool:
        """Whether the kiosk's office runs `queue` (all queues until the office is known)."""
        office_slug = self.store.state(OFFICE)
        if office_slug is None:
            return True
        catalog = self.catalogs.current().catalog
        office = catalog.office(office_slug)
        return office is None or any(q.slug == queue for q in catalog.queues_of(office))

    def _lease(self, queue: str, day: date, report: SyncReport) -> None:
        reply = self.api.post_json(LEASES_PATH, {"queue": queue, "size": self.policy.lease_size,
                                                 "day": day.isoformat()})
        if reply.status in (200, 201):
            self._keep_lease(reply, report)
        elif is_transient(reply):
            raise Blocked(f"lease {queue}: {reply.error_text}")
        elif reply.error_code != "queue_not_in_office":
            report.problems.append(f"lease {queue} {day}: {reply.error_text}")


def chain_of(record: OutboxRecord) -> str:
    """Records that must go one after the other share a chain: a request, its documents,
    and the tickets and survey answers that name its tracking code."""
    if record.kind in ("request", "document"):
        return f"code:{record.ref}"
    code = (record.body or {}).get("tracking_code")
    return f"code:{code}" if code else f"{record.kind}:{record.id}"


def chains(batch: list[OutboxRecord]) -> list[list[OutboxRecord]]:
    """The batch cut into chains, each in the order its records were made."""
    grouped: dict[str, list[OutboxRecord]] = {}
    for record in batch:
        grouped.setdefault(chain_of(record), []).append(record)
    return list(grouped.values())


class _Push:
    """One round's push: acknowledgements gathered and committed in groups, refusals, and
    the first reason to stop; shared by the threads that send chains side by side."""

    def __init__(self, engine: SyncEngine, report: SyncReport) -> None:
        self.engine, self.report = engine, report
        self.lock = threading.Lock()
        self.acks: list[Ack] = []
        self.refused: set[int] = set()
        self.blocked: Exception | None = None

    def send_chain(self, records: list[OutboxRecord]) -> None:
        """Send records in order (a request with its documents in one filing where the
        server takes it); a chain stops at the first record that cannot go now."""
        settled: set[int] = set()
        for index, record in enumerate(records):
            if self.blocked is not None or self.engine._stop.is_set():
                return
            with self.lock:
                if record.id in self.refused or record.id in settled:
                    continue
            try:
                documents = self.engine.filing_documents(record, records[index + 1:])
                if documents and self.engine._push_filing(record, documents, self):
                    settled.update(d.id for d in documents)
                    continue
                self.engine._push_one(record, self)
            except (Unreachable, Blocked) as exc:
                with self.lock:
                    self.blocked = self.blocked or exc
                return

    def acknowledge(self, *acks: Ack) -> None:
        """Gather acknowledgements (a filing's together: they are committed in one group)."""
        with self.lock:
            self.acks.extend(acks)
            self.report.pushed += len(acks)
            self.report.replayed += sum(ack.http_status == 200 for ack in acks)
            flushed = self._flush() if len(self.acks) >= self.engine.policy.ack_group else False
        self._remove_discarded(flushed)

    def refuse(self, record: OutboxRecord, status: int | None, error: str) -> None:
        """The server refused the record for good: it and its dependents fail, kept."""
        with self.lock:
            flushed = self._flush()
            dependents = self.engine.store.fail(record.id, status, error,
                                                self.engine.clock())
            self.refused |= {record.id, *dependents}
            self.report.failed += 1 + len(dependents)
        self._remove_discarded(flushed)
        log.warning("%s record %s refused for good: %s", record.kind, record.id, error)

    def flush(self) -> None:
        with self.lock:
            flushed = self._flush()
        self._remove_discarded(flushed)

    def _flush(self) -> bool:
        """Commit the gathered acknowledgements (recording the purged scans as discarded in
        the same transaction); whether there were any."""
        if not self.acks:
            return False
        store = self.engine.store
        store.acknowledge(self.acks, purge=self.engine.policy.purge_after_ack,
                          delete_files=False)
        store.set_state({LAST_CONTACT: self.acks[-1].acked_at.isoformat()})
        self.acks = []
        return True

    def _remove_discarded(self, flushed: bool) -> None:
        """After a commit, delete the scans it let go (outside the lock: deleting is slow,
        and the names are kept until the files are gone)."""
        if flushed:
            self.engine.store.remove_discarded()


def start_background_sync(engine: SyncEngine, stop: threading.Event) -> threading.Thread:
    """Run `engine` in a daemon thread until `stop` is set (the app's way to run it)."""
    thread = threading.Thread(target=engine.run_forever, args=(stop,), name="miz-sync",
                              daemon=True)
    thread.start()
    return thread
