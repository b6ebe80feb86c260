"""The lobby's live pages: the display board and a ticket's page, their server-sent events, and
the one board watcher per process that feeds them without a database connection per viewer."""

from __future__ import annotations

import html
import json
import os
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.pool import QueuePool
from werkzeug.test import TestResponse

from counter_server.clock import now
from counter_server.context import database
from counter_server.lobby_events import watcher_for
from counter_server.models import Counter, User
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby, TicketOrder

OFFICE, SERVICE = "isfahan-hq", "tour-guide-card"
REPO = Path(__file__).resolve().parents[2]
WAIT_SECONDS = 10.0


@pytest.fixture(autouse=True)
def stop_watcher(app: Flask) -> Iterator[None]:
    app.config["BOARD_HEARTBEAT_SECONDS"] = 0.5
    yield
    watcher_for(app).stop()


@pytest.fixture
def lobby(app: Flask, staff_users: dict[str, int]) -> dict[str, Any]:
    """A counter for the tour guides' queue and two waiting tickets."""
    with app.app_context(), database().transaction() as db:
        counter = Counter(office_slug=OFFICE, number=3, name="باجه ۳", queues=["tour-guides"])
        db.add(counter)
        db.flush()
        rules = Lobby(current_snapshot(db), now())
        tickets = [walk_in_queue.issue(db, rules, TicketOrder(client_id=str(uuid.uuid4()),
                                                      service=SERVICE, office=OFFICE),
                               enforce_hours=False).ticket.public_id for _ in range(2)]
    return {"counter": counter.id, "tickets": tickets, "clerk": staff_users["guides"]}


def call_next(app: Flask, lobby: dict[str, Any]) -> None:
    with app.app_context(), database().transaction() as db:
        rules = Lobby(current_snapshot(db), now())
        counter, clerk = db.get(Counter, lobby["counter"]), db.get(User, lobby["clerk"])
        assert counter is not None and clerk is not None
        assert walk_in_queue.call_next(db, rules, counter, clerk) is not None


def checked_out() -> int:
    """Connections of the app's pool in use now."""
    pool = database().engine.pool
    assert isinstance(pool, QueuePool)
    return pool.checkedout()


def page(client: FlaskClient, path: str, status: int = 200) -> str:
    response = client.get(path)
    assert response.status_code == status
    return html.unescape(response.get_data(as_text=True))


def events(response: TestResponse, kind: str) -> Iterator[dict[str, Any]]:
    """The `kind` events of an open stream, parsed; gives up after WAIT_SECONDS."""
    deadline = time.monotonic() + WAIT_SECONDS
    for chunk in response.response:
        assert time.monotonic() < deadline, "no event came"
        assert isinstance(chunk, bytes)
        for block in chunk.decode().split("\n\n"):
            lines = block.splitlines()
            if f"event: {kind}" in lines:
                yield json.loads(next(line[6:] for line in lines if line.startswith("data: ")))


def next_event(response: TestResponse, kind: str, check: Any = lambda _data: True
               ) -> dict[str, Any]:
    return next(data for data in events(response, kind) if check(data))


def test_display_page_shows_the_board_in_persian(client: FlaskClient, app: Flask,
                                                 lobby: dict[str, Any]) -> None:
    call_next(app, lobby)
    text = page(client, f"/display/{OFFICE}")
    for words in ("ساختمان مرکزی اداره کل (اصفهان)", "آخرین فراخوان", "در حال خدمت",
                  "فراخوان‌های اخیر", "منتظران هر صف", "شروع نمایش", "ب-۰۰۱", "باجه", "۳",
                  "راهنمایان و آزمون‌های گردشگری"):
        assert words in text
    assert '<body class="display">' in text
    assert "/static/display.js" in text and "/static/lobby.css" in text
    assert "<script>" not in text and "style=" not in text  # the CSP allows neither


def test_ticket_page_shows_place_in_line(client: FlaskClient, lobby: dict[str, Any]) -> None:
    text = page(client, f"/q/{lobby['tickets'][1]}")
    assert "ب-۰۰۲" in text and "راهنمایان و آزمون‌های گردشگری" in text
    assert "نفرات پیش از شما" in text and '<span data-field="ahead_fa">۱</span> نفر' in text
    assert "زمان تقریبی انتظار" in text and "۶ تا ۲۰ دقیقه" in text  # nothing measured yet
    assert "چاپ نوبت" not in text and "qr.svg" not in text


def test_ticket_page_prints_with_its_qr(client: FlaskClient, lobby: dict[str, Any]) -> None:
    public_id = lobby["tickets"][0]
    text = page(client, f"/q/{public_id}?print=1")
    assert "چاپ نوبت" in text and "data-print" in text and "/static/print.js" in text
    assert f"/q/{public_id}/qr.svg" in text and f"/q/{public_id}</bdi>" in text
    svg = client.get(f"/q/{public_id}/qr.svg")
    assert svg.status_code == 200 and svg.mimetype == "image/svg+xml"


