"""Live streams cannot stall the server: the README's two gunicorn servers, started for real —
the API's (threads, no room for streams) and the streams' own (gevent) — with 300 phone
streams and 10 board streams open. The API still answers, a stream over its limit is refused
with 503 and Retry-After, and every stream ends after its lifetime asking the page to
reconnect."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from flask import Flask

from counter_server.clock import now
from counter_server.context import database
from counter_server.usecases import kiosks, walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby, TicketOrder

REPO = Path(__file__).resolve().parents[2]
APP = "counter_server:create_app()"
# The README's "Running it for real", word for word (but the address).
API_SERVER = ["--worker-class", "gthread", "--workers", "2", "--threads", "32",
              "--no-control-socket"]
STREAM_SERVER = ["--worker-class", "gevent", "--workers", "1", "--worker-connections", "4000",
                 "--no-control-socket"]
CLIENT_TIMEOUT = 5.0  # seconds: what the kiosk and the desk would wait, not a measurement
OFFICES, SERVICE = ("isfahan-hq", "kashan"), "tour-guide-card"
TICKETS, PER_TICKET, BOARDS_PER_OFFICE = 100, 3, 5
LIFETIME = 20  # STREAM_MAX_SECONDS: a stream lives 16 to 20 s
STREAM_LIMITS = {"MIZ_STREAM_BOARDS_MAX": "10", "MIZ_STREAM_BOARDS_PER_OFFICE": "5",
                 "MIZ_STREAM_TICKETS_MAX": str(TICKETS * PER_TICKET),
                 "MIZ_STREAM_PER_TICKET": str(PER_TICKET), "MIZ_STREAM_MAX_SECONDS": str(LIFETIME)}
NO_STREAMS = {"MIZ_STREAM_BOARDS_MAX": "0", "MIZ_STREAM_TICKETS_MAX": "0"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Gunicorn:
    """`gunicorn <flags> counter_server:create_app()` (or `app`) on a free port, in its own
    process (and its own process group with `own_group`, so the whole server can be killed)."""

    def __init__(self, flags: list[str], env: dict[str, str], folder: Path, app: str = APP,
                 own_group: bool = False):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = folder / "gunicorn.log"
        folder.mkdir(parents=True, exist_ok=True)
        with self.log.open("wb") as log:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", *flags, "--graceful-timeout", "3",
                 "--bind", f"127.0.0.1:{self.port}", app],
                cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO),
                               "MIZ_INSTANCE_PATH": str(folder), **env},
                stdout=log, stderr=subprocess.STDOUT, start_new_session=own_group)

    def wait_until_up(self) -> None:
        for _ in range(300):
            assert self.process.poll() is None, self.log.read_text()
            try:
                if requests.get(f"{self.url}/healthz", timeout=CLIENT_TIMEOUT).ok:
                    return
            except (requests.ConnectionError, requests.Timeout):  # still booting
                time.sleep(0.1)
        pytest.fail(f"gunicorn did not start:\n{self.log.read_text()}")

    def stop(self) -> None:
        self.process.send_signal(signal.SIGINT)  # quick shutdown
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


class RawStream:
    """One event stream over a socket of its own, read as it comes."""

    def __init__(self, url: str, path: str):
        host, port = url.removeprefix("http://").split(":")
        self.socket = socket.create_connection((host, int(port)), timeout=CLIENT_TIMEOUT)
        self.socket.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
                            "Accept: text/event-stream\r\nConnection: close\r\n\r\n".encode())
        self.data = b""

    def read_until(self, marker: bytes, deadline: float) -> None:
        """Read until `marker` came or the server closed the connection."""
        while marker not in self.data:
            self.socket.settimeout(max(0.01, deadline - time.monotonic()))
            chunk = self.socket.recv(65536)
            if not chunk:
                return
            self.data += chunk

    @property
    def status(self) -> int:
        return int(self.data.split(b" ", 2)[1])

    def headers(self) -> dict[str, str]:
        head = self.data.split(b"\r\n\r\n", 1)[0].decode("latin-1").split("\r\n")[1:]
        return {name.lower(): value.strip() for name, value in
                (line.split(":", 1) for line in head)}

    def close(self) -> None:
        self.socket.close()


def open_streams(url: str, paths: list[str], kind: str) -> list[RawStream]:
    """Streams on every path, each answered with its first `kind` event."""
    streams = [RawStream(url, path) for path in paths]
    for stream in streams:
        stream.read_until(f"event: {kind}\n".encode(), time.monotonic() + 3 * CLIENT_TIMEOUT)
        assert stream.data.startswith(b"HTTP/1.1 200"), stream.data[:300]
    return streams


def refused(url: str, path: str, code: str) -> None:
    """`path` is refused at once: 503, Retry-After, a stable code and a Persian message."""
    stream = RawStream(url, path)
    try:
        stream.read_until(b"}", time.monotonic() + CLIENT_TIMEOUT)
    finally:
        stream.close()
    assert stream.status == 503, stream.data[:300]
    assert stream.headers()["retry-after"] == "30"
    body = json.loads(stream.data.split(b"\r\n\r\n", 1)[1].decode())
    assert body["code"] == code
    assert "دوباره وصل می‌شود" in body["message"]


@pytest.fixture
def tickets(app: Flask) -> list[str]:
    with app.app_context(), database().transaction() as db:
        rules = Lobby(current_snapshot(db), now())
        return [walk_in_queue.issue(db, rules, TicketOrder(client_id=str(uuid.uuid4()),
                                                           service=SERVICE, office=OFFICES[0]),
                                    enforce_hours=False).ticket.public_id
                for _ in range(TICKETS + 1)]


@pytest.fixture
def kiosk(app: Flask) -> dict[str, str]:
    with app.app_context(), database().transaction() as db:
        token = kiosks.register_kiosk(db, "lobby", OFFICES[0]).token
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def servers(app: Flask, tmp_path: Path) -> Iterator[tuple[Gunicorn, Gunicorn]]:
    """The API's server and the streams' server, on the app's database."""
    common = {"DATABASE_URL": app.config["DATABASE_URL"], "MIZ_SECRET_KEY": "streams-test",
              "MIZ_ENFORCE_QUEUE_HOURS": "false", "MIZ_SMS_QUIET_HOURS": '""',
              "MIZ_BOARD_HEARTBEAT_SECONDS": "5"}
    started = [Gunicorn(API_SERVER, {**common, **NO_STREAMS}, tmp_path / "api"),
               Gunicorn(STREAM_SERVER, {**common, **STREAM_LIMITS}, tmp_path / "streams")]
    try:
        for server in started:
            server.wait_until_up()
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def take_ticket(api: Gunicorn, kiosk: dict[str, str]) -> dict[str, object]:
    answer = requests.post(f"{api.url}/api/v1/tickets", headers=kiosk, timeout=CLIENT_TIMEOUT,
                           json={"client_id": str(uuid.uuid4()), "service": SERVICE})
    assert answer.status_code == 201, answer.text
    return answer.json()


