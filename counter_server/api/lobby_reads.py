"""The lobby's polled reads — an office's board and one ticket's state — as replies made once
per cached view, and a WSGI layer that sends them before Flask's dispatch.

`board_reply` and `ticket_reply` are the one source of both replies: the Flask views return
them, and `LobbyReads` sends the same bytes and headers (plus the headers every response
carries, `security.response_headers`) when the office's cached view is fresh — looked at
within `LOBBY_CACHE_SECONDS`, of today and of the catalog this process read within a second —
and the request is a plain `GET` (no query string, cookie or `Authorization`: a kiosk's call
is counted against its quota by the app). Anything else goes to the app, which looks again.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask import Flask
from sqlalchemy import Row
from werkzeug.http import HTTP_STATUS_CODES, parse_etags

from counter_server import security
from counter_server.api.schemas import TICKET_ID
from counter_server.clock import now_for
from counter_server.models import Ticket
from counter_server.usecases import walk_in_queue
from counter_server.usecases.catalog_versions import known_snapshot
from counter_server.usecases.lobby_cache import EXTENSION, LobbyCache, OfficeView, json_body
from counter_server.usecases.walk_in_queue import Estimate, Lobby
from shared.receipts import ticket_url

if TYPE_CHECKING:
    from _typeshed.wsgi import StartResponse, WSGIApplication, WSGIEnvironment

JSON = "application/json"
# The app's answer to a call with a cookie may differ (a member of staff's session); the app
# says so on every reply whose request looked at the session, these included.
VARY = ("Vary", "Cookie")
PREFIX = "/api/v1/"
BOARD_PATH = re.compile(r"/api/v1/offices/([^/]+)/board")
TICKET_PATH = re.compile(rf"/api/v1/tickets/({TICKET_ID})")


@dataclass(frozen=True)
class Reply:
    """A reply without the headers every response carries."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes

    @property
    def status_line(self) -> str:
        return f"{self.status} {HTTP_STATUS_CODES[self.status].upper()}"  # as werkzeug


def json_reply(body: bytes, *headers: tuple[str, str]) -> Reply:
    """200 with a JSON body (`lobby_cache.json_body`)."""
    return Reply(200, (("Content-Type", JSON), ("Content-Length", str(len(body))), *headers),
                 body)


def board_reply(view: OfficeView, if_none_match: str | None) -> Reply:
    """The board of `view`, or 304 when `If-None-Match` names its ETag."""
    headers = (("ETag", view.etag), ("Cache-Control", "no-cache"), VARY)
    if if_none_match and parse_etags(if_none_match).contains_weak(view.etag.strip('"')):
        return Reply(304, headers, b"")
    return json_reply(view.board, *headers)


def ticket_state(rules: Lobby, ticket: Ticket | Row[Any], ahead: int, guess: Estimate,
                 base_url: str, with_code: bool = False) -> dict[str, Any]:
    """The ticket as the API answers it; `with_code` (to whoever issued it) adds the tracking
    code of its request, which the public ticket page must not reveal."""
    spec = rules.queue(ticket.queue_slug)
    return {
        "id": ticket.public_id, "number": spec.ticket_label(ticket.number, persian=False),
        "number_fa": spec.ticket_label(ticket.number), "queue": spec.slug,
        "queue_title": spec.title, "service": ticket.service_slug, "office": ticket.office_slug,
        "priority": ticket.priority, "status": ticket.status,
        "status_label": walk_in_queue.STATUS_LABELS[ticket.status], "ahead": ahead,
        "estimated_wait_minutes": guess.minutes,
        "estimated_wait_range": list(guess.range) if guess.range else None,
        "issued_at": ticket.issued_at.isoformat(), "day": ticket.day.isoformat(),
        "tracking_code": ticket.tracking_code if with_code else None,
        "url": ticket_url(base_url, ticket.public_id),
    }


def ticket_reply(rules: Lobby, view: OfficeView, ticket: Row[Any]) -> Reply:
    """The state of a ticket `view` holds (made once per view)."""
    body = view.states.get(ticket.public_id)
    if body is None:
        ahead = view.ahead(ticket)
        body = json_body(ticket_state(rules, ticket, ahead, view.estimate(ticket, ahead),
                                      rules.snapshot.public_url()))
        view.states[ticket.public_id] = body
    return json_reply(body, VARY)


class LobbyReads:
    """WSGI layer in front of the app: answers the lobby's polled reads from a fresh cached
    view, and hands every other request (and any read whose view is not fresh) to the app."""

    def __init__(self, app: Flask, wsgi_app: WSGIApplication) -> None:
        self.app, self.wsgi_app = app, wsgi_app
        self.pool = app.extensions["miz.db"].engine.pool
        self.common = security.response_headers(app.config)

    def __call__(self, environ: WSGIEnvironment, start_response: StartResponse
                 ) -> Iterable[bytes]:
        reply = self.answer(environ)
        if reply is None:
            return self.wsgi_app(environ, start_response)
        start_response(reply.status_line, [*reply.headers, *self.common])
        return [reply.body]

    def answer(self, environ: WSGIEnvironment) -> Reply | None:
        """The reply from the cache, or None for the app to answer."""
        path: str = environ.get("PATH_INFO", "")
        if not path.startswith(PREFIX) or environ.get("REQUEST_METHOD") != "GET" \
                or environ.get("QUERY_STRING") or "HTTP_COOKIE" in environ \
                or "HTTP_AUTHORIZATION" in environ:
            return None
        cache: LobbyCache | None = self.app.extensions.get(EXTENSION)
        snapshot = known_snapshot(self.pool)
        if cache is None or snapshot is None:
            return None
        rules = Lobby(snapshot, now_for(self.app.config))
        max_age = float(self.app.config["LOBBY_CACHE_SECONDS"])
        if match := BOARD_PATH.fullmatch(path):
            view = cache.fresh(match[1], rules, max_age)
            return None if view is None else board_reply(view, environ.get("HTTP_IF_NONE_MATCH"))
        if match := TICKET_PATH.fullmatch(path):
            public_id = match[1][:16]
            office = cache.office_of(public_id)
            view = cache.fresh(office, rules, max_age) if office is not None else None
            ticket = view.tickets.get(public_id) if view is not None else None
            return None if view is None or ticket is None else ticket_reply(rules, view, ticket)
        return None


def init_app(app: Flask) -> None:
    """Put the layer in front of the app (outermost: it needs none of the other layers)."""
    app.wsgi_app = LobbyReads(app, app.wsgi_app)  # type: ignore[method-assign]
