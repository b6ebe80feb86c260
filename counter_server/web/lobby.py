"""The lobby's public pages: the office's display board on the TV, and a ticket's page on the
citizen's phone (the ticket's QR opens it); both follow the queue live over server-sent events."""

from __future__ import annotations

from flask import Response, abort, current_app, jsonify, render_template, request
from sqlalchemy import select

from counter_server import lobby_events
from counter_server.clock import now
from counter_server.context import close_session, public_url, session
from counter_server.models import Ticket
from counter_server.usecases import catalog_versions
from counter_server.usecases import walk_in_queue
from counter_server.usecases.walk_in_queue import Lobby, QueueError
from counter_server.web import bp
from counter_server.web.qr import qr_svg
from shared.catalog.schema import Office
from shared.receipts import ticket_url

PUBLIC_ID_LENGTH = 16
STREAM_HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def _lobby() -> Lobby:
    try:
        return Lobby(catalog_versions.current_snapshot(session()), now())
    except catalog_versions.NoCatalog:
        abort(503)


def _office(rules: Lobby, slug: str) -> Office:
    try:
        return rules.office(slug)
    except QueueError:
        abort(404)


def _ticket(public_id: str) -> Ticket:
    ticket = None
    if len(public_id) <= PUBLIC_ID_LENGTH:
        ticket = session().scalar(select(Ticket).where(Ticket.public_id == public_id))
    if ticket is None:
        abort(404)
    return ticket


def _events(kind: str, key: str, office: str) -> Response:
    """An SSE response; the request's own session is closed before the stream starts. Over
    the process's stream limits: 503 with Retry-After, and a code and Persian message."""
    close_session()
    try:
        body = lobby_events.open_stream(
            current_app._get_current_object(), kind, key, office)  # type: ignore[attr-defined]
    except lobby_events.StreamRefused as refused:
        return _refused(refused)
    return Response(body, mimetype="text/event-stream", headers=STREAM_HEADERS)


def _refused(refused: lobby_events.StreamRefused) -> Response:
    response = jsonify(code=refused.code, message=refused.message)
    response.status_code = 503
    response.headers["Retry-After"] = str(int(current_app.config["STREAM_RETRY_AFTER_SECONDS"]))
    response.headers["Cache-Control"] = "no-store"
    return response


@bp.get("/display/<office>")
def display(office: str) -> str:
    rules = _lobby()
    spec = _office(rules, office)
    board = walk_in_queue.board(session(), rules, spec)
    return render_template("display.html", office=spec, board=board,
                           zone=rules.snapshot.calendar.timezone)


@bp.get("/display/<office>/events")
def display_events(office: str) -> Response:
    spec = _office(_lobby(), office)
    return _events(lobby_events.BOARD, spec.slug, spec.slug)


@bp.get("/q/<public_id>")
def ticket_page(public_id: str) -> str:
    ticket = _ticket(public_id)
    rules = _lobby()
    view = lobby_events.ticket_view(session(), rules, ticket)
    return render_template("ticket.html", ticket=ticket, view=view,
                           office=_office(rules, ticket.office_slug),
                           printing=request.args.get("print") == "1",
                           ticket_url=ticket_url(public_url(), ticket.public_id))


@bp.get("/q/<public_id>/events")
def ticket_events(public_id: str) -> Response:
    ticket = _ticket(public_id)
    return _events(lobby_events.TICKET, ticket.public_id, ticket.office_slug)


@bp.get("/q/<public_id>/qr.svg")
def ticket_qr(public_id: str) -> Response:
    ticket = _ticket(public_id)
    return qr_svg(ticket_url(public_url(), ticket.public_id))
