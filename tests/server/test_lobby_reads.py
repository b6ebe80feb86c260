"""The lobby's polled reads answered before Flask's dispatch (`api/lobby_reads.py`): the same
bytes and headers as the Flask views, only from a fresh cached view, and everything else
left to the app."""

from __future__ import annotations

import time
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from werkzeug.test import EnvironBuilder, run_wsgi_app

from counter_server.api.lobby_reads import LobbyReads
from tests.server.test_lobby_cache import BOARD, issue_in_another_process, waiting
from tests.server.test_queue_web import kiosk, lobby_app, take  # noqa: F401  (fixtures)

Answer = tuple[str, list[tuple[str, str]], bytes]


def layer(app: Flask) -> LobbyReads:
    assert isinstance(app.wsgi_app, LobbyReads)
    return app.wsgi_app


def environ(path: str, headers: dict[str, str] | None = None, **options: Any) -> dict[str, Any]:
    return EnvironBuilder(path=path, headers=headers, **options).get_environ()


def answer(wsgi: Any, path: str, headers: dict[str, str] | None = None) -> Answer:
    """Status line, every header in order, and the body, as `wsgi` sends them."""
    body, status, sent = run_wsgi_app(wsgi, environ(path, headers), buffered=True)
    return status, sent.to_wsgi_list(), b"".join(body)


def fast(app: Flask, path: str, headers: dict[str, str] | None = None) -> Answer:
    """The answer of the layer itself (it must not fall through to the app)."""
    assert layer(app).answer(environ(path, headers)) is not None
    return answer(layer(app), path, headers)


def flask(app: Flask, path: str, headers: dict[str, str] | None = None) -> Answer:
    """The answer of the Flask app behind the layer."""
    return answer(layer(app).wsgi_app, path, headers)


@pytest.fixture
def cached_app(lobby_app: Flask) -> Flask:  # noqa: F811
    """The app whose lobby reads, once the test has taken its tickets (`cache`), are
    answered from the cache for an hour."""
    return lobby_app


def cache(app: Flask, client: FlaskClient) -> None:
    """Read the board once (the view is then as of now), and keep views for an hour."""
    app.config["LOBBY_CACHE_SECONDS"] = 3600
    assert client.get(BOARD).status_code == 200


def test_the_layer_and_the_views_send_the_same_bytes_and_headers(
        cached_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:  # noqa: F811
    take(client, kiosk)
    ticket = take(client, kiosk).get_json()["id"]
    cache(cached_app, client)
    from_app = flask(cached_app, BOARD)
    assert from_app == fast(cached_app, BOARD)
    status, headers, body = from_app
    assert status == "200 OK" and waiting(client.get(BOARD).get_json()) == 2
    names = [name for name, _ in headers]
    assert names[:4] == ["Content-Type", "Content-Length", "ETag", "Cache-Control"]
    assert {"Content-Security-Policy", "X-Content-Type-Options", "X-Frame-Options"} <= set(names)
    etag = dict(headers)["ETag"]
    unchanged = flask(cached_app, BOARD, {"If-None-Match": etag})
    assert unchanged[0] == "304 NOT MODIFIED" and unchanged[2] == b""
    assert unchanged == fast(cached_app, BOARD, {"If-None-Match": etag})
    assert fast(cached_app, BOARD, {"If-None-Match": '"other"'}) == from_app
    state = flask(cached_app, f"/api/v1/tickets/{ticket}")
    assert state == fast(cached_app, f"/api/v1/tickets/{ticket}")
    assert client.get(f"/api/v1/tickets/{ticket}").get_json()["ahead"] == 1


def test_in_production_the_layer_sends_hsts_as_the_app_does(
        cached_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:  # noqa: F811
    cached_app.config["ENV"] = "production"
    production = LobbyReads(cached_app, layer(cached_app).wsgi_app)
    take(client, kiosk)
    cache(cached_app, client)
    headers = dict(answer(production, BOARD)[1])
    assert headers["Strict-Transport-Security"].startswith("max-age=")


@pytest.mark.parametrize("options", [
    {"headers": {"Cookie": "session=x"}}, {"headers": {"Authorization": "Bearer x"}},
    {"query_string": "t=1"}, {"method": "HEAD"}, {"method": "POST"},
])
def test_calls_that_are_not_plain_gets_go_to_the_app(
        cached_app: Flask, client: FlaskClient, kiosk: dict[str, str],  # noqa: F811
        options: dict[str, Any]) -> None:
    take(client, kiosk)
    cache(cached_app, client)
    assert layer(cached_app).answer(environ(BOARD)) is not None
    assert layer(cached_app).answer(environ(BOARD, **options)) is None


def test_what_the_cache_does_not_hold_goes_to_the_app(
        cached_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:  # noqa: F811
    cached_app.config["LOBBY_CACHE_SECONDS"] = 3600
    assert layer(cached_app).answer(environ(BOARD)) is None  # nothing read yet
    ticket = take(client, kiosk).get_json()["id"]
    for path in ("/api/v1/offices/nowhere/board", f"{BOARD}/", "/api/v1/tickets/AAAAAAAAAAAA",
                 "/api/v1/tickets/leases", f"/api/v1/tickets/{ticket}x"):
        assert layer(cached_app).answer(environ(path)) is None
    assert client.get("/api/v1/offices/nowhere/board").get_json()["code"] == "office_not_found"
    assert client.get("/api/v1/tickets/AAAAAAAAAAAA").status_code == 404


def test_a_change_made_by_another_process_shows_within_lobby_cache_seconds(
        lobby_app: Flask, client: FlaskClient, kiosk: dict[str, str]) -> None:  # noqa: F811
    lobby_app.config["LOBBY_CACHE_SECONDS"] = 1
    mine = take(client, kiosk).get_json()["id"]
    client.get(BOARD)
    before = fast(lobby_app, BOARD)
    assert waiting(client.get(BOARD).get_json()) == 1
    issue_in_another_process(lobby_app)
    time.sleep(1.05)  # LOBBY_CACHE_SECONDS: the view is not fresh any more
    assert layer(lobby_app).answer(environ(BOARD)) is None
    after = client.get(BOARD)
    assert waiting(after.get_json()) == 2 and after.headers["ETag"] != dict(before[1])["ETag"]
    assert fast(lobby_app, BOARD)[2] == after.data  # fresh again: the layer answers
    assert fast(lobby_app, f"/api/v1/tickets/{mine}") == flask(lobby_app, f"/api/v1/tickets/{mine}")
