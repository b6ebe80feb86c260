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

- Records go in the order they were made wherever the order matters: a request, then its
  documents, then the tickets and survey answers that name its tracking code form one
  *chain*, always sent one after the other. Independent chains (other requests, tickets
  with no code) are sent side by side, `policy.concurrency` at a time, in batches read in
  order; `concurrency = 1` sends every record strictly one after the other.
- A failure that may pass (no network, a timeout, 5xx, 408, 425, 429, or 401 when the
  kiosk's token is refused) stops the round once the records in flight are settled; the
  next round starts again from the oldest record still pending, after a backoff with jitter
  (1 s doubling up to `max_backoff`).
- A refusal for good (any other 4xx: the server has judged the record) marks it `failed`,
  kept with the server's code and message for staff, and the round goes on: the citizen
  already holds the receipt, and one bad record must not hold every later one hostage. The
  documents of a refused request fail with it (they cannot be attached to nothing).
- Survey answers depend on nothing and nothing depends on them: they never hold the line.
  A server that does not know `POST /api/v1/surveys` yet keeps them pending.

Once the server has a record, what is personal is purged (see `kiosk.store`).

Time: each record keeps the kiosk's clock when it was made and the server's (the `Date`
header) when it was acknowledged. The heartbeat's `server_time`, taken against the middle of
the round trip, gives the kiosk's clock offset; beyond `drift_threshold` seconds the kiosk
flags its clock as drifted (staff see it on `/desk` and the kiosk's status), and tickets it
numbers carry the corrected time.
"""

from __future__ import annotations

import json
import logging
import os
import random
import re
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.utils import parsedate_to_datetime
from importlib import metadata
from pathlib import Path
from typing import Any
from urllib.parse import quote
from urllib.request import getproxies

import requests
from urllib3 import encode_multipart_formdata

from kiosk.catalog_cache import CatalogCache, CatalogUnusable
from kiosk.config import KioskConfig
from kiosk.store import Ack, KioskStore, OutboxRecord, utcnow

REQUESTS_PATH = "/api/v1/requests"
TICKETS_PATH = "/api/v1/tickets"
LEASES_PATH = "/api/v1/tickets/leases"
SURVEYS_PATH = "/api/v1/surveys"
CATALOG_PATH = "/api/v1/catalog"
HEARTBEAT_PATH = "/api/v1/kiosks/heartbeat"
TRANSIENT_STATUSES = frozenset({401, 408, 425, 429})
MISSING_ENDPOINT_CODES = frozenset({None, "not_found", "method_not_allowed"})

# Keys of the shared `state` table.
LAST_CONTACT = "last_contact_at"
LAST_SYNC = "last_sync_at"
LAST_SYNC_ERROR = "last_sync_error"
CLOCK_OFFSET = "clock_offset_seconds"
CLOCK_MEASURED = "clock_offset_at"
CLOCK_DRIFT = "clock_drift"
OFFICE = "office"
PRINTER_STATE = "printer_state"

log = logging.getLogger(__name__)


# --- personal data never goes to logs ------------------------------------------------------

_PERSONAL_NUMBER = re.compile(r"(?<![0-9۰-۹٠-٩])[0-9۰-۹٠-٩]{10,11}(?![0-9۰-۹٠-٩])")


class RedactPersonalData(logging.Filter):
    """Replaces runs of 10 or 11 digits (national codes, mobile numbers) in a log record.

    Tracking codes (16 digits) and ticket numbers stay readable. The kiosk never logs bodies;
    this filter is the second line, on every kiosk logger and on the CLI's handler.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _PERSONAL_NUMBER.sub("[redacted]", message)
        if redacted != message or record.args:
            record.msg, record.args = redacted, ()
        return True


log.addFilter(RedactPersonalData())


# --- settings ------------------------------------------------------------------------------

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
    max_backoff: float = 60.0
    batch: int = 200
    concurrency: int = 4
    """Chains of records sent side by side (1: one record at a time, strictly in order)."""
    ack_group: int = 50
    """Acknowledgements committed together (a crash costs a replay of at most this many)."""
    purge_after_ack: bool = True


# --- HTTP ----------------------------------------------------------------------------------

class Unreachable(Exception):
    """The server could not be reached or did not answer in time."""


@dataclass(frozen=True)
class Reply:
    """An HTTP answer with the kiosk's clock around it."""

    status: int
    content: bytes
    headers: Mapping[str, str]
    sent_at: datetime
    received_at: datetime

    @property
    def data(self) -> Any:
        """The JSON body, or None when there is none or it is not JSON."""
        try:
            return json.loads(self.content) if self.content else None
        except ValueError:
            return None

    @property
    def error_code(self) -> str | None:
        body = self.data
        code = body.get("code") if isinstance(body, dict) else None
        return code if isinstance(code, str) else None

    @property
    def error_text(self) -> str:
        """"HTTP 422 code: message" for staff (the server's messages carry no personal data)."""
        body = self.data
        message = body.get("message") if isinstance(body, dict) else None
        parts = [f"HTTP {self.status}", self.error_code or "", message or ""]
        return " ".join(p for p in parts if p).strip()

    @property
    def server_date(self) -> datetime | None:
        """The server's clock from its `Date` header (to the second)."""
        value = self.headers.get("Date")
        try:
            return parsedate_to_datetime(value) if value else None
        except (TypeError, ValueError):
            return None

    @property
    def midpoint(self) -> datetime:
        return self.sent_at + (self.received_at - self.sent_at) / 2


def _pooled_session(connections: int) -> requests.Session:
    """A session keeping enough connections alive for the pushes sent side by side.

    The environment's proxy and CA settings are read once here, not on every call (requests
    would scan the whole environment per request otherwise)."""
    session = requests.Session()
    session.trust_env = False
    session.proxies = {k: v for k, v in getproxies().items() if k in ("http", "https", "no")}
    session.verify = os.environ.get("REQUESTS_CA_BUNDLE") or os.environ.get(
        "CURL_CA_BUNDLE") or True
    adapter = requests.adapters.HTTPAdapter(pool_connections=1,
                                            pool_maxsize=max(10, connections))
    session.mount("http://", adapter)
    session.mount("https://", adapter)
    return session


class ApiClient:
    """The kiosk's calls to the server, with its bearer token; network errors become
    `Unreachable`, and every answer notes the last contact."""

    def __init__(self, config: KioskConfig, session: requests.Session | None = None,
                 clock: Callable[[], datetime] = utcnow,
                 policy: KioskPolicy | None = None) -> None:
        self.config, self.clock = config, clock
        self.policy = policy or KioskPolicy()
        self.session = session or _pooled_session(self.policy.concurrency)
        self.session.headers["Authorization"] = f"Bearer {config.token}"
        self.session.headers["Accept"] = "application/json"
        self.last_contact: datetime | None = None
        self._boundary = uuid.uuid4().hex

    def _timeout(self, timeout: float | None) -> float | tuple[float, float]:
        if timeout is not None:
            return timeout
        return self.policy.connect_timeout, self.policy.read_timeout

    def call(self, method: str, path: str, *, timeout: float | None = None,
             **kwargs: Any) -> Reply:
        """One request; a Reply for any HTTP answer, Unreachable when there is none."""
        sent = self.clock()
        try:
            response = self.session.request(method, f"{self.config.server_url}{path}",
                                            timeout=self._timeout(timeout), **kwargs)
        except requests.RequestException as exc:
            raise Unreachable(f"{method} {path}: {type(exc).__name__}") from exc
        reply = Reply(status=response.status_code, content=response.content,
                      headers=dict(response.headers), sent_at=sent, received_at=self.clock())
        if reply.status < 500:
            self.last_contact = reply.received_at
        return reply

    def get(self, path: str, *, headers: Mapping[str, str] | None = None,
            timeout: float | None = None) -> Reply:
        return self.call("GET", path, headers=dict(headers or {}), timeout=timeout)

    def post_json(self, path: str, body: Mapping[str, Any], *,
                  timeout: float | None = None) -> Reply:
        return self.call("POST", path, json=body, timeout=timeout)

    def post_file(self, path: str, fields: Mapping[str, str], filename: str, data: bytes,
                  media_type: str, *, timeout: float | None = None) -> Reply:
        """A multipart POST with the form `fields` and the file as `file`.

        The multipart boundary is drawn once per client, not per call: a server parsing
        multipart (werkzeug) compiles a pattern for each new boundary, which is a good share
        of the work for a 200 KB scan. 32 random hex digits still never occur in a scan.
        """
        parts: list[tuple[str, Any]] = [*fields.items(), ("file", (filename, data, media_type))]
        body, content_type = encode_multipart_formdata(parts, boundary=self._boundary)
        return self.call("POST", path, data=body, headers={"Content-Type": content_type},
                         timeout=timeout)


def is_transient(reply: Reply) -> bool:
    """An answer after which the same record may well succeed later."""
    return reply.status >= 500 or reply.status in TRANSIENT_STATUSES


def endpoint_missing(reply: Reply) -> bool:
    """The server does not know this endpoint (an older server), as opposed to a refusal."""
    return reply.status in (404, 405) and reply.error_code in MISSING_ENDPOINT_CODES


def record_path(record: OutboxRecord) -> str:
    """Where a record is POSTed."""
    if record.kind == "document":
        return f"{REQUESTS_PATH}/{quote(record.ref or '', safe='')}/documents"
    return {"request": REQUESTS_PATH, "ticket": TICKETS_PATH, "survey": SURVEYS_PATH}[record.kind]


def send_record(api: ApiClient, record: OutboxRecord, timeout: float | None = None) -> Reply:
    """POST one record as it was stored (the same body every time: a replay is harmless).

    Raises Unreachable, or FileNotFoundError when a document's scan has gone missing.
    """
    if record.body is None:
        raise ValueError(f"record {record.id} has no body (purged)")
    path = record_path(record)
    if record.kind != "document":
        return api.post_json(path, record.body, timeout=timeout)
    if record.file is None:
        raise FileNotFoundError(f"record {record.id}: its scan file is gone")
    data = record.file.read_bytes()
    fields = {"client_id": record.client_id, "slot": str(record.body.get("slot", ""))}
    return api.post_file(path, fields, str(record.body.get("filename") or record.file.name),
                         data, record.media_type or "application/octet-stream", timeout=timeout)


def ack_of(record_id: int, reply: Reply) -> Ack:
    """The acknowledgement a 200/201 answer gives the record `record_id`."""
    body = reply.data
    return Ack(record_id=record_id, http_status=reply.status,
               response=body if isinstance(body, dict) else {},
               server_time=reply.server_date, acked_at=reply.received_at)


# --- clock ---------------------------------------------------------------------------------

def parse_time(value: Any) -> datetime | None:
    """An aware datetime from an ISO string, or None."""
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else None


def clock_offset(store: KioskStore) -> float:
    """The last measured server-minus-kiosk offset in seconds (0 before any measurement)."""
    try:
        return float(store.state(CLOCK_OFFSET) or 0.0)
    except ValueError:
        return 0.0


def software_version() -> str:
    try:
        return f"miz-kiosk {metadata.version('miz')}"
    except metadata.PackageNotFoundError:
        return "miz-kiosk (unpackaged)"


# --- the engine ----------------------------------------------------------------------------

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
                 f"leased {self.leased}"]
        if self.clock_offset is not None:
            parts.append(f"clock offset {self.clock_offset:+.1f} s"
                         + (" DRIFTED" if self.clock_drift else ""))
        if self.error:
            parts.append(f"stopped: {self.error}")
        return "; ".join(parts)


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

    # -- control --

    def wake(self) -> None:
        """Start the next round now (a new record was made); harmless at any time."""
        self._wake.set()

    def stop(self) -> None:
        """Stop after the record being sent (the round ends cleanly)."""
        self._stop.set()

    def run_forever(self, stop: threading.Event | None = None) -> None:
        """Rounds until `stop` is set: at once when woken or when records remain, every
        `interval` seconds when idle, with backoff and jitter after a failed round. Never
        raises."""
        if stop is not None:
            self._stop = stop
        failures = 0
        while not self._stop.is_set():
            report = self._guarded_round()
            failures = failures + 1 if not report.ok else 0
            if failures:
                self._sleep(self._backoff(failures), wakeable=False)
            elif report.pending and report.pushed + report.failed:
                continue  # progress made and more to push: go on at once
            else:
                self._sleep(self.policy.interval, wakeable=True)

    def _backoff(self, failures: int) -> float:
        ceiling = min(self.policy.max_backoff, 2.0 ** (failures - 1))
        return ceiling * random.uniform(0.5, 1.0)

    def _sleep(self, seconds: float, wakeable: bool) -> None:
        deadline = time.monotonic() + seconds
        while not self._stop.is_set():
            left = deadline - time.monotonic()
            if left <= 0:
                return
            if wakeable and self._wake.wait(min(0.25, left)):
                return
            if not wakeable:
                self._stop.wait(min(0.25, left))

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
        try:
            self.pull_catalog(report)
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
        elif report.pushed or report.failed or report.catalog == "updated" or report.leased:
            log.info("sync round: %s", report.summary())

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
        """Send records in order; a chain stops at the first record that cannot go now."""
        for record in records:
            if self.blocked is not None or self.engine._stop.is_set():
                return
            with self.lock:
                if record.id in self.refused:
                    continue
            try:
                self.engine._push_one(record, self)
            except (Unreachable, Blocked) as exc:
                with self.lock:
                    self.blocked = self.blocked or exc
                return

    def acknowledge(self, ack: Ack) -> None:
        with self.lock:
            self.acks.append(ack)
            self.report.pushed += 1
            self.report.replayed += ack.http_status == 200
            files = self._flush() if len(self.acks) >= self.engine.policy.ack_group else []
        _delete(files)

    def refuse(self, record: OutboxRecord, status: int | None, error: str) -> None:
        """The server refused the record for good: it and its dependents fail, kept."""
        with self.lock:
            files = self._flush()
            dependents = self.engine.store.fail(record.id, status, error,
                                                self.engine.clock())
            self.refused |= {record.id, *dependents}
            self.report.failed += 1 + len(dependents)
        _delete(files)
        log.warning("%s record %s refused for good: %s", record.kind, record.id, error)

    def flush(self) -> None:
        with self.lock:
            files = self._flush()
        _delete(files)

    def _flush(self) -> list[Path]:
        """Commit the gathered acknowledgements; the purged scan files to delete (outside
        the lock: deleting is slow and the commit has made it safe)."""
        if not self.acks:
            return []
        store = self.engine.store
        files = store.acknowledge(self.acks, purge=self.engine.policy.purge_after_ack,
                                  delete_files=False)
        store.set_state({LAST_CONTACT: self.acks[-1].acked_at.isoformat()})
        self.acks = []
        return files


def _delete(files: list[Path]) -> None:
    for path in files:
        path.unlink(missing_ok=True)


def start_background_sync(engine: SyncEngine, stop: threading.Event) -> threading.Thread:
    """Run `engine` in a daemon thread until `stop` is set (the app's way to run it)."""
    thread = threading.Thread(target=engine.run_forever, args=(stop,), name="miz-sync",
                              daemon=True)
    thread.start()
    return thread