def test_300_open_streams_leave_the_api_answering(servers: tuple[Gunicorn, Gunicorn],
                                                   tickets: list[str],
                                                   kiosk: dict[str, str]) -> None:
    api, live = servers
    boards = open_streams(live.url, [f"/display/{office}/events" for office in OFFICES
                                     for _ in range(BOARDS_PER_OFFICE)], "board")
    refused(live.url, f"/display/{OFFICES[0]}/events", "board_streams_full")
    phones = open_streams(live.url, [f"/q/{ticket}/events" for ticket in tickets[:TICKETS]
                                     for _ in range(PER_TICKET)], "ticket")
    streams = boards + phones
    assert len(phones) == 300
    try:
        refused(live.url, f"/q/{tickets[0]}/events", "ticket_streams_full")
        refused(live.url, f"/q/{tickets[TICKETS]}/events", "streams_full")
        refused(api.url, f"/q/{tickets[TICKETS]}/events", "streams_full")  # misrouted

        for _ in range(3):
            health = requests.get(f"{api.url}/healthz", timeout=CLIENT_TIMEOUT)
            assert health.json() == {"status": "ok", "database": "ok", "catalog_version": 1}
            taken = take_ticket(api, kiosk)
            assert taken["queue"] == "tour-guides" and str(taken["number"]).startswith("B-")
        assert requests.get(f"{live.url}/healthz", timeout=CLIENT_TIMEOUT).ok

        deadline = time.monotonic() + LIFETIME + 15
        for stream in streams:
            stream.read_until(b"\r\n0\r\n\r\n", deadline)  # the last chunk, then closed
            assert b"event: reconnect\ndata: {}\n\n" in stream.data, stream.data[-300:]
    finally:
        for stream in streams:
            stream.close()
    again = open_streams(live.url, [f"/q/{tickets[TICKETS]}/events"], "ticket")  # room again
    again[0].close()


def test_readme_runs_these_servers() -> None:
    readme = (REPO / "README.md").read_text()
    assert f"gunicorn {' '.join(API_SERVER)}" in readme
    assert f"gunicorn {' '.join(STREAM_SERVER)}" in readme
