"""The kiosk's sync against a real counter server over HTTP on a free port: records made while
the server is down reach it exactly once; killing the sync mid-push loses and doubles
nothing; a replayed batch changes nothing; the catalog comes with its ETag; personal data is
purged once acknowledged; a drifted clock is flagged; a refused record does not hold the
others back."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from werkzeug.wrappers import Response

from counter_server.models import RequestDocument, ServiceRequest, SurveyAnswer, Ticket
from kiosk.config import KioskConfig
from kiosk.local.catalog_cache import CatalogCache, CatalogUnusable
from kiosk.local.store import CLOCK_DRIFT, LAST_CONTACT, OFFICE, KioskStore, utcnow
from kiosk.sync.engine import SyncEngine
from kiosk.sync.policy import KioskPolicy
from kiosk.usecases.errors import InvalidForm
from kiosk.usecases.kiosk import Kiosk
from shared.catalog.schema import Catalog
from shared.devices.escpos_printer import FakePrinter, ReceiptPrinter
from tests.kiosk.live import (
    APPLICANT,
    MOBILE,
    NATIONAL_CODE,
    SERVICE,
    SLOT,
    LiveServer,
    form_for,
    kiosk_config,
    scan,
    wait_until,
)
from tests.shared.fake_devices import READY

ROOT = Path(__file__).resolve().parents[2]
QUEUE = "tour-guides"
POLICY = KioskPolicy(enforce_queue_hours=False, inline_timeout=2.0, lease_size=10,
                     lease_low_water=5, max_backoff=1.0, interval=0.2)


@pytest.fixture
def server(tmp_path: Path, demo_catalog: Catalog) -> Iterator[LiveServer]:
    live = LiveServer(tmp_path / "server", demo_catalog)
    yield live
    live.close()


def config_for(server: LiveServer, folder: Path, url: str | None = None) -> KioskConfig:
    return kiosk_config(folder, url or server.url, server.kiosk_id, server.token,
                        data_dir=folder.parent / "kiosk-data")


def make_kiosk(config: KioskConfig, store: KioskStore, **policy: object) -> Kiosk:
    settings = KioskPolicy(**{**POLICY.__dict__, **policy})  # type: ignore[arg-type]
    return Kiosk(config, store, ReceiptPrinter(FakePrinter(READY), 0.05), None, policy=settings)


def engine_for(config: KioskConfig, store: KioskStore, **policy: object) -> SyncEngine:
    settings = KioskPolicy(**{**POLICY.__dict__, **policy})  # type: ignore[arg-type]
    return SyncEngine(config, store, policy=settings)


def file_some(kiosk: Kiosk, catalog: Catalog, count: int) -> list[str]:
    return [kiosk.file_request(SERVICE, APPLICANT, form_for(catalog),
                               {SLOT: [scan(str(n))]}).tracking_code for n in range(count)]


def database_bytes(store: KioskStore) -> bytes:
    wal = store.path.with_name(store.path.name + "-wal")
    return store.path.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


# --- exactly once --------------------------------------------------------------------------

def test_records_made_while_the_server_is_down_arrive_exactly_once(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        server.start()  # a first round: the catalog, and numbers leased ahead
        first = engine_for(config, store).run_once()
        assert first.ok and first.catalog == "updated" and first.leased >= 2, first.summary()
        assert store.state(OFFICE) == "isfahan-hq"
        server.stop()

        kiosk, engine = make_kiosk(config, store), engine_for(config, store)
        codes = file_some(kiosk, demo_catalog, 3)
        tickets = [kiosk.take_ticket(SERVICE), kiosk.take_ticket(SERVICE, tracking_code=codes[0])]
        kiosk.answer_survey({"satisfaction": 4}, service=SERVICE, tracking_code=codes[1])
        assert all(not t.online and t.ahead is None for t in tickets)
        down = engine.run_once()
        assert not down.ok and down.pushed == 0 and down.pending == 3 * 2 + 2 + 1

        server.start()
        up = engine.run_once()
        assert up.ok and up.pushed == 9 and up.failed == 0 and up.pending == 0, up.summary()
        again = engine.run_once()
        assert again.ok and again.pushed == 0

    assert server.counts() == {"requests": 3, "documents": 3, "tickets": 2, "surveys": 1}
    assert server.codes() == sorted(codes)
    numbers = sorted(n for (n,) in server.rows(Ticket, "number"))
    assert numbers == sorted(int(t.label.split("-")[1]) for t in tickets)
    linked = server.rows(Ticket, "tracking_code", "kiosk_id")
    assert (codes[0], server.kiosk_id) in linked
    [(slot, uploaded_by)] = {row for row in server.rows(RequestDocument, "slot", "uploaded_by")}
    assert (slot, uploaded_by) == (SLOT, "kiosk")
    [(channel, kiosk_id)] = set(server.rows(ServiceRequest, "channel", "kiosk_id"))
    assert (channel, kiosk_id) == ("kiosk", server.kiosk_id)
    assert server.rows(SurveyAnswer, "tracking_code") == [(codes[1],)]


def test_killing_the_sync_mid_push_loses_and_doubles_nothing(
        tmp_path: Path, demo_catalog: Catalog) -> None:
    server = LiveServer(tmp_path / "server", demo_catalog, delay=0.03)
    try:
        server.start()
        config = config_for(server, tmp_path / "kiosk")
        offline = config_for(server, tmp_path / "offline", url="http://127.0.0.1:9")
        with KioskStore(config.data_dir) as store:
            assert engine_for(config, store).run_once().ok  # leases
            kiosk = make_kiosk(offline, store)  # the screens cannot reach the server
            codes = file_some(kiosk, demo_catalog, 30)
            tickets = [kiosk.take_ticket(SERVICE) for _ in range(3)]
            assert len(store.pending()) == 63

        command = [sys.executable, "-m", "kiosk", "sync", "--config", str(config.source)]
        running = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE,
                                   stderr=subprocess.PIPE, text=True)
        try:
            assert wait_until(lambda: server.count(RequestDocument) >= 8, timeout=60)
        finally:
            running.send_signal(signal.SIGKILL)
            running.wait(10)
        midway = server.counts()
        assert 8 <= midway["documents"] and midway["requests"] < 30, midway

        done = subprocess.run([*command, "--once"], cwd=ROOT, capture_output=True, text=True,
                              timeout=120, check=False)
        assert done.returncode == 0, done.stderr
        assert "pending 0" in done.stdout and "failed 0" in done.stdout
        assert server.counts() == {"requests": 30, "documents": 30, "tickets": 3, "surveys": 0}
        assert server.codes() == sorted(codes)
        per_request = [request_id for (request_id,) in server.rows(RequestDocument,
                                                                     "request_id")]
        assert len(set(per_request)) == 30  # one document on each request, none twice
        with KioskStore(config.data_dir) as store:
            assert store.counts() == {"pending": 0, "sent": 63, "failed": 0}
            assert not any((config.data_dir / "outbox").iterdir())
        assert len(tickets) == 3
    finally:
        server.close()


def test_a_replayed_batch_changes_nothing(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        engine = engine_for(config, store, purge_after_ack=False)
        assert engine.run_once().ok
        kiosk = make_kiosk(config_for(server, tmp_path / "offline", "http://127.0.0.1:9"),
                           store, purge_after_ack=False)
        codes = file_some(kiosk, demo_catalog, 2)
        kiosk.take_ticket(SERVICE, tracking_code=codes[1])
        kiosk.answer_survey({"satisfaction": 5, "staff_conduct": 5}, service=SERVICE)
        first = engine.run_once()
        assert first.pushed == 6 and first.replayed == 0, first.summary()
        before = {model.__name__: server.rows(model, *columns) for model, columns in (
            (ServiceRequest, ("id", "tracking_code", "client_id", "created_at")),
            (RequestDocument, ("id", "client_id", "sha256")),
            (Ticket, ("id", "number", "public_id", "issued_at")),
            (SurveyAnswer, ("id", "client_id", "received_at")))}

        assert store.reset(states=("sent",)) == 6  # the whole batch again, as after a crash
        replay = engine.run_once()
        assert replay.pushed == 6 and replay.replayed == 6 and replay.failed == 0
        after = {model.__name__: server.rows(model, *columns) for model, columns in (
            (ServiceRequest, ("id", "tracking_code", "client_id", "created_at")),
            (RequestDocument, ("id", "client_id", "sha256")),
            (Ticket, ("id", "number", "public_id", "issued_at")),
            (SurveyAnswer, ("id", "client_id", "received_at")))}
        assert after == before
        assert store.counts() == {"pending": 0, "sent": 6, "failed": 0}


# --- catalog -------------------------------------------------------------------------------

def test_the_catalog_comes_with_its_etag_and_serves_offline(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        engine = engine_for(config, store)
        assert engine.run_once().catalog == "updated"
        cached = store.cached_catalog()
        assert cached is not None and cached.version == 1 and cached.etag
        assert engine.run_once().catalog == "unchanged"  # 304 on If-None-Match

        spec = demo_catalog.service(SERVICE)
        assert spec is not None
        renamed = spec.model_copy(update={"title": "کارت راهنمای گردشگری (ویرایش تازه)"})
        server.publish(demo_catalog.model_copy(update={"services": [
            renamed if s.slug == SERVICE else s for s in demo_catalog.services]}))
        assert engine.run_once().catalog == "updated"
        assert store.catalog_tag() is not None and store.catalog_tag()[0] == 2  # type: ignore

        with pytest.raises(CatalogUnusable):  # a damaged answer never replaces the good one
            CatalogCache(store).accept(b'{"version": 3, "agency": {}}', '"x"', utcnow())
        assert store.catalog_tag()[0] == 2  # type: ignore[index]
    server.stop()

    offline = config_for(server, tmp_path / "kiosk", url="http://127.0.0.1:9")
    with KioskStore(offline.data_dir) as store:  # a restart with no network
        kiosk = make_kiosk(offline, store)
        assert kiosk.catalog_version() == 2
        assert kiosk.catalog().service(SERVICE).title == renamed.title  # type: ignore[union-attr]
        assert not engine_for(offline, store).run_once().ok


class NewerServer:
    """WSGI middleware: the catalog answer carries keys this kiosk's software does not know,
    at the top, in a service and in a step (as a newer server's would)."""

    def __init__(self, app: Any) -> None:
        self.app = app

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        response = Response.from_app(self.app, environ)
        if environ.get("PATH_INFO") == "/api/v1/catalog" and response.status_code == 200:
            body = json.loads(response.get_data())
            body["announcement"] = {"text": "ساعت کار تابستانی"}
            body["services"][0]["video_url"] = "https://miz.example.ir/v/1"
            body["services"][0]["steps"][0]["icon"] = "stamp"
            response.set_data(json.dumps(body))
        return response(environ, start_response)


def test_a_catalog_with_keys_this_kiosk_does_not_know_is_kept(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    server.wsgi = NewerServer(server.wsgi)
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        report = engine_for(config, store).run_once()
        assert report.catalog == "updated", report.problems
        kiosk = make_kiosk(config, store)
        assert kiosk.catalog_version() == 1 and kiosk.catalog() == demo_catalog


# --- purge, clock, heartbeat, refusals -----------------------------------------------------

def test_personal_data_and_scans_are_purged_once_acknowledged(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        kiosk = make_kiosk(config, store)
        [code] = file_some(kiosk, demo_catalog, 1)
        kiosk.answer_survey({"satisfaction": 2}, service=SERVICE, comment="تماس: " + MOBILE)
        request, document, survey = store.pending()
        assert document.file is not None and document.file.is_file()
        assert NATIONAL_CODE.encode() in database_bytes(store)

        report = engine_for(config, store).run_once()
        assert report.ok and report.pushed == 3

        request, document, survey = (store.record(r.id) for r in (request, document, survey))
        assert request is not None and request.state == "sent" and request.purged_at
        assert request.body == {"catalog_version": None, "channel": "kiosk",
                                "created_at": request.kiosk_time.isoformat(),
                                "service": SERVICE, "tracking_code": code}
        assert request.response is not None and request.response["tracking_code"] == code
        assert request.server_time is not None and request.acked_at is not None
        assert document is not None and document.file is None
        assert not any((config.data_dir / "outbox").iterdir())
        assert survey is not None and survey.body is not None and "comment" not in survey.body
        kept = database_bytes(store)
        assert NATIONAL_CODE.encode() not in kept and MOBILE.encode() not in kept
        assert APPLICANT["name"].encode() not in kept

        tracked = kiosk.track(code)  # and tracking still works, now from the server
        assert tracked.live and tracked.status == "submitted"
        assert kiosk.reprint(code).print_error is None
    assert NATIONAL_CODE not in caplog.text and MOBILE not in caplog.text


def test_a_tickets_mobile_reaches_the_server_then_leaves_the_kiosk(
        server: LiveServer, tmp_path: Path, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    config = config_for(server, tmp_path / "kiosk")
    given = "09351234567"
    with KioskStore(config.data_dir) as store:
        server.start()
        assert engine_for(config, store).run_once().leased >= 2
        server.stop()
        kiosk = make_kiosk(config, store)
        with pytest.raises(InvalidForm) as invalid:
            kiosk.take_ticket(SERVICE, mobile="۰۹۳۵")
        assert "همراه" in invalid.value.errors["mobile"] and store.pending() == []
        taken = kiosk.take_ticket(SERVICE, mobile="۰۹۳۵ ۱۲۳ ۴۵ ۶۷")  # offline, from a lease
        assert not taken.online
        [record] = store.pending()
        assert record.body is not None and record.body["mobile"] == given
        assert given.encode() in database_bytes(store)

        server.start()
        report = engine_for(config, store).run_once()
        assert report.ok and report.pushed == 1, report.summary()
        sent = store.record(record.id)
        assert sent is not None and sent.state == "sent" and sent.purged_at
        assert sent.body is not None and "mobile" not in sent.body
        assert sent.body["number"] == int(taken.label.split("-")[1])
        assert sent.response is not None and given not in json.dumps(sent.response)
        store.checkpoint()
        assert given.encode() not in database_bytes(store)
        receipt = store.find_receipt("ticket", sent.ref or "")
        assert receipt is not None and given not in json.dumps(receipt.values, default=str)
    assert server.rows(Ticket, "mobile", "kiosk_id") == [(given, server.kiosk_id)]
    assert given not in caplog.text


def test_a_drifted_clock_is_flagged_and_reported(
        server: LiveServer, tmp_path: Path) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        behind = SyncEngine(config, store, policy=POLICY,
                            clock=lambda: utcnow() - timedelta(minutes=10))
        report = behind.run_once()
        assert report.ok and report.heartbeat and report.clock_drift
        assert report.clock_offset is not None and 590 < report.clock_offset < 610
        assert store.state(CLOCK_DRIFT) == "1"
        status = Kiosk(config, store, None, None, lambda: utcnow() - timedelta(minutes=10),
                       policy=POLICY).status()
        assert status.clock_drift and status.message and "ثانیه" in status.message
        beat = server.heartbeat()
        assert beat["outbox_depth"] == 0 and beat["printer_state"] == "unknown"

        honest = engine_for(config, store).run_once()
        assert honest.clock_offset is not None and abs(honest.clock_offset) < 5
        assert not honest.clock_drift and store.state(CLOCK_DRIFT) == "0"


def test_a_refused_request_is_kept_for_staff_and_holds_nothing_back(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    wrong = kiosk_config(tmp_path / "wrong", server.url, server.kiosk_id + 1, server.token,
                         data_dir=config.data_dir)  # codes of another issuer: refused
    with KioskStore(config.data_dir) as store:
        [refused] = file_some(make_kiosk(wrong, store), demo_catalog, 1)
        [accepted] = file_some(make_kiosk(config, store), demo_catalog, 1)
        report = engine_for(config, store).run_once()
        assert report.ok and report.pushed == 2 and report.failed == 2, report.summary()
        request, document = store.failed()
        assert request.ref == refused and request.http_status == 422
        assert request.last_error and "tracking_code_issuer_mismatch" in request.last_error
        assert document.depends_on == request.id and "depends on" in (document.last_error or "")
        assert request.body is not None  # kept whole for staff
        assert server.codes() == [accepted]
        assert make_kiosk(config, store).status().failed == 2


def test_a_revoked_token_stops_the_round_without_failing_records(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    server.start()
    config = kiosk_config(tmp_path / "kiosk", server.url, server.kiosk_id, "not-the-token")
    with KioskStore(config.data_dir) as store:
        file_some(make_kiosk(config, store), demo_catalog, 1)
        report = engine_for(config, store).run_once()
        assert not report.ok and "401" in (report.error or "")
        assert store.counts() == {"pending": 2, "sent": 0, "failed": 0}


def test_online_tickets_are_told_to_the_server_at_once(
        server: LiveServer, tmp_path: Path) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        kiosk = make_kiosk(config, store)
        direct = kiosk.take_ticket(SERVICE)  # no lease yet: the server numbers it
        assert direct.online and direct.ahead == 0 and direct.ticket_id
        assert engine_for(config, store).run_once().leased >= 2
        leased = kiosk.take_ticket(SERVICE)  # a leased number, told to the server inline
        assert leased.online and leased.ahead == 1 and leased.wait is not None
        assert leased.printed is not None and leased.print_error is None
        assert store.counts() == {"pending": 0, "sent": 2, "failed": 0}
        public_ids = {public_id for (public_id,) in server.rows(Ticket, "public_id")}
        assert {direct.ticket_id, leased.ticket_id} == public_ids
        assert kiosk.reprint(leased.ticket_id).print_error is None  # by the server's id
        assert kiosk.status().online and kiosk.status().can_issue_tickets
        assert store.state(LAST_CONTACT) is not None


def test_the_background_sync_delivers_and_stops_cleanly(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        engine, stop = engine_for(config, store), threading.Event()
        kiosk = Kiosk(config, store, None, None, policy=POLICY, notify=engine.wake)
        thread = threading.Thread(target=engine.run_forever, args=(stop,))
        thread.start()
        try:
            file_some(kiosk, demo_catalog, 2)
            assert wait_until(lambda: server.count(RequestDocument) == 2, timeout=20)
        finally:
            stop.set()
            thread.join(5)
        assert not thread.is_alive()
        assert wait_until(lambda: store.counts()["pending"] == 0, timeout=5)


def test_the_sync_command_stops_on_sigterm(server: LiveServer, tmp_path: Path) -> None:
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    running = subprocess.Popen(
        [sys.executable, "-m", "kiosk", "sync", "--config", str(config.source)], cwd=ROOT,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"})
    assert wait_until(lambda: server.heartbeat() != {}, timeout=30)
    running.send_signal(signal.SIGTERM)
    out, err = running.communicate(timeout=15)
    assert running.returncode == 0, err
    assert "sync stopped" in out and "Traceback" not in err
    assert server.heartbeat()["software_version"].startswith("miz-kiosk")


# --- a sync that waits for nothing -----------------------------------------------------------

def test_a_drain_across_server_restarts_waits_only_until_the_server_answers(
        tmp_path: Path, demo_catalog: Catalog) -> None:
    server = LiveServer(tmp_path / "server", demo_catalog, delay=0.02)
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    offline = config_for(server, tmp_path / "offline", url="http://127.0.0.1:9")
    try:
        with KioskStore(config.data_dir) as store:
            assert engine_for(config, store).run_once().ok  # the catalog and leases
            file_some(make_kiosk(offline, store), demo_catalog, 30)
            # A first backoff of half a minute, doubling: any wait that ran its course, or a
            # count of failures that did not start again after progress, would show below.
            engine = engine_for(config, store, min_backoff=30.0, max_backoff=600.0,
                                probe_interval=0.1, concurrency=1, ack_group=2)
            stop = threading.Event()
            thread = threading.Thread(target=engine.run_forever, args=(stop,))
            thread.start()
            try:
                for restart in range(1, 6):
                    assert wait_until(lambda n=restart: server.count(RequestDocument) >= 4 * n,
                                      timeout=60)
                    server.stop()
                    assert wait_until(lambda n=restart: engine.pace.backoffs >= n, timeout=60)
                    server.start()
                assert wait_until(lambda: store.counts()["pending"] == 0, timeout=120)
            finally:
                stop.set()
                thread.join(10)
            assert not thread.is_alive()
        pace = engine.pace
        assert pace.backoffs >= 5 and pace.run_out == 0 and pace.cut_short == pace.backoffs
        assert pace.most_failures == 1 and pace.failures == 0  # progress started the count again
        assert server.counts() == {"requests": 30, "documents": 30, "tickets": 0, "surveys": 0}
    finally:
        server.close()


# --- a request and its documents in one call -----------------------------------------------

class NotedPosts:
    """WSGI middleware: notes the path of every POST; paths in `missing` answer 404
    `not_found`, as a server from before them does."""

    def __init__(self, app: Any, missing: tuple[str, ...] = ()) -> None:
        self.app, self.missing, self.paths = app, missing, []

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        path = environ.get("PATH_INFO", "")
        if environ.get("REQUEST_METHOD") == "POST":
            self.paths.append(path)
        if path in self.missing:
            start_response("404 NOT FOUND", [("Content-Type", "application/json")])
            return [b'{"code": "not_found", "message": "-"}']
        return self.app(environ, start_response)

    def count(self, suffix: str) -> int:
        return sum(path.endswith(suffix) for path in self.paths)


def test_a_request_and_its_documents_go_in_one_call(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    noted = server.wsgi = NotedPosts(server.wsgi)
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        codes = file_some(make_kiosk(config_for(server, tmp_path / "off", "http://127.0.0.1:9"),
                                     store), demo_catalog, 3)
        report = engine_for(config, store).run_once()
        assert report.ok and report.pushed == 6 and report.replayed == 0, report.summary()
        assert store.counts() == {"pending": 0, "sent": 6, "failed": 0}
    assert (noted.count("/filings"), noted.count("/requests"), noted.count("/documents")) \
        == (3, 0, 0)
    assert server.counts()["requests"] == server.counts()["documents"] == 3
    assert server.codes() == sorted(codes)


def test_an_older_server_gets_the_request_and_its_documents_one_by_one(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    noted = server.wsgi = NotedPosts(server.wsgi, missing=("/api/v1/filings",))
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        offline = make_kiosk(config_for(server, tmp_path / "off", "http://127.0.0.1:9"), store)
        codes = file_some(offline, demo_catalog, 3)
        engine = engine_for(config, store, concurrency=1)
        report = engine.run_once()
        assert report.ok and report.pushed == 6 and report.failed == 0, report.summary()
        codes += file_some(offline, demo_catalog, 1)
        assert engine.run_once().pushed == 2
    assert noted.count("/filings") == 1  # asked once, then remembered
    assert (noted.count("/requests"), noted.count("/documents")) == (4, 4)
    assert server.counts()["requests"] == server.counts()["documents"] == 4
    assert server.codes() == sorted(codes)


def test_a_filing_refused_for_its_document_files_the_request_and_refuses_only_the_document(
        server: LiveServer, tmp_path: Path, demo_catalog: Catalog) -> None:
    noted = server.wsgi = NotedPosts(server.wsgi)
    server.start()
    config = config_for(server, tmp_path / "kiosk")
    with KioskStore(config.data_dir) as store:
        offline = make_kiosk(config_for(server, tmp_path / "off", "http://127.0.0.1:9"), store)
        [code] = file_some(offline, demo_catalog, 1)
        [document] = store.records_for(code, "document")
        assert document.file is not None
        document.file.write_bytes(b"#!/bin/sh\nnot a scan\n")  # a scan gone bad on disk
        report = engine_for(config, store).run_once()
        assert report.ok and report.pushed == 1 and report.failed == 1, report.summary()
        [failed] = store.failed()
        assert failed.id == document.id and "document_format_not_accepted" in (
            failed.last_error or "")
    assert (noted.count("/filings"), noted.count("/requests"), noted.count("/documents")) \
        == (1, 1, 1)
    assert server.codes() == [code] and server.counts()["documents"] == 0
