"""The lobby's polled reads from each process's cache: an office's board with its ETag (304 when
unchanged) and a ticket's state, rebuilt when another process moves the office's lobby."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from counter_server.context import database
from counter_server.models import Counter, User
from counter_server.usecases import walk_in_queue
from tests.server.test_queue import MORNING, OFFICE, at, run
from tests.server.test_queue_web import kiosk, lobby_app, take  # noqa: F401  (fixtures)

BOARD = f"/api/v1/offices/{OFFICE}/board"
GUIDES = "راهنمایان و آزمون‌های گردشگری"


def waiting(board: dict[str, Any]) -> int:
    return next(w["count"] for w in board["waiting"] if w["queue"] == GUIDES)


def issue_in_another_process(app: Flask) -> None:
    """A ticket issued by a separate Python process on the same database (as another server
    process of the same deployment would)."""
    script = textwrap.dedent(f"""
        import uuid
        from datetime import datetime
        from counter_server.db import Database
        from counter_server.usecases import walk_in_queue
        from counter_server.usecases.catalog_versions import current_snapshot
        from counter_server.usecases.walk_in_queue import Lobby, TicketOrder
        database = Database({app.config["DATABASE_URL"]!r})
        with database.transaction() as session:
            rules = Lobby(current_snapshot(session), datetime.fromisoformat({
                app.config["CLOCK"]().isoformat()!r}))
            walk_in_queue.issue(session, rules, TicketOrder(
                client_id=str(uuid.uuid4()), service="tour-guide-card", office={OFFICE!r}))
    """)
    subprocess.run([sys.executable, "-c", script], check=True, timeout=120)


def test_an_unchanged_board_answers_304(lobby_app: Flask, client: FlaskClient,  # noqa: F811
                                        kiosk: dict[str, str]) -> None:  # noqa: F811
    take(client, kiosk)
    first = client.get(BOARD)
    etag = first.headers["ETag"]
    assert waiting(first.get_json()) == 1 and first.headers["Cache-Control"] == "no-cache"
    again = client.get(BOARD, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.data == b"" and again.headers["ETag"] == etag
    take(client, kiosk)
    changed = client.get(BOARD, headers={"If-None-Match": etag})
    assert changed.status_code == 200 and waiting(changed.get_json()) == 2
    assert changed.headers["ETag"] != etag


def test_the_cached_lobby_follows_changes_made_elsewhere(
        lobby_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:  # noqa: F811
    mine = take(client, kiosk).get_json()
    before = client.get(BOARD)
    assert waiting(before.get_json()) == 1
    issue_in_another_process(lobby_app)
    after = client.get(BOARD, headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200 and waiting(after.get_json()) == 2
    assert after.get_json()["version"] > before.get_json()["version"]
    assert client.get(f"/api/v1/tickets/{mine['id']}").get_json()["ahead"] == 0
    run(lobby_app, lambda s: walk_in_queue.call_next(
        s, at(MORNING)(s), s.scalars(select(Counter)).first(), s.scalars(select(User)).first()))
    state = client.get(f"/api/v1/tickets/{mine['id']}").get_json()
    assert (state["status"], state["ahead"], state["estimated_wait_minutes"]) == ("called", 0, 0)


def test_within_its_age_a_cached_board_costs_no_lobby_query(
        lobby_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:  # noqa: F811
    lobby_app.config["LOBBY_CACHE_SECONDS"] = 3600
    ticket = take(client, kiosk).get_json()
    first = client.get(BOARD).get_json()
    statements: list[str] = []
    with lobby_app.app_context():
        engine = database().engine

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", seen)
    try:
        assert client.get(BOARD).get_json() == first
        state = client.get(f"/api/v1/tickets/{ticket['id']}").get_json()
    finally:
        event.remove(engine, "before_cursor_execute", seen)
    assert state["ahead"] == 0 and state["estimated_wait_range"] == [3, 10]
    lobby = [s for s in statements if "ticket_events" in s or "queue_days" in s
             or "FROM counters" in s]
    assert lobby == [] and not any("FROM tickets" in s for s in statements)