def test_chime_is_served(client: FlaskClient) -> None:
    response = client.get("/assets/sounds/chime.wav")
    assert response.status_code == 200 and response.data[:4] == b"RIFF"


@pytest.mark.parametrize("path", ["/display/nowhere", "/display/nowhere/events",
                                  "/q/no-such-ticket", "/q/no-such-ticket/events",
                                  "/q/no-such-ticket/qr.svg", "/q/" + "x" * 40])
def test_unknown_office_or_ticket_is_a_persian_404(client: FlaskClient, path: str) -> None:
    assert "صفحه پیدا نشد" in page(client, path, 404)


def test_board_stream_starts_with_the_board(client: FlaskClient, app: Flask,
                                            lobby: dict[str, Any]) -> None:
    call_next(app, lobby)
    response = client.get(f"/display/{OFFICE}/events", buffered=False)
    try:
        assert response.mimetype == "text/event-stream"
        assert response.headers["Cache-Control"] == "no-cache"
        assert response.headers["X-Accel-Buffering"] == "no"
        first = next(iter(response.response))
        assert isinstance(first, bytes)
        assert first.startswith(b"retry: ")
        board = json.loads(next(line[6:] for line in first.decode().splitlines()
                                if line.startswith("data: ")))
    finally:
        response.close()
    assert board["office"]["slug"] == OFFICE
    assert board["serving"][0] == {"ticket": "ب-۰۰۱", "counter": "۳", "counter_name": "باجه ۳",
                                   "status": "called"}
    assert board["calls"][0]["ticket"] == "ب-۰۰۱"
    waiting = {row["queue"]: row["count_fa"] for row in board["waiting"]}
    assert waiting["راهنمایان و آزمون‌های گردشگری"] == "۱"


def test_ticket_stream_follows_calls(client: FlaskClient, app: Flask,
                                     lobby: dict[str, Any]) -> None:
    first, second = lobby["tickets"]
    mine = client.get(f"/q/{second}/events", buffered=False)
    try:
        assert next_event(mine, "ticket")["ahead_fa"] == "۱"
        call_next(app, lobby)
        now_first = next_event(mine, "ticket")
        assert now_first["ahead"] == 0 and now_first["status"] == "waiting"
    finally:
        mine.close()
    theirs = client.get(f"/q/{first}/events", buffered=False)
    try:
        called = next_event(theirs, "ticket")
    finally:
        theirs.close()
    assert called["status"] == "called" and called["counter"] == "۳"
    assert called["message"] == "نوبت شما رسید؛ لطفاً به باجه ۳ بروید."


def test_viewers_hold_no_database_connection(client: FlaskClient, app: Flask,
                                             lobby: dict[str, Any]) -> None:
    paths = [f"/display/{OFFICE}/events"] * 4 + [f"/q/{t}/events" for t in lobby["tickets"]] * 2
    streams = [client.get(path, buffered=False) for path in paths]
    watcher = watcher_for(app)
    try:
        for stream, path in zip(streams, paths, strict=True):
            next_event(stream, "board" if path.startswith("/display") else "ticket")
        assert watcher.viewer_count() == len(streams)
        assert [t.name for t in threading.enumerate()].count(watcher.thread_name) == 1
        with app.app_context():
            assert checked_out() <= 1  # the watcher, mid-poll at most
        call_next(app, lobby)
        boards = [next_event(s, "board", lambda b: b["calls"]) for s in streams[:4]]
        assert {b["calls"][0]["ticket"] for b in boards} == {"ب-۰۰۱"}
        with app.app_context():
            assert checked_out() <= 1
    finally:
        for stream in streams:
            stream.close()
    assert watcher.viewer_count() == 0


CALL_FROM_ANOTHER_PROCESS = """
import sys
from counter_server import create_app
from counter_server.clock import now
from counter_server.context import database
from counter_server.models import Counter, User
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import current_snapshot
from counter_server.usecases.walk_in_queue import Lobby

url, instance, counter_id, user_id = sys.argv[1:]
app = create_app({"DATABASE_URL": url, "SECRET_KEY": "other", "INSTANCE_PATH": instance})
with app.app_context(), database().transaction() as db:
    rules = Lobby(current_snapshot(db), now())
    counter, clerk = db.get(Counter, int(counter_id)), db.get(User, int(user_id))
    ticket = walk_in_queue.call_next(db, rules, counter, clerk)
    print(ticket.number)
"""


def test_a_call_made_by_another_process_reaches_the_board(client: FlaskClient, app: Flask,
                                                          lobby: dict[str, Any],
                                                          tmp_path: Path) -> None:
    stream = client.get(f"/display/{OFFICE}/events", buffered=False)
    try:
        assert next_event(stream, "board")["calls"] == []
        done = subprocess.run(
            [sys.executable, "-c", CALL_FROM_ANOTHER_PROCESS, app.config["DATABASE_URL"],
             str(tmp_path / "other"), str(lobby["counter"]), str(lobby["clerk"])],
            cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)}, capture_output=True,
            text=True, timeout=60, check=False)
        assert done.returncode == 0, done.stderr
        board = next_event(stream, "board", lambda b: b["calls"])
    finally:
        stream.close()
    assert board["calls"][0]["ticket"] == "ب-۰۰۱" and board["calls"][0]["counter"] == "۳"


def test_watcher_thread_ends_when_stopped(client: FlaskClient, app: Flask) -> None:
    stream = client.get(f"/display/{OFFICE}/events", buffered=False)
    watcher = watcher_for(app)
    try:
        next_event(stream, "board")
        assert watcher.running
        watcher.stop()
        assert not watcher.running
        assert list(stream.response) == []  # the stream ended too
    finally:
        stream.close()


def refusal(client: FlaskClient, path: str, code: str) -> None:
    """`path` is refused for being over a limit: 503, Retry-After, the code and the words."""
    response = client.get(path, buffered=False)
    try:
        assert response.status_code == 503
        assert response.headers["Retry-After"] == "30"
        body = response.get_json()
    finally:
        response.close()
    assert body["code"] == code
    assert "کمی بعد خودش دوباره وصل می‌شود" in body["message"]


def test_ticket_streams_are_counted_by_ticket(client: FlaskClient, app: Flask,
                                              lobby: dict[str, Any]) -> None:
    app.config.update(STREAM_PER_TICKET=2, STREAM_TICKETS_MAX=3)
    first, second = lobby["tickets"]
    streams = [client.get(f"/q/{first}/events", buffered=False) for _ in range(2)]
    try:
        for stream in streams:
            assert next_event(stream, "ticket")["id"] == first
        refusal(client, f"/q/{first}/events", "ticket_streams_full")
        streams.append(client.get(f"/q/{second}/events", buffered=False))
        assert next_event(streams[-1], "ticket")["id"] == second  # another ticket is welcome
        refusal(client, f"/q/{second}/events", "streams_full")  # until the process is full
        streams.pop(0).close()  # a closed stream gives its place back, read or not
        unread = client.get(f"/q/{first}/events", buffered=False)
        assert unread.status_code == 200
        unread.close()
        assert watcher_for(app).viewer_count() == 2
    finally:
        for stream in streams:
            stream.close()
    assert watcher_for(app).viewer_count() == 0


def test_board_streams_are_counted_by_office(client: FlaskClient, app: Flask) -> None:
    app.config.update(STREAM_BOARDS_PER_OFFICE=1, STREAM_BOARDS_MAX=2)
    streams = [client.get(f"/display/{OFFICE}/events", buffered=False)]
    try:
        next_event(streams[0], "board")
        refusal(client, f"/display/{OFFICE}/events", "board_streams_full")
        streams.append(client.get("/display/kashan/events", buffered=False))
        assert next_event(streams[-1], "board")["office"]["slug"] == "kashan"
        app.config.update(STREAM_BOARDS_PER_OFFICE=5)
        refusal(client, f"/display/{OFFICE}/events", "streams_full")
    finally:
        for stream in streams:
            stream.close()


def test_no_streams_where_the_limits_are_zero(client: FlaskClient, app: Flask,
                                              lobby: dict[str, Any]) -> None:
    """The API's server is started with no room for streams: a misrouted one is refused at
    once instead of holding one of its threads."""
    app.config.update(STREAM_BOARDS_MAX=0, STREAM_TICKETS_MAX=0)
    refusal(client, f"/display/{OFFICE}/events", "streams_full")
    refusal(client, f"/q/{lobby['tickets'][0]}/events", "streams_full")
    assert watcher_for(app).viewer_count() == 0


def test_a_stream_ends_after_its_lifetime_asking_to_reconnect(client: FlaskClient, app: Flask,
                                                              lobby: dict[str, Any]) -> None:
    app.config["STREAM_MAX_SECONDS"] = 1.0
    stream = client.get(f"/q/{lobby['tickets'][0]}/events", buffered=False)
    try:
        chunks = [chunk.decode() for chunk in stream.response]  # type: ignore[union-attr]
    finally:
        stream.close()
    assert "event: ticket" in chunks[0]
    assert chunks[-1].endswith("event: reconnect\ndata: {}\n\n")
    assert all("event: reconnect" not in chunk for chunk in chunks[:-1])
    assert watcher_for(app).viewer_count() == 0
